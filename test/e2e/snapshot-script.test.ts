/**
 * The snapshot script end to end: `qpc snapshot -o` writes it, dash runs it
 * against stand-in dom0 tools (test/fixtures/snapshots/standin/dom0-tool)
 * that answer from a recorded snapshot, and reading what it wrote gives the
 * recorded MachineState back.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { nodeHost } from '../../compiler/host.js';
import { readSnapshot } from '../../compiler/snapshot/index.js';
import { run, toolTest } from '../helpers/tools.js';

const standin = path.resolve('test/fixtures/snapshots/standin/dom0-tool');
const tools = ['qvm-ls', 'qubes-prefs', 'qvm-prefs', 'qvm-tags', 'qvm-features', 'qvm-service', 'qvm-device', 'qvm-run'];

/** Writes the script with the command line and runs it under dash against `recorded`. */
function collect(recorded: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string; out: string; log: string[] } {
  const tmp = mkdtempSync(path.join(tmpdir(), 'qpc-snapshot-'));
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  for (const tool of tools) symlinkSync(standin, path.join(bin, tool));
  const script = path.join(tmp, 'snapshot.sh');
  const w = run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'snapshot', '-o', script]);
  if (w.status !== 0) throw new Error(w.stderr);
  const out = path.join(tmp, 'out');
  const logFile = path.join(tmp, 'log');
  writeFileSync(logFile, '');
  // The ownership record is read from QPC_STATE_DIR/owned: the recorded snapshot's own copy.
  const r = run('dash', [script, ...args, out], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, QPC_SNAPSHOT: path.resolve(recorded), QPC_SNAPSHOT_LOG: logFile, QPC_POLICY_DIR: path.resolve(recorded, 'policy.d'), QPC_STATE_DIR: path.resolve(recorded), ...env } });
  return { ...r, out, log: readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '') };
}

/** The state without the header's date and the hash (which covers the manifest only, so it must agree too). */
function comparable(dir: string) {
  const r = readSnapshot(dir, nodeHost);
  const { date: _date, ...rest } = r.state;
  return { state: rest, diagnostics: r.diagnostics };
}

for (const name of ['qubes-4.2-whonix', 'securedrop-like', 'plan-owned']) {
  const recorded = `test/fixtures/snapshots/${name}`;
  toolTest(`${name}: the script under dash reproduces the recorded state`, ['dash'], (t) => {
    const release = path.join(mkdtempSync(path.join(tmpdir(), 'qpc-release-')), 'qubes-release');
    writeFileSync(release, `${comparable(recorded).state.release}\n`);
    const r = collect(recorded, [], { QPC_RELEASE_FILE: release });
    t.is(r.status, 0, r.stderr);
    t.is(r.stderr, '');
    const got = comparable(r.out);
    const want = comparable(recorded);
    t.deepEqual(got.diagnostics, []);
    t.deepEqual(want.diagnostics, []);
    if (want.state.ownership.status === 'not-recorded') {
      // Recorded before snapshots held the ownership record: the machine has none.
      t.deepEqual(got.state.ownership, { status: 'absent', items: [] });
      const { ownership: _g, stateHash: _gh, manifest: _gm, ...gotRest } = got.state;
      const { ownership: _w, stateHash: _wh, manifest: _wm, ...wantRest } = want.state;
      t.deepEqual(gotRest, wantRest);
    } else {
      t.true(want.state.ownership.items.length > 0);
      t.deepEqual(got.state, want.state);
      t.regex(r.stdout, new RegExp(`^snapshot written to .* \\(state ${want.state.stateHash}\\)\\n`));
    }
    // Read-only: only listing tools, and qvm-run never starts a qube unless asked.
    t.true(r.log.every((l) => /^(qvm-ls --raw-data --fields |qubes-prefs $|qvm-prefs [a-z]|qvm-tags \S+ list$|qvm-features [a-z]|qvm-service [a-z]|qvm-device \w+ list$|qvm-run --pass-io --no-gui --quiet --no-autostart [a-z])/.test(l)), r.log.join('\n'));
  });
}

toolTest('a halted gateway is skipped and said so; --start-gateways reads it', ['dash'], (t) => {
  const recorded = 'test/fixtures/snapshots/securedrop-like';
  const r = collect(recorded);
  t.regex(r.stdout, /\nnot read \(--start-gateways starts halted gateways\):\n {2}sd-whonix: not running\n$/);
  t.false(r.log.some((l) => l.startsWith('qvm-run ') && l.includes(' sd-whonix ')));
  const s = collect(recorded, ['--start-gateways']);
  t.is(s.status, 0, s.stderr);
  t.true(s.log.some((l) => l.startsWith('qvm-run --pass-io --no-gui --quiet --autostart sd-whonix ')));
  t.deepEqual(readSnapshot(s.out, nodeHost).state.skippedGateways, []);
  // The header says the gateways were started, and the qubes are listed again after.
  t.true(readSnapshot(s.out, nodeHost).state.startedGateways);
  t.false(readSnapshot(r.out, nodeHost).state.startedGateways);
  t.is(s.log.filter((l) => l.startsWith('qvm-ls ')).length, 2);
  t.is(r.log.filter((l) => l.startsWith('qvm-ls ')).length, 1);
  // Without /etc/qubes-release (not a Qubes machine), the header says so.
  t.is(readSnapshot(s.out, nodeHost).state.release, 'unknown');
});

