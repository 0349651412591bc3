/**
 * The plan against its consumer: provision.sh itself, run in the stand-in
 * dom0 of the provision tests (test/fixtures/qubes-dom0/qvm-fake) seeded
 * with the recorded machine. What the run leaves must be the plan's desired
 * machine, qube by qube and file by file; and planning that machine again
 * must give an empty plan.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { MachineView } from '../../../../compiler/plan/state.js';
import { compileInto, dump, seed } from './dom0.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { basePolicy, editedLine, laterPolicy, ownedPolicy, planText, recorded, withSizes } from './machine.js';

/** The parts of a machine both the plan and the stand-in know, for comparison. */
function comparable(v: MachineView, wanted: MachineView) {
  const qubes: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(wanted.qubes)) {
    const have = v.qubes[name];
    if (!have) { qubes[name] = 'missing'; continue; }
    // Properties the plan knows a value of (Qubes' default whose value it does not know is compared by its D mark).
    const prefs = Object.fromEntries(Object.entries(q.prefs).map(([k, p]) => [k, p.value === null ? { isDefault: have.prefs[k]?.isDefault } : { value: have.prefs[k]?.value }]));
    qubes[name] = { class: have.class, label: have.label, template: have.template, prefs, tags: { ...have.tags }, features: { ...have.features }, services: { ...have.services }, devices: Object.keys(have.devices).sort() };
  }
  return { qubes, policy: { ...v.policy }, whonix: Object.fromEntries(Object.keys(wanted.whonix).map((g) => [g, { ...v.whonix[g] }])) };
}
function expected(wanted: MachineView) {
  const qubes: Record<string, unknown> = {};
  for (const [name, q] of Object.entries(wanted.qubes)) {
    const prefs = Object.fromEntries(Object.entries(q.prefs).map(([k, p]) => [k, p.value === null ? { isDefault: true } : { value: p.value }]));
    qubes[name] = { class: q.class, label: q.label, template: q.template, prefs, tags: { ...q.tags }, features: { ...q.features }, services: { ...q.services }, devices: Object.keys(q.devices).sort() };
  }
  return { qubes, policy: { ...wanted.policy }, whonix: Object.fromEntries(Object.entries(wanted.whonix).map(([g, f]) => [g, { ...f }])) };
}

const { view, source } = recorded('qubes-4.2-whonix');

