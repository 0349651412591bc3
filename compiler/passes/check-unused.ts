/**
 * Hygiene: identities without qubes and templates nothing is based on
 * (QP2018, waivable). The standard library's declarations are exempt, and
 * so is every declaration of a kind that a reference which does not bind
 * was meant to name: that reference may be its use.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { DeclKind, Program } from '../program.js';
import { substitute } from './names.js';

export function checkUnused(program: Program, ctx: Reporter): void {
  const used = new Set<string>();
  /** Kinds a reference that names no declaration of its kind was meant for. */
  const unsure = new Set<DeclKind>();
  const use = (text: string, kind: DeclKind) => {
    const name = substitute(text, program.settings.whonix);
    used.add(name);
    if (program.decls.get(name)?.form !== kind) unsure.add(kind);
  };
  for (const d of program.decls.values()) {
    if (d.node.identity) use(d.node.identity.text, 'identity');
    for (const i of d.items) if (i.kind === 'RefItem' && i.key === 'template' && i.target) use(i.target.text, d.form === 'named-disposable' ? 'disposable' : 'template');
  }
  for (const a of program.files.flatMap((f) => f.ast.statements)) {
    // An amendment of an unknown qube (QP2001) may have given it its template.
    if (a.kind === 'Declaration' && a.form === 'amend' && !program.decls.has(substitute(a.name.text, program.settings.whonix)) && a.items.some((i) => i.kind === 'RefItem' && i.key === 'template')) unsure.add('template');
  }
  for (const d of program.decls.values()) {
    if (d.std || used.has(d.name) || unsure.has(d.form)) continue;
    if (d.form === 'identity') {
      ctx.report(diag('QP2018', d.node.name.span, { what: 'identity', name: d.name }, { help: `put a qube in it (\`qube NAME in ${d.name}\`) or remove it`, subject: d.name }));
    } else if (d.form === 'template') {
      ctx.report(diag('QP2018', d.node.name.span, { what: 'template', name: d.name }, { help: 'base a qube on it or remove it', subject: d.name }));
    }
  }
}
