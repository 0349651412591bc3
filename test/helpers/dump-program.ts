/**
 * A plain-text dump of a bound program: how qpc understood a policy. Used as
 * the golden file of every example and standard library module.
 */
import type { Program } from '../../compiler/program.js';
import { expectParam, item, rule } from '../../compiler/syntax/print.js';
import { showPath, type PolicyGraph } from '../../compiler/graph/policy-graph.js';
import type { Allocation } from '../../compiler/passes/allocate-socks.js';

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

/** Routes, effective netvms and disposables, and SOCKS assignments: the network model of a policy. */
export function dumpNetwork(g: PolicyGraph, a: Allocation | undefined): string {
  const out: string[] = [];
  for (const f of [...g.allFacts()].sort((x, y) => (x.decl.name < y.decl.name ? -1 : 1))) {
    const r = g.route(f.decl.name);
    const extra = [f.identity ? `identity ${f.identity.name} (${f.mode})` : undefined, f.template ? `template ${f.template.name}` : undefined, f.defaultDisposable !== undefined ? `default-disposable ${f.defaultDisposable ?? 'none'}` : undefined].filter(Boolean);
    out.push(`${f.decl.form} ${f.decl.name}: ${showPath(r.path)}${r.reachesNetwork ? '' : r.loops ? ' (loop)' : ' (offline)'}${extra.length ? '  ' + extra.join(', ') : ''}`);
  }
  out.push('');
  for (const x of a?.apps ?? []) out.push(`socks ${x.qube}/${x.app}: ${x.mode} ${x.gateway}:${x.port}${x.isolate.length ? ' isolate ' + x.isolate.join(' ') : ''}`);
  for (const l of a?.listeners ?? []) out.push(`listener ${l.gateway}:${l.port}${l.isolate.length ? ' isolate ' + l.isolate.join(' ') : ''}`);
  return out.join('\n') + '\n';
}
