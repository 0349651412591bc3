/**
 * Applying a plan (docs/plan.md, "Apply a plan"): `qpc plan -o PLAN` on a
 * snapshot the shipped snapshot script recorded from the stand-in dom0, then
 * provision.sh itself with `--plan PLAN`: it records the machine again with
 * that script and refuses when the state moved (unless `--force`), prints
 * the plan with `--dry-run`, and with `--only-changes` visits only the qubes
 * the plan changes, leaving exactly what a full run leaves (ownership
 * record included).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ExecutionContext } from 'ava';
import { nodeHost, overlayHost, plan, planFile, renderPlan } from '../../../../compiler/index.js';
import { sha256 } from '../../../../compiler/hash.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { compileInto, dom0At, dump, seed } from './dom0.js';
import { basePolicy, recorded } from './machine.js';

const { view } = recorded('qubes-4.2-whonix');
const entry = 'plan-test.qpol';
/** The base policy with work carrying a tag and a feature, which provisioning records. */
const first = basePolicy.replace('qube work in office { template fedora-40-xfce }', 'qube work in office {\n  template fedora-40-xfce\n  tag mine\n  feature gui-allow-fullscreen "1"\n}');
/** Then a qube added, one moved to another identity with a device, a policy file renamed; work stays as it was. */
const changed = first
  .replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office {\n  template fedora-40-xfce\n  device usb "sys-usb:2-1"\n}\nqube anon-mail in anon { template whonix-workstation-17 }')
  .replace('policy-file 40-extra', 'policy-file 45-extra');
const tools = ['sh', 'awk', 'sha256sum', 'cut', 'find'];

interface Machine {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly state: string;
  readonly policyDir: string;
  /** The policy planned and compiled into `out` (`changed` unless said). */
  readonly policy: string;
  /** The output of `qpc compile` of that policy. */
  readonly out: string;
}

