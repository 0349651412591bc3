/**
 * The plan on the recorded machine qubes-4.2-whonix: provisioned once with
 * the base policy (the desired state of its plan is the machine the next
 * snapshot records), a user's own file added to policy.d, then planned
 * again with the policy changed in one way at a time. The patches must be
 * exactly the change, and the grouped plan must say it.
 */
import test from 'ava';
import { basePolicy, planText, provisioned, recorded, withPolicyFile } from './machine.js';
import { applyPatches } from 'immer';
import { denyRules } from '../../../../compiler/plan/plan.js';

const { view: machine, source } = recorded('qubes-4.2-whonix');
const userFile = 'qubes.Gpg * work @default deny\n';
const done = withPolicyFile(provisioned(planText(basePolicy, machine, source)), '60-user.policy', userFile);

const patchesOf = (text: string): string[] => {
  const r = planText(text, done, source);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.plan.patches.map((p) => `${p.op} ${p.path.join(' > ')}`).sort();
};
const planOf = (text: string) => planText(text, done, source).plan!;

test('the first plan on the recorded machine creates the policy\'s qubes and installs its files', (t) => {
  const p = planText(basePolicy, machine, source).plan!;
  t.true(p.changes);
  t.deepEqual(p.qubes.filter((q) => q.action === 'create').map((q) => q.name), ['anon-chat', 'anon-web']);
  t.deepEqual(p.policyFiles.map((f) => `${f.action} ${f.path}`), ['add 30-qpc.policy', 'add 40-extra.policy', 'add 40-extra_qpc.policy']);
  t.deepEqual(p.whonix.map((g) => [g.gateway, g.files.map((f) => `${f.action} ${f.path}`)]), [['sys-whonix', ['add torrc.d/50_qpc.conf', 'add whonix_firewall.d/50_qpc.conf']]]);
  t.deepEqual(p.blockers, []);
  // The machine's own qubes the policy does not declare are reported, never changed.
  t.true(p.unmanagedQubes.includes('personal') && p.unmanagedQubes.includes('sys-usb'));
  t.false(p.patches.some((x) => x.path[0] === 'qubes' && p.unmanagedQubes.includes(String(x.path[1]))));
});

test('a machine provisioned from the policy: an empty plan, the user file untouched', (t) => {
  const p = planOf(basePolicy);
  t.deepEqual(p.patches, []);
  t.false(p.changes);
  t.deepEqual(p.qubes, []);
  t.deepEqual(p.policyFiles, []);
  t.deepEqual(p.whonix, []);
  t.true(p.untouchedPolicyFiles.other.includes('60-user.policy'));
  t.is(p.desired, done, 'nothing changed: immer returns the base state itself');
});

test('adding a qube: exactly its creation', (t) => {
  t.deepEqual(patchesOf(basePolicy + 'qube anon-mail in anon { template whonix-workstation-17 }\n'), ['add qubes > anon-mail']);
  const q = planOf(basePolicy + 'qube anon-mail in anon { template whonix-workstation-17 }\n').qubes;
  t.deepEqual(q.map((x) => [x.name, x.action, x.class, x.template, x.label]), [['anon-mail', 'create', 'AppVM', 'whonix-workstation-17', 'red']]);
  t.deepEqual(q[0]!.tagsAdded, ['anon-vm', 'identity-anon']);
  t.is(q[0]!.prefs.find((p) => p.name === 'netvm')?.new.value, 'sys-whonix');
});

const moved = basePolicy.replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office { template fedora-40-xfce }');

test('moving a qube off its Tor gateway: its netvm, template, label and identity tag, marked as weakening', (t) => {
  t.deepEqual(patchesOf(moved), [
    'add qubes > anon-web > tags > identity-office',
    'remove qubes > anon-web > tags > identity-anon',
    // The generated rules that close the Tor identity name its qubes' tags, not anon-web: only the comment of the rule that names it changes.
    'replace policy > 40-extra_qpc.policy',
    'replace qubes > anon-web > label',
    'replace qubes > anon-web > prefs > label',
    'replace qubes > anon-web > prefs > netvm',
    'replace qubes > anon-web > prefs > template',
    'replace qubes > anon-web > template',
  ].sort());
  const q = planOf(moved).qubes;
  t.deepEqual(q.map((x) => x.name), ['anon-web']);
  t.deepEqual(q[0]!.prefs.map((p) => `${p.name}: ${p.old?.value} -> ${p.new.value}`), ['template: whonix-workstation-17 -> fedora-40-xfce', 'label: red -> blue', 'netvm: sys-whonix -> sys-firewall']);
  t.deepEqual(q[0]!.weakens, ['netvm leaves the Tor gateway sys-whonix for sys-firewall, which is not one']);
});

test('renaming a policy-file: the new file added, the old copy removed as stale, its denies marked', (t) => {
  const renamed = basePolicy.replace('policy-file 40-extra', 'policy-file 45-extra');
  t.deepEqual(patchesOf(renamed), ['add policy > 45-extra.policy', 'add policy > 45-extra_qpc.policy', 'remove policy > 40-extra.policy', 'remove policy > 40-extra_qpc.policy']);
  const p = planOf(renamed);
  t.deepEqual(p.policyFiles.map((f) => `${f.action} ${f.path}`), ['remove 40-extra.policy', 'remove 40-extra_qpc.policy', 'add 45-extra.policy', 'add 45-extra_qpc.policy']);
  const old = p.policyFiles.find((f) => f.path === '40-extra.policy')!;
  t.regex(old.reason ?? '', /qpc installed it/);
  t.deepEqual(old.weakens, [], 'its deny rule is in the renamed file');
  t.regex(old.reason ?? '', /its 1 deny rule is in another file of the policy/);
  t.true(p.untouchedPolicyFiles.other.includes('60-user.policy'), 'the user file in policy.d is left alone');
  t.false(p.policyFiles.some((f) => f.path === '60-user.policy'));
});

