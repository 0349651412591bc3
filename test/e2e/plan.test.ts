/**
 * `qpc plan` end to end: the command run as a process over the sources,
 * against the recorded snapshot, against a machine provisioned from the
 * policy (written as a snapshot directory, and recorded again by the real
 * snapshot script under dash from stand-in dom0 tools), and against a system
 * info; Terraform's exit codes (0 nothing would change, 2 something would,
 * 1 an error).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { nodeHost, readSnapshot, systemInfoOf } from '../../compiler/index.js';
import { run, toolTest } from '../helpers/tools.js';
import { basePolicy, fixture, laterPolicy, planText, provisioned, recorded, withPolicyFile, writeSnapshot } from '../unit/compiler/plan/machine.js';
import { seed } from '../unit/compiler/plan/dom0.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'qpc-plan-'));
// The name the unit tests plan it under: the artifacts' headers name it.
const policy = path.join(tmp, 'plan-test.qpol');
writeFileSync(policy, basePolicy);

const qpc = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'plan', ...args]);

const { view, source } = recorded('qubes-4.2-whonix');
const done = withPolicyFile(provisioned(planText(basePolicy, view, source)), '60-user.policy', 'qubes.Gpg * work @default deny\n');
const provisionedDir = path.join(tmp, 'provisioned');
writeSnapshot(done, provisionedDir);

test('the recorded machine: the plan of what would change, exit 2, and no lock file written', (t) => {
  const r = qpc(policy, '--snapshot', fixture('qubes-4.2-whonix'));
  t.is(r.status, 2, r.stderr);
  t.regex(r.stdout, /^  \+ anon-chat {2}\(create: AppVM, template whonix-workstation-17, label red\)$/m);
  t.regex(r.stdout, /^Plan: 2 qubes to create, /m);
  t.false(existsSync(`${policy}.lock`), 'plan writes nothing');
  t.regex(r.stderr, /plan-test\.qpol\.lock would change: the plan uses the SOCKS ports `qpc compile` allocates and records there/);
});

test('a snapshot written from the provisioned machine reads back without a finding', (t) => {
  const r = readSnapshot(provisionedDir, nodeHost);
  t.deepEqual(r.diagnostics, []);
  t.deepEqual([...r.state.qubes.keys()].sort(), Object.keys(done.qubes).sort());
});

test('a machine provisioned from the policy: no changes, exit 0', (t) => {
  const r = qpc(policy, '--snapshot', provisionedDir);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^No changes: the machine is as the policy says\.$/m);
  t.regex(r.stdout, /not qpc's: .*60-user\.policy/);
});

/**
 * The machine `machine` (a recorded snapshot the stand-in dom0 tools answer
 * from, its policy.d and ownership record included) recorded again by the
 * snapshot script itself, run under dash: the directory it wrote.
 */
function recordWithScript(t: ExecutionContext, machine: string): string {
  const dir = mkdtempSync(path.join(tmp, 'collect-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const standin = path.resolve('test/fixtures/snapshots/standin/dom0-tool');
  for (const tool of ['qvm-ls', 'qubes-prefs', 'qvm-prefs', 'qvm-tags', 'qvm-features', 'qvm-service', 'qvm-device', 'qvm-run']) symlinkSync(standin, path.join(bin, tool));
  const script = path.join(dir, 'snapshot.sh');
  const w = run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'snapshot', '-o', script]);
  t.is(w.status, 0, w.stderr);
  const out = path.join(dir, 'out');
  writeFileSync(path.join(dir, 'log'), '');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, QPC_SNAPSHOT: machine, QPC_SNAPSHOT_LOG: path.join(dir, 'log'), QPC_POLICY_DIR: path.join(machine, 'policy.d'), QPC_STATE_DIR: machine };
  const c = run('dash', [script, out], { env });
  t.is(c.status, 0, c.stderr);
  return out;
}

toolTest('the provisioned machine recorded by the snapshot script itself: still no changes', ['dash'], (t) => {
  const out = recordWithScript(t, path.resolve(provisionedDir));
  t.true(readdirSync(out).includes('state.sha256'));
  const r = qpc(policy, '--snapshot', out);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^No changes/m);
  // The provisioned machine's snapshot holds no record: the script says the machine has none.
  t.regex(r.stdout, /^ownership record \/var\/lib\/qpc\/owned: none on the machine/m);
});

