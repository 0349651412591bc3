/**
 * A plain-text dump of a bound program: how qpc understood a policy. Used as
 * the golden file of every example and standard library module.
 */
import type { Program } from '../../compiler/program.js';
import { expectParam, item, rule } from '../../compiler/syntax/print.js';

export function dumpProgram(p: Program): string {
  const out: string[] = [`settings qubes ${p.settings.qubes} whonix ${p.settings.whonix} policy-file ${p.settings.policyFile}${p.settings.defaultDisposable !== undefined ? ` default-disposable ${p.settings.defaultDisposable ?? 'none'}` : ''}`];
  out.push(`files ${p.files.map((f) => f.source.path).join(' ')}`, '');
  for (const d of [...p.decls.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    out.push(`${d.form} ${d.name}${d.node.identity ? ` in ${d.node.identity.text}` : ''}  (${d.file}${d.amends.length ? `, amended ${d.amends.length}×` : ''})`);
    for (const i of d.items) out.push(`  ${item(i)}`);
  }
  out.push('');
  for (const r of p.rules) {
    out.push(`rule ${r.policyFile}: ${rule(r.rule)}`);
  }
  for (const q of p.requires) out.push(`require ${q.subject.text} ${q.relation} ${q.object.text}`);
  for (const e of p.expects) {
    const params = e.params.map(expectParam);
    out.push(`expect ${e.service.text}${e.argument ? e.argument.text : ''} from ${e.source.text} to ${e.target.text}: ${e.decision}${params.length ? ' ' + params.join(' ') : ''}`);
  }
  for (const w of p.waives) out.push(`waive ${w.code.text} on ${w.subject.text} because ${JSON.stringify(w.reason.value)}`);
  return out.join('\n') + '\n';
}
