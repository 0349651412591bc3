/**
 * The analyses of `qpc lint` over native policy files: dead rules across
 * files with both spans (SecureDrop Workstation 1.3.0's two dead
 * `deny qubes.USBAttach` rules, upstream pull request 1825), stock rules
 * another file covers, calls across the `anon-vm` boundary, dangerous grants,
 * and the note without system information.
 */
import test from 'ava';
import { lint } from '../../../../compiler/index.js';
import { analyseNative, nativeRuleText, type NativePolicy } from '../../../../compiler/native/analyse.js';
import type { Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';
import { nativeRules as rules, systemOf } from '../../../helpers/qrexec-rules.js';

const sdw = 'test/fixtures/snapshots/securedrop-like';

const info = systemOf({ name: 'anon', tags: ['anon-vm'] }, { name: 'gw', tags: ['anon-gateway'] }, { name: 'work' }, { name: 'vault' }, { name: 'dvm', templateForDispvms: true });

function analyse(rs: QrexecRule[], extra: Partial<NativePolicy> = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  analyseNative({ rules: rs, info, release: '4.2', ...extra }, { report: (d) => void out.push(d) });
  return out;
}

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code);

test('SecureDrop Workstation 1.3.0: the two deny qubes.USBAttach rules of 32-… never decide, and each names the ask of 31-… that does', (t) => {
  const r = lint([`${sdw}/policy.d`], { release: '4.2', systemInfo: sdw });
  const dead = r.diagnostics.filter((d) => d.code === 'QP6101');
  t.deepEqual(
    dead.map((d) => `${d.span!.file.replace(/^.*\//, '')}:${d.span!.line}`),
    ['32-securedrop-workstation.policy:36', '32-securedrop-workstation.policy:37'],
  );
  for (const d of dead) {
    t.regex(d.message, /^the rule `qubes\.USBAttach \* (@anyvm @tag:sd-workstation|@tag:sd-workstation @anyvm) deny` never decides/);
    t.is(d.related.length, 1);
    t.is(`${d.related[0].span!.file.replace(/^.*\//, '')}:${d.related[0].span!.line}`, '31-securedrop-workstation.policy:32');
  }
  t.false(r.diagnostics.some((d) => d.severity === 'error'), 'dom0 loads this policy');
});

test('a stock Qubes 4.2 with Whonix has no dead rule and no error, but its dialogs cross the anon-vm boundary', (t) => {
  const dir = 'test/fixtures/snapshots/qubes-4.2-whonix';
  const r = lint([`${dir}/policy.d`], { release: '4.2', systemInfo: dir });
  t.deepEqual(r.diagnostics.filter((d) => d.code === 'QP6101' || d.severity === 'error'), []);
  t.true(r.diagnostics.some((d) => d.code === 'QP6103' && /`qubes\.Filecopy`/.test(d.message)));
});

test('a rule covered by an earlier one in the same file says so; a rule that only overlaps is not dead', (t) => {
  const ds = analyse(rules('30-user', 'my.Sync * work @anyvm allow\nmy.Sync * work vault deny\nmy.Sync * @anyvm vault ask')).filter((d) => d.code === 'QP6101');
  t.deepEqual(codes(ds), ['QP6101']);
  t.is(ds[0].span!.line, 2);
  t.regex(ds[0].related[0].message, /earlier in this file/);
});

test('stock rules are not reported as dead; a rule of another file that covers them is information', (t) => {
  const ds = analyse([...rules('30-user', 'my.Sync * @anyvm @anyvm deny'), ...rules('90-default', 'my.Sync * work vault allow\nmy.Sync * vault work allow', true)]);
  t.deepEqual(codes(ds), ['QP6102']);
  t.is(ds[0].severity, 'info');
  t.regex(ds[0].message, /makes 2 stock rules unreachable/);
});

test('calls across the anon-vm boundary are reported once per rule, both ways together; inside the boundary and to dom0 not', (t) => {
  const ds = analyse(rules('30-user', 'qubes.Filecopy * @anyvm @anyvm ask\nqubes.VMShell * work dom0 allow'));
  const channels = ds.filter((d) => d.code === 'QP6103');
  t.is(channels.length, 1);
  t.regex(channels[0].message, /between `anon` \(tagged `anon-vm`\) and .*`work`.*both ways, when the user confirms the dialog/);
  t.deepEqual(analyse(rules('30-user', 'qubes.Filecopy * anon anon allow\nqubes.Filecopy * work vault allow')).filter((d) => d.code === 'QP6103'), []);
});

test('one way only: a call from the anonymous qube out', (t) => {
  const [d] = analyse(rules('30-user', 'qubes.OpenURL * anon work allow'));
  t.is(d.code, 'QP6103');
  t.is(d.message, '`qubes.OpenURL` is allowed from `anon` to `work`, across the `anon-vm` boundary');
});

test('Whonix\'s own services between a workstation and a gateway are no channel; to another qube they are', (t) => {
  t.deepEqual(analyse(rules('30-user', 'whonix.NewStatus * anon gw allow')), []);
  t.deepEqual(codes(analyse(rules('30-user', 'whonix.NewStatus * anon work allow'))), ['QP6103']);
});

test('dangerous grants: a shell in a disposable is none, in a qube it is; the clock is high only from an anonymous qube; denies never', (t) => {
  t.deepEqual(codes(analyse(rules('30-user', 'qubes.VMShell * work @dispvm allow'))), []);
  t.deepEqual(codes(analyse(rules('30-user', 'qubes.VMShell * work vault allow'))), ['QP6104']);
  t.deepEqual(codes(analyse(rules('30-user', 'qubes.GetDate * work dom0 allow'))), []);
  t.deepEqual(codes(analyse(rules('30-user', 'qubes.GetDate * anon dom0 allow'))), ['QP6104']);
  t.deepEqual(codes(analyse(rules('30-user', 'admin.vm.List * work dom0 deny'))), []);
  t.deepEqual(codes(analyse(rules('90-default', 'admin.vm.List * work dom0 allow', true))), [], 'a stock grant is Qubes\' own');
});

test('without system information: one note saying so, before the other findings', (t) => {
  const ds = analyse(rules('30-user', 'my.Sync * work vault deny'), { infoInferred: true });
  t.deepEqual(codes(ds), ['QP6105']);
  t.is(ds[0].span, undefined);
});

test('nativeRuleText writes a rule as its line reads, parameters in Qubes\' order', (t) => {
  const [r] = rules('30-user', 'qubes.ConnectTCP +22 work @default allow target=vault user=root');
  t.is(nativeRuleText(r), 'qubes.ConnectTCP +22 work @default allow target=vault user=root');
  t.is(nativeRuleText({ ...r, action: 'ask', redirect: undefined, user: undefined, defaultTarget: 'vault', notify: true, autostart: false }), 'qubes.ConnectTCP +22 work @default ask default_target=vault notify=yes autostart=no');
});