// plan-owned: the machine provision.sh left, with the ownership record it wrote (test/unit/compiler/plan/fixture.test.ts).
const later = path.join(tmp, 'later.qpol');
writeFileSync(later, laterPolicy.replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office { template fedora-40-xfce }'));

toolTest('a provisioned qube moved out of its Tor identity: the plan takes back the Whonix tag provisioning added', ['dash'], (t) => {
  // Recorded by the snapshot script itself, from the stand-in tools and the fixture's record.
  const out = recordWithScript(t, path.resolve(fixture('plan-owned')));
  const r = qpc(later, '--snapshot', out);
  t.is(r.status, 2, r.stdout + r.stderr);
  const anonWeb = /^ {2}~ anon-web\n((?: {6}.*\n)*)/m.exec(r.stdout)?.[1] ?? '';
  t.regex(anonWeb, /^ {6}- tag anon-vm {3}\(qpc added it; the policy no longer has it\)$/m);
  t.regex(anonWeb, /^ {6}- tag identity-anon$/m);
  t.regex(r.stdout, /^ {6}- tag mine {3}\(qpc added it; the policy no longer has it\)$/m);
  t.regex(r.stdout, /^ {2}- anon-chat:\/usr\/local\/bin\/qpc-hexchat {2}\(qpc pushed it, as its ownership record says/m);
  t.regex(r.stdout, /^ {2}left: \/etc\/qubes\/policy\.d\/41-gone\.policy: qpc installed it and the policy no longer has it, but it was changed since/m);
  t.notRegex(r.stdout, /\/var\/lib\/qpc\/owned, and the snapshot/);
  const j = JSON.parse(qpc(later, '--snapshot', out, '--format', 'json').stdout) as { patches: { op: string; path: string[] }[]; record: { status: string; stale: number } };
  t.true(j.patches.some((p) => p.op === 'remove' && p.path.join('/') === 'qubes/anon-web/tags/anon-vm'));
  // The 9 stale items of the later policy, and anon-web's two Tor tags.
  t.like(j.record, { status: 'recorded', stale: 11 });
});

test('--format json: the plan as one JSON document, exit 2', (t) => {
  const r = qpc(policy, '--snapshot', fixture('qubes-4.2-whonix'), '--format', 'json');
  t.is(r.status, 2, r.stderr);
  const j = JSON.parse(r.stdout) as { format: string; changes: boolean; patches: { op: string; path: string[] }[] };
  t.is(j.format, 'qpc-plan 1');
  t.true(j.changes);
  t.true(j.patches.some((p) => p.op === 'add' && p.path.join('/') === 'qubes/anon-chat'));
});

test('--system-info FILE: the qrexec part alone', (t) => {
  const info = systemInfoOf(readSnapshot(fixture('qubes-4.2-whonix'), nodeHost).state);
  const domains = Object.fromEntries([...info.domains].map(([n, d]) => [n, { type: d.type, tags: d.tags, default_dispvm: d.defaultDispvm, template_for_dispvms: d.templateForDispvms }]));
  const file = path.join(tmp, 'system-info.json');
  writeFileSync(file, JSON.stringify({ domains }));
  const r = qpc(policy, '--system-info', file);
  t.is(r.status, 2, r.stderr);
  t.regex(r.stdout, /^  \+ anon-chat/m);
  t.notRegex(r.stdout, /qrexec policy files/);
  t.regex(r.stdout, /a system info records qubes/);
});

test('errors exit 1: a policy with an error, a snapshot that is not one, no machine, a problem that stops provision.sh', (t) => {
  const bad = path.join(tmp, 'bad.qpol');
  writeFileSync(bad, 'qube x in nowhere {}\n');
  const r1 = qpc(bad, '--snapshot', fixture('qubes-4.2-whonix'));
  t.is(r1.status, 1);
  t.is(r1.stdout, '');
  t.regex(r1.stderr, /error\[QP/);
  const r2 = qpc(policy, '--snapshot', tmp);
  t.is(r2.status, 1);
  t.regex(r2.stderr, /QP5001/);
  const r3 = qpc(policy);
  t.is(r3.status, 1, 'a usage error is 1, never the 2 of "something would change"');
  t.regex(r3.stderr, /--snapshot DIR` or `--system-info FILE/);
  const blocked = path.join(tmp, 'blocked.qpol');
  writeFileSync(blocked, basePolicy.replace(/whonix 17/, 'whonix 18').replace(/-17\b/g, '-18'));
  const r4 = qpc(blocked, '--snapshot', fixture('qubes-4.2-whonix'));
  t.is(r4.status, 1);
  t.regex(r4.stdout, /provision\.sh would stop before it changes anything:\n {2}! qube whonix-gateway-18 does not exist/);
});

test('-o PLAN: the plan printed and written as the plan file provision.sh --plan reads; not from a system info', (t) => {
  const file = path.join(tmp, 'plan-file');
  const r = qpc(policy, '--snapshot', fixture('qubes-4.2-whonix'), '-o', file);
  t.is(r.status, 2, r.stderr);
  const text = readFileSync(file, 'utf8');
  t.is(text.split('\n')[0], 'qpc-plan-file 1');
  t.regex(text, /^state [0-9a-f]{64}$/m);
  t.true(text.includes(r.stdout.split('\n').map((l) => `text ${l}`).slice(0, 3).join('\n')), 'the printed plan is in the file');
  t.regex(r.stderr, /plan written to .*plan-file: with the output of `qpc compile .*` in dom0, `sudo sh OUT\/qubes\/provision\.sh --plan .*plan-file --only-changes` applies it/);
  const u = qpc(policy, '--system-info', path.join(tmp, 'system-info.json'), '-o', file);
  t.is(u.status, 1);
  t.regex(u.stderr, /`qpc plan -o PLAN` writes a plan provision\.sh compares the machine with: it needs `--snapshot DIR`/);
});

toolTest('the commands a user runs: qpc compile, the shipped snapshot script, qpc plan -o, then provision.sh --plan applies the plan', ['sh', 'awk', 'sha256sum', 'cut'], (t) => {
  const dir = mkdtempSync(path.join(tmp, 'apply-'));
  const dom0 = seed(path.join(dir, 'dom0'), recorded('qubes-4.2-whonix').view);
  const file = path.join(dir, 'plan-test.qpol');
  writeFileSync(file, basePolicy);
  const source = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', ...args]);
  // The compile writes the lock file, and the plan reads it: the same SOCKS ports, so the same provision.sh.
  const out = path.join(dir, 'out');
  const snapshot = path.join(dir, 'snapshot');
  const compiled = source('compile', file, '-o', out);
  t.is(compiled.status, 0, compiled.stderr);
  const c = run('sh', [path.join(out, 'qubes/snapshot.sh'), snapshot], { env: dom0.env, cwd: '/' });
  t.is(c.status, 0, c.stderr);
  const planFile = path.join(dir, 'PLAN');
  const p = qpc(file, '--snapshot', snapshot, '-o', planFile);
  t.is(p.status, 2, p.stderr);
  const dry = run('sh', [path.join(out, 'qubes/provision.sh'), '--plan', planFile, '--dry-run'], { env: dom0.env, cwd: '/' });
  t.is(dry.status, 0, dry.stdout + dry.stderr);
  t.true(dry.stdout.includes(p.stdout.split('\n').slice(0, 4).join('\n')), 'the dry run prints the plan');
  const applied = run('sh', [path.join(out, 'qubes/provision.sh'), '--plan', planFile, '--only-changes'], { env: dom0.env, cwd: '/' });
  t.is(applied.status, 0, applied.stdout + applied.stderr);
  // Recorded again and planned again: nothing left to change.
  const again = path.join(dir, 'snapshot-after');
  t.is(run('sh', [path.join(out, 'qubes/snapshot.sh'), again], { env: dom0.env, cwd: '/' }).status, 0);
  const after = qpc(file, '--snapshot', again);
  t.is(after.status, 0, after.stdout + after.stderr);
  t.regex(after.stdout, /^No changes/m);
  // The plan made before is stale now: the machine moved.
  const stale = run('sh', [path.join(out, 'qubes/provision.sh'), '--plan', planFile], { env: dom0.env, cwd: '/' });
  t.is(stale.status, 1);
  t.regex(stale.stderr, /the machine changed since the snapshot the plan was made on/);
});