toolTest('the script refuses a directory that is not empty, and bad arguments', ['dash'], (t) => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'qpc-snapshot-'));
  const w = run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'snapshot']);
  t.is(w.status, 0);
  writeFileSync(path.join(tmp, 'snapshot.sh'), w.stdout);
  writeFileSync(path.join(tmp, 'keep'), 'x');
  const r = run('dash', [path.join(tmp, 'snapshot.sh'), tmp]);
  t.is(r.status, 1);
  t.regex(r.stderr, /is not empty/);
  t.deepEqual(readdirSync(tmp).sort(), ['keep', 'snapshot.sh']);
  t.is(run('dash', [path.join(tmp, 'snapshot.sh')]).status, 2);
  t.is(run('dash', [path.join(tmp, 'snapshot.sh'), '--bogus', tmp]).status, 2);
  t.is(run('dash', [path.join(tmp, 'snapshot.sh'), 'a', 'b']).status, 2);
});

toolTest('names a gateway lists are read only when they are plain file names', ['dash'], (t) => {
  const names = path.join(mkdtempSync(path.join(tmpdir(), 'qpc-names-')), 'names');
  writeFileSync(names, '../../../escape\n.hidden\nwith space\nmissing.conf\n');
  const r = collect('test/fixtures/snapshots/qubes-4.2-whonix', [], { QPC_FAKE_GATEWAY_NAMES: names });
  t.is(r.status, 0, r.stderr);
  const reads = r.log.filter((l) => l.includes('head -c')).map((l) => l.slice(l.indexOf('/usr/local/etc/')));
  t.deepEqual(reads, ['/usr/local/etc/torrc.d/50_user.conf', '/usr/local/etc/torrc.d/missing.conf', '/usr/local/etc/whonix_firewall.d/missing.conf']);
  const s = readSnapshot(r.out, nodeHost);
  t.deepEqual(s.diagnostics, []);
  t.deepEqual([...s.state.whonix.get('sys-whonix')!.torrc.keys()], ['50_user.conf']);
  t.deepEqual(s.state.skippedGateways, [
    'sys-whonix: torrc.d/..?..?..?escape not read (not a plain file name)',
    'sys-whonix: torrc.d/.hidden not read (not a plain file name)',
    'sys-whonix: torrc.d/with?space not read (not a plain file name)',
    'sys-whonix: torrc.d/missing.conf could not be read',
    'sys-whonix: whonix_firewall.d/..?..?..?escape not read (not a plain file name)',
    'sys-whonix: whonix_firewall.d/.hidden not read (not a plain file name)',
    'sys-whonix: whonix_firewall.d/with?space not read (not a plain file name)',
    'sys-whonix: whonix_firewall.d/missing.conf could not be read',
  ]);
});

toolTest('a device class the machine does not have is recorded as unavailable, and the rest is collected', ['dash'], (t) => {
  const r = collect('test/fixtures/snapshots/qubes-4.2-whonix', [], { QPC_FAKE_NO_DEVCLASS: 'mic' });
  t.is(r.status, 0, r.stderr);
  t.is(readFileSync(path.join(r.out, 'devices/unavailable'), 'utf8'), 'mic\n');
  const s = readSnapshot(r.out, nodeHost);
  t.deepEqual(s.diagnostics, []);
  t.is(s.state.qubes.get('sys-usb')!.devices.length, 1);
});

toolTest('the ownership record: a copy when there is one, otherwise why not; never a link followed', ['dash'], (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'qpc-state-'));
  const none = collect('test/fixtures/snapshots/qubes-4.2-whonix', [], { QPC_STATE_DIR: path.join(state, 'missing') });
  t.is(none.status, 0, none.stderr);
  t.is(readFileSync(path.join(none.out, 'owned.unread'), 'utf8'), 'absent\n');
  t.false(readdirSync(none.out).includes('owned'));
  t.deepEqual(readSnapshot(none.out, nodeHost).state.ownership, { status: 'absent', items: [] });
  // An empty record is a record: no item, not "absent".
  writeFileSync(path.join(state, 'owned'), '');
  const empty = collect('test/fixtures/snapshots/qubes-4.2-whonix', [], { QPC_STATE_DIR: state });
  t.is(readFileSync(path.join(empty.out, 'owned'), 'utf8'), '');
  t.false(readdirSync(empty.out).includes('owned.unread'));
  t.deepEqual(readSnapshot(empty.out, nodeHost).diagnostics, []);
  t.deepEqual(readSnapshot(empty.out, nodeHost).state.ownership, { status: 'recorded', items: [] });
  // A link (provision.sh refuses one): not read.
  const linked = mkdtempSync(path.join(tmpdir(), 'qpc-state-'));
  symlinkSync(path.resolve('test/fixtures/snapshots/plan-owned/owned'), path.join(linked, 'owned'));
  const link = collect('test/fixtures/snapshots/qubes-4.2-whonix', [], { QPC_STATE_DIR: linked });
  t.is(readFileSync(path.join(link.out, 'owned.unread'), 'utf8'), 'not a regular file\n');
  t.regex(link.stdout, /^qpc's ownership record \S+\/owned not read: not a regular file \(provision\.sh refuses to run until it is one\)$/m);
  t.notRegex(none.stdout, /ownership record/, 'a machine without a record: nothing to say');
  t.deepEqual(readSnapshot(link.out, nodeHost).state.ownership, { status: 'unread', reason: 'not a regular file', items: [] });
});

test('qpc snapshot takes no arguments', (t) => {
  const r = run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'snapshot', 'dir']);
  t.is(r.status, 2);
  t.regex(r.stderr, /`qpc snapshot` takes no arguments/);
});

toolTest('shellcheck: the script qpc snapshot writes, and the stand-in tools', ['shellcheck'], (t) => {
  const w = run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'snapshot']);
  const sc = run('shellcheck', ['--severity=style', '-s', 'sh', '-'], { input: w.stdout });
  t.is(sc.status, 0, sc.stdout + sc.stderr);
  const st = run('shellcheck', ['--severity=style', '-s', 'sh', standin]);
  t.is(st.status, 0, st.stdout + st.stderr);
});
