/**
 * The snapshot reader on the two recorded snapshots (test/fixtures/snapshots/,
 * see its README for where every value comes from), and on damaged ones:
 * those give QP5001 diagnostics and the rest of the state, never an exception.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { nodeHost, type CompilerHost } from '../../../../compiler/host.js';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';
import { readSnapshot, readSystemInfo, readSystemInfoFile, systemInfoFromJson, systemInfoOf, type MachineState } from '../../../../compiler/snapshot/index.js';

const base = 'test/fixtures/snapshots/qubes-4.2-whonix';
const sdw = 'test/fixtures/snapshots/securedrop-like';

/** A host over the files of a recorded snapshot, with some replaced (undefined: missing). */
function hostWith(dir: string, changes: Readonly<Record<string, string | undefined>>): CompilerHost {
  return {
    readFile(p) {
      const rel = p.slice(dir.length + 1);
      if (Object.hasOwn(changes, rel)) {
        const v = changes[rel];
        if (v === undefined) throw new Error('no such file');
        return v;
      }
      return nodeHost.readFile(p);
    },
  };
}

test('the Qubes 4.2 + Whonix 17 snapshot reads without diagnostics', (t) => {
  const { state, diagnostics } = readSnapshot(base, nodeHost);
  t.deepEqual(diagnostics.map((d) => d.message), []);
  t.is(state.format, 1);
  t.is(state.release, 'Qubes release 4.2.3 (R4.2)');
  t.is(state.stateHash, readFileSync(`${base}/state.sha256`, 'utf8').trim());
  t.deepEqual([...state.qubes.keys()].length, 17);
  const gw = state.qubes.get('sys-whonix')!;
  t.like(gw, { class: 'AppVM', template: 'whonix-gateway-17', netvm: 'sys-firewall', providesNetwork: true, running: true, label: 'black' });
  t.deepEqual(state.qubes.get('anon-whonix')!.tags, ['anon-vm', 'audiovm-dom0', 'created-by-dom0', 'guivm-dom0']);
  t.is(state.qubes.get('vault')!.netvm, null);
  t.deepEqual(state.qubes.get('vault')!.prefs.get('netvm'), { value: 'None', isDefault: false });
  t.deepEqual(state.qubes.get('personal')!.prefs.get('netvm'), { value: 'sys-firewall', isDefault: true });
  t.deepEqual([...state.qubes.get('sys-net')!.services], [['clocksync', true], ['meminfo-writer', false], ['minimal-netvm', true]]);
  t.is(state.qubes.get('default-mgmt-dvm')!.features.get('internal'), '1');
  t.deepEqual(state.qubes.get('sys-usb')!.devices.map((d) => [d.devclass, d.device, [...d.options]]), [['pci', 'dom0:00_14.0', [['no-strict-reset', 'True']]]]);
  t.deepEqual(state.qubes.get('sys-net')!.devices.map((d) => d.device), ['dom0:00_14.3']);
  t.is(state.globalPrefs.get('default_netvm')?.value, 'sys-firewall');
  t.deepEqual(
    state.policy.map((f) => f.path),
    ['35-compat.policy', '50-config-input.policy', '50-config-updates.policy', '80-whonix.policy', '85-admin-backup-restore.policy', '90-admin-default.policy', '90-admin-policy-default.policy', '90-default-gui-daemon.policy', '90-default-linux.policy', '90-default.policy', 'README', 'include/admin-global-ro', 'include/admin-global-rwx', 'include/admin-local-ro', 'include/admin-local-rwx', 'include/admin-policy-ro', 'include/admin-policy-rwx'],
  );
  t.deepEqual([...state.whonix.keys()], ['sys-whonix']);
  t.deepEqual([...state.whonix.get('sys-whonix')!.torrc], [['50_user.conf', '']]);
  t.deepEqual(state.skippedGateways, []);
});