/** The recorded machine provisioned once from `first` (so it has an ownership record), and the next policy compiled. */
async function machine(t: ExecutionContext, policy = changed): Promise<Machine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-apply-'));
  const dom0 = seed(dir, view);
  const firstOut = path.join(dir, 'out-first');
  await compileInto(first, firstOut);
  const r = run('sh', [path.join(firstOut, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r.status, 0, r.stdout + r.stderr);
  const out = path.join(dir, 'out');
  await compileInto(policy, out);
  return { dir, ...dom0, policy, out };
}

/** A second machine in the same state as `m`: the same files under another directory. */
function copyOf(m: Machine): Machine {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-apply-'));
  cpSync(m.dir, dir, { recursive: true, verbatimSymlinks: true });
  return { dir, ...dom0At(dir), policy: m.policy, out: path.join(dir, path.relative(m.dir, m.out)) };
}

/** The snapshot of `m` taken by the snapshot script the compile output ships, and the plan file of `m`'s policy on it. */
function planOnMachine(t: ExecutionContext, m: Machine, ...snapshotArgs: string[]): { snapshot: string; file: string; human: string; visit: readonly string[]; unvisited: readonly string[] } {
  const snapshot = path.join(mkdtempSync(path.join(m.dir, 'plan-')), 'snapshot');
  const c = run('sh', [path.join(m.out, 'qubes/snapshot.sh'), ...snapshotArgs, snapshot], { env: m.env, cwd: '/' });
  t.is(c.status, 0, c.stdout + c.stderr);
  const r = plan(entry, { host: overlayHost(new Map([[entry, m.policy]]), nodeHost), snapshot });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  t.is(r.provisionSha256, sha256(readFileSync(path.join(m.out, 'qubes/provision.sh'), 'utf8')), 'the plan is bound to the provision.sh qpc compile writes');
  const human = renderPlan(r.plan!, entry, snapshot);
  const text = planFile(r.plan!, human, r.provisionSha256!)!;
  const file = path.join(path.dirname(snapshot), 'plan');
  writeFileSync(file, text);
  // The policy's qubes (dom0 aside) that an --only-changes run does not visit.
  const unvisited = Object.keys(r.plan!.desired.qubes).filter((q) => q !== 'dom0' && !r.plan!.unmanagedQubes.includes(q) && !r.plan!.visit.includes(q));
  return { snapshot, file, human, visit: r.plan!.visit, unvisited };
}

const provision = (m: Machine, ...args: string[]) => {
  writeFileSync(path.join(m.state, 'log'), '');
  return run('sh', [path.join(m.out, 'qubes/provision.sh'), ...args], { env: m.env, cwd: '/' });
};
const log = (m: Machine): string[] => readFileSync(path.join(m.state, 'log'), 'utf8').split('\n').filter((l) => l !== '');

toolTest('--plan --only-changes leaves the machine and the record a full run leaves, visiting only the qubes the plan changes', tools, async (t) => {
  const a = await machine(t);
  const b = copyOf(a);
  const p = planOnMachine(t, a);
  t.true(p.visit.length > 0);
  const unvisited = p.unvisited;
  t.true(unvisited.includes('work'), 'work needs nothing, and the record holds what qpc wrote on it');
  t.regex(readFileSync(path.join(a.env.QPC_STATE_DIR!, 'owned'), 'utf8'), /^tag work mine$/m);

  const ra = provision(a, '--plan', p.file, '--only-changes');
  t.is(ra.status, 0, ra.stdout + ra.stderr);
  t.regex(ra.stdout, /^qpc: the machine is as the plan's snapshot recorded it \(state [0-9a-f]{64}\)$/m);
  const rb = provision(b);
  t.is(rb.status, 0, rb.stdout + rb.stderr);

  const gateways = ['sys-whonix'];
  const { owned: ownedA, ...machineA } = dump(a.state, a.policyDir, gateways, a.env.QPC_STATE_DIR!);
  const { owned: ownedB, ...machineB } = dump(b.state, b.policyDir, gateways, b.env.QPC_STATE_DIR!);
  t.deepEqual(machineA, machineB);
  // The same record items (the carried-over ones come first: the record is a set).
  const items = (o: typeof ownedA) => o.items.map((i) => JSON.stringify(i)).sort();
  t.is(ownedA.status, 'recorded');
  t.deepEqual(items(ownedA), items(ownedB));
  // The same changes, in the same order.
  const mutations = (m: Machine) => log(m).filter((l) => l.startsWith('MUTATE ') || l.startsWith('START '));
  t.deepEqual(mutations(a), mutations(b));
  // A qube the plan does not change is read by the full run and not by the planned one, beyond the
  // snapshot's listings and the checks made before the first change on every qube (its class, the
  // properties qubesd changes only while the qube is halted, a Whonix template's marker feature).
  for (const q of unvisited) {
    const checked = / (?:klass|template|virt_mode|kernel|whonix-gw|whonix-ws)$/;
    const reads = (m: Machine) => log(m).filter((l) => new RegExp(`^READ qvm-(?:prefs|tags|features|service) ${q.replace(/[.]/g, '\\.')} \\S`).test(l) && !l.endsWith(` ${q} list`) && !checked.test(l));
    t.deepEqual(reads(a), [], q);
    t.true(reads(b).length > 0, q);
  }
  // Planned again on the machine the run left: nothing to change, nothing to visit but the qubes whose files are not recorded.
  const again = planOnMachine(t, a);
  t.regex(again.human, /^No changes/m);
});

toolTest('--plan refuses to run on a machine that changed since the snapshot, names what changed, and changes nothing; --force goes on', tools, async (t) => {
  const m = await machine(t);
  const p = planOnMachine(t, m);
  // Someone tags a qube after the snapshot.
  writeFileSync(path.join(m.state, 'qubes', 'vault', 'tags', 'added-later'), '');
  const r = provision(m, '--plan', p.file, '--only-changes');
  t.is(r.status, 1, r.stdout + r.stderr);
  t.regex(r.stderr, /^qpc: error: the machine changed since the snapshot the plan was made on \(state [0-9a-f]{64}, the plan's [0-9a-f]{64}\); what differs: qubes\/vault\.tags ; record a new snapshot and plan again, or run with --force; nothing was changed$/m);
  t.deepEqual(log(m).filter((l) => l.startsWith('MUTATE ')), []);
  const dry = provision(m, '--plan', p.file, '--dry-run');
  t.is(dry.status, 1, 'a dry run compares too');
  const forced = provision(m, '--plan', p.file, '--only-changes', '--force');
  t.is(forced.status, 0, forced.stdout + forced.stderr);
  t.regex(forced.stdout, /^qpc: warning: the machine changed since the snapshot the plan was made on \(what differs: qubes\/vault\.tags \); --force: going on, and visiting every qube$/m);
  t.true(p.unvisited.length > 0);
  for (const q of p.unvisited) t.true(log(m).some((l) => l.startsWith(`READ qvm-prefs ${q} `)), `every qube visited: ${q}`);
});

toolTest('--plan --dry-run prints the plan qpc plan printed, and changes nothing', tools, async (t) => {
  const m = await machine(t);
  const p = planOnMachine(t, m);
  const r = provision(m, '--plan', p.file, '--dry-run');
  t.is(r.status, 0, r.stdout + r.stderr);
  const body = r.stdout.split('\n').filter((l) => !l.startsWith('qpc: ')).join('\n').replace(/\n+$/, '');
  t.is(body, p.human.replace(/\n+$/, ''));
  t.regex(r.stdout, /^qpc: dry run: nothing was changed$/m);
  t.deepEqual(log(m).filter((l) => l.startsWith('MUTATE ') || l.startsWith('START ')), []);
});

toolTest('a plan made for another provision.sh, or not a plan file, is refused before anything is read', tools, async (t) => {
  const m = await machine(t);
  const p = planOnMachine(t, m);
  const text = readFileSync(p.file, 'utf8');
  writeFileSync(p.file, text.replace(/^provision [0-9a-f]{64}$/m, `provision ${'0'.repeat(64)}`));
  const other = provision(m, '--plan', p.file);
  t.is(other.status, 1);
  t.regex(other.stderr, /the plan was made for another provision\.sh \(sha256 0{64}; this one is [0-9a-f]{64}\)/);
  writeFileSync(p.file, '{"format": "qpc-plan 1"}\n');
  const json = provision(m, '--plan', p.file);
  t.is(json.status, 1);
  t.regex(json.stderr, /is not a plan file of qpc plan --out \(format qpc-plan-file 1\)/);
  // A qube name that is not one (a plan is data: nothing in it is run).
  writeFileSync(p.file, text.replace(/^qube (\S+)$/m, 'qube $(touch pwned)'));
  const bad = provision(m, '--plan', p.file, '--only-changes');
  t.is(bad.status, 1);
  t.regex(bad.stderr, /names a qube that is not a qube name/);
  t.deepEqual(log(m).filter((l) => l.startsWith('MUTATE ')), []);
  const usage = provision(m, '--only-changes');
  t.is(usage.status, 2, '--only-changes needs --plan');
});

toolTest('a plan made on a snapshot that started a halted gateway: provision.sh records the machine the same way, and finds it unchanged', tools, async (t) => {
  const m = await machine(t);
  // The gateway is shut down; the snapshot script starts it to read its files.
  rmSync(path.join(m.state, 'qubes', 'sys-whonix', 'running'));
  const p = planOnMachine(t, m, '--start-gateways');
  t.regex(readFileSync(p.file, 'utf8'), /^start-gateways yes$/m);
  const r = provision(m, '--plan', p.file, '--dry-run');
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^qpc: the machine is as the plan's snapshot recorded it/m);
});

toolTest('--only-changes visits a qube whose stale record item is already gone, so the record drops it as a full run does', tools, async (t) => {
  // The next policy no longer tags work `mine`, and someone removed the tag by hand already: nothing to change on work.
  const a = await machine(t, changed.replace('  tag mine\n', ''));
  rmSync(path.join(a.state, 'qubes', 'work', 'tags', 'mine'));
  const b = copyOf(a);
  const p = planOnMachine(t, a);
  t.true(p.visit.includes('work'), 'work holds a stale record item');
  t.is(provision(a, '--plan', p.file, '--only-changes').status, 0);
  t.is(provision(b).status, 0);
  const lines = (m: Machine) => readFileSync(path.join(m.env.QPC_STATE_DIR!, 'owned'), 'utf8').split('\n').sort();
  t.false(lines(a).includes('tag work mine'));
  t.deepEqual(lines(a), lines(b));
});
