/**
 * Hygiene: identities without qubes and templates nothing is based on
 * (QP2018, waivable). The standard library's declarations are exempt.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { Program } from '../program.js';
import { substitute } from './names.js';

export function checkUnused(program: Program, ctx: Reporter): void {
  const used = new Set<string>();
  for (const d of program.decls.values()) {
    if (d.node.identity) used.add(substitute(d.node.identity.text, program.settings.whonix));
    for (const i of d.items) if (i.kind === 'RefItem' && i.key === 'template' && i.target) used.add(substitute(i.target.text, program.settings.whonix));
  }
  for (const d of program.decls.values()) {
    if (d.std || used.has(d.name)) continue;
    if (d.form === 'identity') {
      ctx.report(diag('QP2018', d.node.name.span, { what: 'identity', name: d.name }, { help: `put a qube in it (\`qube NAME in ${d.name}\`) or remove it`, subject: d.name }));
    } else if (d.form === 'template') {
      ctx.report(diag('QP2018', d.node.name.span, { what: 'template', name: d.name }, { help: 'base a qube on it or remove it', subject: d.name }));
    }
  }
}