test('the SecureDrop-like snapshot: its qubes, tags, both policy files, and the halted gateway it skipped', (t) => {
  const { state, diagnostics } = readSnapshot(sdw, nodeHost);
  t.deepEqual(diagnostics.map((d) => d.message), []);
  t.like(state.qubes.get('sd-proxy')!, { class: 'DispVM', template: 'sd-proxy-dvm', netvm: 'sd-whonix', defaultDispvm: null });
  t.deepEqual(state.qubes.get('sd-viewer')!.tags, ['audiovm-dom0', 'created-by-dom0', 'guivm-dom0', 'sd-bookworm', 'sd-viewer-vm', 'sd-workstation']);
  t.is(state.globalPrefs.get('default_dispvm')?.value, 'sd-viewer');
  const sd = state.policy.filter((f) => f.path.includes('securedrop'));
  t.deepEqual(sd.map((f) => f.path), ['31-securedrop-workstation.policy', '32-securedrop-workstation.policy']);
  t.true(sd[0]!.text.includes('qubes.USBAttach'));
  t.deepEqual(state.skippedGateways, ['sd-whonix: not running']);
  t.false(state.whonix.has('sd-whonix'));
});

test('a snapshot is deeply read-only', (t) => {
  const { state } = readSnapshot(base, nodeHost);
  t.throws(() => (state.qubes as Map<string, unknown>).delete('vault'), { instanceOf: TypeError });
  t.throws(() => (state.qubes.get('vault')!.features as Map<string, string>).set('internal', '1'), { instanceOf: TypeError });
  t.throws(() => { (state.qubes.get('vault') as { netvm: string | null }).netvm = 'sys-firewall'; }, { instanceOf: TypeError });
  t.throws(() => { (state.policy as unknown as string[]).push('x'); }, { instanceOf: TypeError });
});

test('systemInfoOf gives what internal.GetSystemInfo reports, and the evaluator uses it', (t) => {
  const { state } = readSnapshot(base, nodeHost);
  const info = systemInfoOf(state);
  t.deepEqual(info.domains.get('whonix-workstation-17-dvm'), { name: 'whonix-workstation-17-dvm', type: 'AppVM', tags: ['anon-vm', 'audiovm-dom0', 'created-by-dom0', 'guivm-dom0'], defaultDispvm: 'whonix-workstation-17-dvm', templateForDispvms: true, running: false });
  t.deepEqual(info.domains.get('personal'), { name: 'personal', type: 'AppVM', tags: ['audiovm-dom0', 'created-by-dom0', 'guivm-dom0'], defaultDispvm: 'default-dvm', defaultDispvmIsDefault: true, templateForDispvms: false, running: false });
  t.is(info.domains.get('default-mgmt-dvm')?.internal, '1');
  // 50-config-updates.policy of the snapshot: the Whonix templates (tag whonix-updatevm) update through sys-whonix, others are denied.
  const origin = { policyFile: '50-config-updates', stock: false } as QrexecRule['origin'];
  const rules: QrexecRule[] = [
    { service: 'qubes.UpdatesProxy', argument: '*', source: '@tag:whonix-updatevm', target: '@default', action: 'allow', redirect: 'sys-whonix', origin },
    { service: 'qubes.UpdatesProxy', argument: '*', source: '@tag:whonix-updatevm', target: '@anyvm', action: 'deny', origin },
  ];
  const ask = (source: string) => evaluate(rules, info, { service: 'qubes.UpdatesProxy', argument: '+', source, target: '@default' }, '4.2');
  t.like(ask('whonix-gateway-17'), { action: 'allow', target: 'sys-whonix' });
  t.like(ask('whonix-workstation-17'), { action: 'allow', target: 'sys-whonix' });
  t.is(ask('fedora-40-xfce').rule, undefined);
});

test('systemInfoFromJson reads the JSON of internal.GetSystemInfo, as the snapshot gives it', (t) => {
  const { state } = readSnapshot(base, nodeHost);
  const json = { domains: Object.fromEntries([...state.qubes.values()].map((q) => [q.name, { tags: q.tags, type: q.class, template_for_dispvms: q.templateForDispvms, default_dispvm: q.defaultDispvm, icon: `appvm-${q.label}`, power_state: q.running ? 'Running' : 'Halted', ...(q.features.has('internal') ? { internal: q.features.get('internal') } : {}) }])) };
  const info = systemInfoFromJson(JSON.stringify(json));
  t.false('error' in info);
  if ('error' in info) return;
  const fromSnap = systemInfoOf(state);
  for (const [n, d] of fromSnap.domains) {
    const { defaultDispvmIsDefault: _dropped, ...rest } = d;
    t.deepEqual(info.domains.get(n), rest, n);
  }
  const bad = systemInfoFromJson('{');
  t.regex('error' in bad ? bad.error : '', /^not JSON: /);
  t.deepEqual(systemInfoFromJson('[]'), { error: 'no "domains" object' });
  t.deepEqual(systemInfoFromJson('{"domains":{"a":{}}}'), { error: 'domain "a" has no "type"' });
});