test('removing a policy-file block whose denies no other file has: marked as weakening', (t) => {
  const without = basePolicy.replace(/policy-file 40-extra \{[^}]*\}\n/, '');
  // The rules qpc generates to close the Tor identity go to the main file once no other file holds the user's rules.
  t.deepEqual(patchesOf(without), ['remove policy > 40-extra.policy', 'remove policy > 40-extra_qpc.policy', 'replace policy > 30-qpc.policy']);
  const files = planOf(without).policyFiles;
  t.deepEqual(files.find((x) => x.path === '40-extra.policy')!.weakens, ['removes a file that holds 1 deny rule no file of the new policy has']);
  t.deepEqual(files.find((x) => x.path === '40-extra_qpc.policy')!.weakens, [], 'its generated denies are in 30-qpc.policy now');
});

test('removing an app with a dedicated SocksPort: the gateway\'s torrc.d and firewall files change', (t) => {
  const without = basePolicy.replace(/\n\s*app hexchat[^\n]*/, '');
  t.deepEqual(patchesOf(without), ['replace whonix > sys-whonix > torrc.d/50_qpc.conf', 'replace whonix > sys-whonix > whonix_firewall.d/50_qpc.conf']);
  const [torrc, firewall] = planOf(without).whonix[0]!.files;
  t.regex(torrc!.diff, /^-\+SocksPort [0-9.]+:9112 IPv6Traffic IsolateClientProtocol$/m);
  t.regex(firewall!.diff, /^-INTERNAL_OPEN_PORTS\+=" 9112 "$/m);
});

test('adding a device: its assignment', (t) => {
  const withDevice = basePolicy.replace('qube work in office { template fedora-40-xfce }', 'qube work in office {\n  template fedora-40-xfce\n  device usb "sys-usb:2-1"\n}');
  t.deepEqual(patchesOf(withDevice), ['add qubes > work > devices > usb sys-usb:2-1']);
  t.deepEqual(planOf(withDevice).qubes.map((q) => [q.name, q.devices]), [['work', [{ device: 'usb sys-usb:2-1', action: 'assign', options: {} }]]]);
});

test('a torrc the gateway holds is compared under the address its reload wrote', (t) => {
  // provision.sh's reload writes the gateway's QubesDB address into the +SocksPort lines.
  const torrc = done.whonix['sys-whonix']!['torrc.d/50_qpc.conf']!;
  const rewritten = withPolicyFile(done, '60-user.policy', userFile);
  const m = { ...rewritten, whonix: { 'sys-whonix': { ...rewritten.whonix['sys-whonix']!, 'torrc.d/50_qpc.conf': torrc.replace(/^\+SocksPort [0-9.]+:/gm, '+SocksPort 10.137.0.9:') } } };
  t.deepEqual(planText(basePolicy, m, source).plan!.patches, []);
});

test('a qube the policy expects installed that the machine lacks stops provisioning', (t) => {
  const p = planText(basePolicy.replace(/whonix 17/, 'whonix 18').replace(/-17\b/g, '-18'), machine, source).plan!;
  t.deepEqual(p.blockers, ['qube whonix-gateway-18 does not exist; the policy expects an installed TemplateVM of that name', 'qube whonix-workstation-18 does not exist; the policy expects an installed TemplateVM of that name']);
  t.false(p.patches.some((x) => x.path[1] === 'whonix-gateway-18'), 'never created');
});

test('the machine, the desired machine and the model are frozen', (t) => {
  const r = planText(basePolicy, machine, source);
  const p = r.plan!;
  t.true(Object.isFrozen(machine.qubes['sys-net']!.prefs));
  t.throws(() => { (machine.qubes['sys-net']!.tags as Record<string, true>)['x'] = true; }, { instanceOf: TypeError });
  t.throws(() => { (p.desired.qubes['anon-chat'] as { label: string | null }).label = 'green'; }, { instanceOf: TypeError });
  t.throws(() => { (r.model!.qubes[0] as { netvm: string | null }).netvm = 'sys-net'; }, { instanceOf: TypeError });
  t.throws(() => { (r.model!.qubes as unknown as unknown[]).push({}); }, { instanceOf: TypeError });
  t.false('anon-chat' in machine.qubes, 'planning did not change the machine');
});

test('the patches are the plan: applied to the machine they give the desired machine, also read back from JSON', (t) => {
  for (const [base, text] of [[machine, basePolicy], [done, basePolicy.replace('policy-file 40-extra', 'policy-file 45-extra')]] as const) {
    const p = planText(text, base, source).plan!;
    t.true(p.patches.length > 0);
    t.deepEqual(applyPatches(base, p.patches), p.desired);
    t.deepEqual(applyPatches(base, JSON.parse(JSON.stringify(p.patches))), JSON.parse(JSON.stringify(p.desired)));
  }
});

test('deny rules are counted by the action column', (t) => {
  t.is(denyRules('# deny\nqubes.A * @anyvm @anyvm deny\n!include x\nqubes.B * a b allow target=deny\nqubes.C +x a b deny notify=yes\n'), 2);
});
