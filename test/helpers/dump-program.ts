/**
 * A plain-text dump of a bound program: how qpc understood a policy. Used as
 * the golden file of every example and standard library module.
 */
import type { Program } from '../../compiler/program.js';
import type { Item } from '../../compiler/syntax/ast.js';

function item(i: Item): string {
  switch (i.kind) {
    case 'RefItem':
      return `${i.key} ${i.target?.text ?? 'none'}`;
    case 'ValueItem':
      return `${i.key} ${i.value.text}`;
    case 'MemoryItem':
      return `memory ${i.memory.value}${i.max ? ` max ${i.max.value}` : ''}`;
    case 'CountItem':
      return `${i.key} ${i.value.value}`;
    case 'StringItem':
      return `${i.key} ${i.value ? JSON.stringify(i.value.value) : 'none'}`;
    case 'DeviceItem':
      return `device ${i.deviceClass.text}${i.id ? ` ${JSON.stringify(i.id.value)}` : ''}`;
    case 'FeatureItem':
      return `feature ${i.key.text} ${JSON.stringify(i.value.value)}`;
    case 'ServiceItem':
      return `service ${i.service.text} ${i.enabled ? 'on' : 'off'}`;
    case 'FlagItem':
      return i.flag;
    case 'NetworkItem':
      return `network ${i.mode.text}${i.via ? ` via ${i.via.text}` : ''}`;
    case 'AppItem':
      return `app ${i.name.text}${i.socks ? ` socks ${i.socks.mode}${i.socks.port ? ` ${i.socks.port.value}` : ''}${i.socks.isolate.length ? ` isolate ${i.socks.isolate.map((w) => w.text).join(' ')}` : ''}` : ''}`;
    case 'ListenerItem':
      return `listener ${i.listenerKind.text} ${i.from.value}${i.to ? `..${i.to.value}` : ''}${i.options.map((o) => ' ' + o.text).join('')}${i.isolate.length ? ` isolate ${i.isolate.map((w) => w.text).join(' ')}` : ''}`;
  }
}

export function dumpProgram(p: Program): string {
  const out: string[] = [`settings qubes ${p.settings.qubes} whonix ${p.settings.whonix} policy-file ${p.settings.policyFile}${p.settings.defaultDisposable !== undefined ? ` default-disposable ${p.settings.defaultDisposable ?? 'none'}` : ''}`];
  out.push(`files ${p.files.map((f) => f.source.path).join(' ')}`, '');
  for (const d of [...p.decls.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    out.push(`${d.form} ${d.name}${d.node.identity ? ` in ${d.node.identity.text}` : ''}  (${d.file}${d.amends.length ? `, amended ${d.amends.length}×` : ''})`);
    for (const i of d.items) out.push(`  ${item(i)}`);
  }
  out.push('');
  for (const r of p.rules) {
    const x = r.rule;
    const params = x.params.map((q) => (q.kind === 'EndpointParam' ? `${q.key} ${q.value.text}` : q.kind === 'UserParam' ? `user ${q.value.text}` : q.kind === 'FlagParam' ? q.flag : `because ${JSON.stringify(q.reason.value)}`));
    out.push(`rule ${r.policyFile}: ${x.action} ${x.service.text}${x.argument ? ' ' + x.argument.text : ''} from ${x.source.text} to ${x.target.text}${params.length ? ' ' + params.join(' ') : ''}`);
  }
  for (const q of p.requires) out.push(`require ${q.subject.text} ${q.relation} ${q.object.text}`);
  for (const e of p.expects) {
    const params = e.params.map((q) => (q.kind === 'UserParam' ? `user ${q.value.text}` : `${q.key} ${q.values.map((v) => v.text).join(', ')}`));
    out.push(`expect ${e.service.text}${e.argument ? e.argument.text : ''} from ${e.source.text} to ${e.target.text}: ${e.decision}${params.length ? ' ' + params.join(' ') : ''}`);
  }
  for (const w of p.waives) out.push(`waive ${w.code.text} on ${w.subject.text} because ${JSON.stringify(w.reason.value)}`);
  return out.join('\n') + '\n';
}