test('a missing directory gives diagnostics, not an exception', (t) => {
  const { diagnostics } = readSnapshot('test/fixtures/snapshots/no-such', nodeHost);
  t.true(diagnostics.length > 0);
  t.true(diagnostics.every((d) => d.code === 'QP5001'));
});

const messages = (state: { diagnostics: readonly { message: string }[] }) => state.diagnostics.map((d) => d.message);

test('damaged pieces are named, and the rest is read', (t) => {
  const qvmLs = readFileSync(`${base}/qvm-ls.txt`, 'utf8');
  // A file changed after the manifest was written: the drift check's hash no longer holds.
  const r1 = readSnapshot(base, hostWith(base, { 'qvm-ls.txt': qvmLs.replace('vault|AppVM|Halted|black', 'vault|AppVM|Halted|red') }));
  t.deepEqual(messages(r1), [`cannot read \`${base}/qvm-ls.txt\`: its sha256 differs from the manifest \`files.sha256\``]);
  t.is(r1.state.qubes.size, 17);
  // A missing qube file, a bad header, a garbled state hash, a binary file.
  const r2 = readSnapshot(base, hostWith(base, { 'qubes/work.tags': undefined, version: 'qpc-snapshot 9\n', 'state.sha256': 'x\n', 'qubes-prefs.txt': 'a\0b' }));
  t.deepEqual(messages(r2).sort(), [
    `cannot read \`${base}/qubes-prefs.txt\`: holds NUL characters: not a snapshot file`,
    `cannot read \`${base}/qubes/work.tags\`: no such file`,
    `cannot read \`${base}/state.sha256\`: does not match the manifest \`files.sha256\``,
    `cannot read \`${base}/version\`: format 9, this qpc reads format 1`,
  ]);
  t.deepEqual(r2.state.qubes.get('work')!.tags, []);
  t.is(r2.state.qubes.get('personal')!.template, 'fedora-40-xfce');
  // A manifest line that leaves the directory is refused.
  const r3 = readSnapshot(base, hostWith(base, { 'files.sha256': `${'0'.repeat(64)}  ../../etc/passwd\n` }));
  t.true(messages(r3).some((m) => m.includes('not a manifest line')));
});

test('any text in any snapshot file gives diagnostics, never an exception', (t) => {
  const names = ['version', 'files.sha256', 'state.sha256', 'qvm-ls.txt', 'qubes-prefs.txt', 'qubes/sys-net.prefs', 'qubes/sys-net.features', 'qubes/sys-net.services', 'devices/pci.txt', 'whonix/skipped'];
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.string({ unit: 'binary', maxLength: 300 }), (name, text) => {
      const r = readSnapshot(base, hostWith(base, { [name]: text }));
      return r.state !== undefined && r.diagnostics.every((d) => d.code === 'QP5001');
    }),
    { numRuns: 300 },
  );
  t.pass();
});

export type { MachineState };

test('readSystemInfoFile: the JSON read through the host, or QP5001 naming the file and why', (t) => {
  const files = new Map([['ok.json', '{"domains": {"dom0": {"type": "AdminVM", "tags": []}, "work": {"type": "AppVM", "tags": ["t"]}}}'], ['bad.json', '{"domains": 3}']]);
  const host: CompilerHost = {
    readFile: (p) => {
      const text = files.get(p);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
      return text;
    },
  };
  const ok = readSystemInfoFile('ok.json', host);
  t.deepEqual(ok.diagnostics, []);
  t.deepEqual(ok.info?.domains.get('work')?.tags, ['t']);
  for (const p of ['bad.json', 'missing.json']) {
    const r = readSystemInfoFile(p, host);
    t.is(r.info, undefined);
    t.deepEqual(r.diagnostics.map((d) => d.code), ['QP5001']);
    t.true(r.diagnostics[0].message.includes(p));
  }
});

test('readSystemInfo: a snapshot directory gives its qubes; another directory is QP5001', (t) => {
  const r = readSystemInfo('test/fixtures/snapshots/securedrop-like', nodeHost);
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  t.true(r.info?.domains.get('sd-app')?.tags.includes('sd-workstation'));
  const not = readSystemInfo('test/fixtures', nodeHost);
  t.is(not.info, undefined);
  t.deepEqual(not.diagnostics.map((d) => d.code), ['QP5001']);
});