toolTest('provision.sh leaves the machine the plan says, and planning it again gives an empty plan', ['sh', 'awk', 'sha256sum'], async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-provision-'));
  const plan = planText(basePolicy, view, source).plan!;
  const dom0 = seed(dir, view);
  const out = path.join(dir, 'out');
  await compileInto(basePolicy, out);
  const r = run('sh', [path.join(out, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r.status, 0, r.stdout + r.stderr);
  const after = dump(dom0.state, dom0.policyDir, Object.keys(plan.desired.whonix), dom0.env.QPC_STATE_DIR!);
  t.deepEqual(comparable(after, plan.desired), expected(plan.desired));
  // Planned again with the record the run wrote: nothing to change, nothing stale.
  const again = planText(basePolicy, after, source).plan!;
  t.is(again.record.status, 'recorded');
  t.true(again.record.items > 0);
  t.deepEqual(again.patches, []);
  t.is(again.record.stale, 0);
});

toolTest('a second run with a changed policy: provision.sh changes what the plan lists, and the record takes back the rest', ['sh', 'awk', 'sha256sum'], async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-provision-'));
  const dom0 = seed(dir, view);
  const out = path.join(dir, 'out');
  await compileInto(basePolicy, out);
  t.is(run('sh', [path.join(out, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' }).status, 0);
  const stateDir = dom0.env.QPC_STATE_DIR!;
  const first = dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir);
  t.is(first.owned.status, 'recorded');
  const changed = basePolicy
    .replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office { template fedora-40-xfce }\nqube anon-mail in anon { template whonix-workstation-17 }')
    .replace('policy-file 40-extra', 'policy-file 45-extra')
    .replace(/\n\s*app hexchat[^\n]*/, '')
    .replace('qube work in office { template fedora-40-xfce }', 'qube work in office {\n  template fedora-40-xfce\n  device usb "sys-usb:2-1"\n}');
  const plan = planText(changed, first, source).plan!;
  t.true(plan.changes);
  // The record's stale items, taken back: the Whonix tag provisioning added to anon-web, the files of the
  // renamed policy-file, the Whonix files of the removed app.
  t.deepEqual(plan.qubes.find((q) => q.name === 'anon-web')!.stale, ['tag anon-vm']);
  t.true(plan.qubes.find((q) => q.name === 'anon-web')!.tagsRemoved.includes('anon-vm'));
  t.deepEqual(plan.policyFiles.filter((f) => f.action === 'remove').map((f) => [f.path, f.reason]), [
    ['40-extra.policy', 'qpc installed it, as its ownership record says, and the policy no longer has it; its 1 deny rule is in another file of the policy'],
    ['40-extra_qpc.policy', 'qpc installed it, as its ownership record says, and the policy no longer has it; its 18 deny rules are in another file of the policy'],
  ]);
  const out2 = path.join(dir, 'out2');
  await compileInto(changed, out2);
  const r = run('sh', [path.join(out2, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r.status, 0, r.stdout + r.stderr);
  const after = dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir);
  t.deepEqual(comparable(after, plan.desired), expected(plan.desired));
  t.false(after.qubes['anon-web']!.tags['anon-vm'] === true);
  // Planning the machine provision.sh left, with the record it wrote: nothing more to take back.
  const again = planText(changed, after, source).plan!;
  t.deepEqual(again.patches, []);
  t.is(again.record.stale, 0);
});

/** What provision.sh said it takes back from its record, or leaves, one `QUBE KIND NAME` (or `left …`) per line. */
function takenBack(stdout: string): string[] {
  const out: string[] = [];
  for (const l of stdout.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^qpc: remove tag (\S+) from (\S+) \(qpc added it/.exec(l))) out.push(`${m[2]} tag ${m[1]}`);
    else if ((m = /^qpc: unset (feature|service) (\S+) of (\S+) \(qpc set it/.exec(l))) out.push(`${m[3]} ${m[1]} ${m[2]}`);
    else if ((m = /^qpc: reset (\S+) of (\S+) to Qubes' default \(qpc set it/.exec(l))) out.push(`${m[2]} pref ${m[1]}`);
    else if ((m = /^qpc: unassign (\S+) device (\S+) from (\S+) \(qpc assigned it/.exec(l))) out.push(`${m[3]} device ${m[1]} ${m[2]}`);
    else if ((m = /^qpc: remove \S*\/([^/ ]+) (?:with qubes-policy --remove )?\(qpc installed it/.exec(l))) out.push(`policy ${m[1]}`);
    else if ((m = /^qpc: remove (\S+):(\S+) \(qpc pushed it/.exec(l))) out.push(`${m[1]} file ${m[2]}`);
    else if ((m = /^qpc: left \S*\/([^/ ]+\.policy): qpc installed it/.exec(l))) out.push(`left policy ${m[1]}`);
    else if ((m = /^qpc: left (\S+):(\S+): qpc pushed it/.exec(l))) out.push(`left ${m[1]} file ${m[2]}`);
  }
  return out.sort();
}

/** The same from the plan: the record's take-backs it lists, and the policy files it says provisioning leaves. */
function planTakesBack(plan: NonNullable<ReturnType<typeof planText>['plan']>): string[] {
  const out: string[] = [];
  for (const q of plan.qubes) for (const s of q.stale) out.push(`${q.name} ${s}`);
  for (const f of plan.policyFiles) if (f.action === 'remove') out.push(`policy ${f.path}`);
  for (const f of plan.qubeFiles) out.push(`${f.qube} file ${f.path}`);
  for (const g of plan.whonix) for (const f of g.files) if (f.action === 'remove') out.push(`${g.gateway} file /usr/local/etc/${f.path}`);
  for (const l of plan.record.left) {
    const m = /^\S*\/([^/ ]+\.policy):/.exec(l) ?? /^(\S+?):(\/\S+): qpc pushed it/.exec(l);
    if (m) out.push(m[2] === undefined ? `left policy ${m[1]}` : `left ${m[1]} file ${m[2]}`);
  }
  return out.sort();
}

toolTest('every kind of stale item: the plan takes back what provision.sh takes back, and leaves what it leaves', ['sh', 'awk', 'sha256sum'], async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-provision-'));
  const dom0 = seed(dir, withSizes(view));
  const stateDir = dom0.env.QPC_STATE_DIR!;
  const out = path.join(dir, 'out');
  await compileInto(ownedPolicy, out);
  const r1 = run('sh', [path.join(out, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r1.status, 0, r1.stdout + r1.stderr);
  // Someone edits a file qpc installed: provisioning leaves it, and says so.
  writeFileSync(path.join(dom0.policyDir, '41-gone.policy'), readFileSync(path.join(dom0.policyDir, '41-gone.policy'), 'utf8') + editedLine);
  const first = dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir);
  const hexchat = Object.entries(first.pushed).flatMap(([q, f]) => Object.keys(f).map((p) => `${q}:${p}`));
  t.true(hexchat.length > 0, 'the record names the files provision.sh pushed outside the gateway directories');

  const plain = laterPolicy;
  const plan = planText(plain, first, source).plan!;
  t.deepEqual(plan.blockers, []);
  const work = plan.qubes.find((q) => q.name === 'work')!;
  t.deepEqual([...work.stale].sort(), ['device usb sys-usb:2-1', 'feature gui-allow-fullscreen', 'pref memory', 'pref vcpus', 'service cups', 'tag mine']);
  t.deepEqual(work.devices.map((d) => `${d.action} ${d.device}`), ['unassign usb sys-usb:2-1']);
  t.deepEqual(work.prefs.filter((p) => p.name === 'memory' || p.name === 'vcpus').map((p) => [p.name, p.new]), [['memory', { value: null, isDefault: true }], ['vcpus', { value: null, isDefault: true }]]);
  t.deepEqual(plan.qubeFiles.map((f) => `${f.qube}:${f.path}`), hexchat.filter((f) => f.startsWith('anon-chat:')));
  t.false(plan.policyFiles.some((f) => f.path === '41-gone.policy'), 'a file edited since qpc installed it is left');
  t.true(plan.record.left.some((l) => l.startsWith('/etc/qubes/policy.d/41-gone.policy: qpc installed it and the policy no longer has it, but it was changed since')));

  const out2 = path.join(dir, 'out2');
  await compileInto(plain, out2);
  const r2 = run('sh', [path.join(out2, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r2.status, 0, r2.stdout + r2.stderr);
  t.deepEqual(planTakesBack(plan), takenBack(r2.stdout));
  const after = dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir);
  t.deepEqual(comparable(after, plan.desired), expected(plan.desired));
  // The files the plan keeps are in their qubes; those it removes are gone.
  for (const [q, f] of Object.entries(plan.desired.pushed)) for (const p of Object.keys(f)) t.true(existsSync(path.join(dom0.state, 'qubes', q, 'root', p)), `${q}:${p}`);
  for (const f of plan.qubeFiles) t.false(existsSync(path.join(dom0.state, 'qubes', f.qube, 'root', f.path)), `${f.qube}:${f.path}`);
  const again = planText(plain, after, source).plan!;
  t.deepEqual(again.patches, []);
  t.deepEqual(again.record.left, [], 'the edited file left the record with the run that left it');
});

toolTest('from the recorded snapshot plan-owned, its record included: a qube dropped from the policy keeps its files, and both say so', ['sh', 'awk', 'sha256sum'], async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-provision-'));
  const owned = recorded('plan-owned');
  const dom0 = seed(dir, owned.view);
  const stateDir = dom0.env.QPC_STATE_DIR!;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path.join(stateDir, 'owned'), readFileSync('test/fixtures/snapshots/plan-owned/owned', 'utf8'));
  const without = laterPolicy.replace(/qube anon-chat in anon \{[^}]*\}\n/, '');
  t.not(without, laterPolicy);
  const plan = planText(without, owned.view, owned.source).plan!;
  t.true(plan.unmanagedQubes.includes('anon-chat'));
  t.deepEqual(plan.qubeFiles, [], 'anon-chat is not in the policy: its launcher stays');
  t.true(plan.record.left.includes('anon-chat:/usr/local/bin/qpc-hexchat: qpc pushed it, but anon-chat is not in the policy and qpc does not start it; remove the file in anon-chat by hand'));
  const out = path.join(dir, 'out');
  await compileInto(without, out);
  const r = run('sh', [path.join(out, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.deepEqual(planTakesBack(plan), takenBack(r.stdout));
  t.true(takenBack(r.stdout).includes('left anon-chat file /usr/local/bin/qpc-hexchat'));
  const after = dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir);
  t.deepEqual(comparable(after, plan.desired), expected(plan.desired));
  // The kept file stays recorded: the next plan says the same again.
  t.deepEqual(planText(without, after, owned.source).plan!.record.left, ['anon-chat:/usr/local/bin/qpc-hexchat: qpc pushed it, but anon-chat is not in the policy and qpc does not start it; remove the file in anon-chat by hand']);
});
