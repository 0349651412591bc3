/**
 * Stale state (compiler/plan/stale.ts): the record's items this policy no
 * longer has, taken back on the desired machine as provision.sh's prune
 * functions take them back; on a small machine and policy made here, then
 * through the whole plan on test/fixtures/snapshots/plan-owned, the machine
 * provision.sh itself left (fixture.test.ts), record included.
 */
import test from 'ava';
import { freeze, produce } from 'immer';
import type { PolicyModel } from '../../../../compiler/model.js';
import { sha256 } from '../../../../compiler/hash.js';
import type { PlanInput } from '../../../../compiler/plan/desired.js';
import { installedByQpc, leftAlone, recordKnown, staleItems, takeBack, type StalePolicy } from '../../../../compiler/plan/stale.js';
import { pushedOf, record, type MachineView, type QubeView } from '../../../../compiler/plan/state.js';
import type { OwnedItem, OwnershipRecord } from '../../../../compiler/snapshot/read.js';
import { basePolicy, laterPolicy, planText, recorded } from './machine.js';

const qube = (over: Partial<QubeView> = {}): QubeView => ({ class: 'AppVM', label: 'red', template: 't', running: false, prefs: record(), tags: record(), features: record(), services: record(), devices: record(), ...over });
const installed = 'qubes.Gpg * work vault deny\n';

/** A machine with qubes work and other (not in the policy), files in both, and the record `items`. */
function machine(items: readonly OwnedItem[], status: OwnershipRecord['status'] = 'recorded'): MachineView {
  const owned: OwnershipRecord = { status, items };
  const whonix = record<Record<string, string>>();
  return freeze({
    qubes: record([
      ['work', qube({ tags: record([['mine', true], ['kept', true]] as const), features: record([['f', '1'], ['g', '2']] as const), services: record([['cups', true]] as const), prefs: record([['memory', { value: '800', isDefault: false }], ['vcpus', { value: '2', isDefault: true }]] as const), devices: record([['usb sys-usb:2-1', { options: record() }]] as const) })],
      ['other', qube()],
    ] as const),
    globalPrefs: record(),
    policy: record([['41-gone.policy', installed], ['42-edited.policy', `${installed}# mine\n`], ['30-qpc.policy', installed]] as const),
    whonix,
    pushed: pushedOf(owned, whonix),
    owned,
  }, true);
}

/** A policy with the one qube work, which has the tag `kept`, feature `g`, pushes /usr/local/bin/keep and installs 30-qpc. */
const input: PlanInput = freeze({
  model: { qubes: [{ name: 'work', klass: 'AppVM', tags: ['kept'], features: [{ key: 'g', value: '2' }], services: [], devices: [] }] } as unknown as PolicyModel,
  provision: {
    order: ['work'],
    prefs: new Map([['work', [{ name: 'vcpus', value: '2' }]]]),
    identityTags: [],
    policyFiles: [{ name: '30-qpc', text: installed }],
    deploys: [{ qube: 'work', path: '/usr/local/bin/keep', text: 'x' }],
    whonixMarkers: [],
    resettablePrefs: ['memory', 'vcpus'],
  },
}, true);

const items: OwnedItem[] = [
  { kind: 'tag', qube: 'work', tag: 'mine' },
  { kind: 'tag', qube: 'work', tag: 'kept' },
  { kind: 'feature', qube: 'work', key: 'f' },
  { kind: 'feature', qube: 'work', key: 'g' },
  { kind: 'service', qube: 'work', name: 'cups' },
  { kind: 'pref', qube: 'work', property: 'memory' },
  { kind: 'pref', qube: 'work', property: 'vcpus' },
  { kind: 'device', qube: 'work', devclass: 'usb', device: 'sys-usb:2-1' },
  { kind: 'policy', name: '41-gone', sha256: 'a'.repeat(64) },
  { kind: 'policy', name: '41-gone', sha256: sha256(installed) },
  { kind: 'policy', name: '42-edited', sha256: sha256(installed) },
  { kind: 'policy', name: '30-qpc', sha256: 'b'.repeat(64) },
  { kind: 'file', qube: 'work', path: '/usr/local/bin/keep' },
  { kind: 'file', qube: 'work', path: '/usr/local/bin/gone' },
  { kind: 'file', qube: 'other', path: '/usr/local/bin/stays' },
  { kind: 'tag', qube: 'removed', tag: 'x' },
];

test('recordKnown: a copy of the record, or the machine has none; not an old or unread snapshot', (t) => {
  t.true(recordKnown(machine([])));
  t.true(recordKnown(machine([], 'absent')));
  t.false(recordKnown(machine([], 'not-recorded')));
  t.false(recordKnown(machine([], 'unread')));
});

test("staleItems: what this run does not own again, once, a policy file's sha256s merged, after the rest", (t) => {
  t.deepEqual(staleItems(machine(items), input), [
    { kind: 'tag', qube: 'work', tag: 'mine' },
    { kind: 'feature', qube: 'work', key: 'f' },
    { kind: 'service', qube: 'work', name: 'cups' },
    // vcpus is set by the policy (owned again); memory is not.
    { kind: 'pref', qube: 'work', property: 'memory' },
    { kind: 'device', qube: 'work', devclass: 'usb', device: 'sys-usb:2-1' },
    { kind: 'file', qube: 'work', path: '/usr/local/bin/gone' },
    // other is not in the policy: its file stays recorded (keep_files). removed's tag is stale all the same.
    { kind: 'tag', qube: 'removed', tag: 'x' },
    { kind: 'policy', name: '41-gone', sha256s: ['a'.repeat(64), sha256(installed)] },
    { kind: 'policy', name: '42-edited', sha256s: [sha256(installed)] },
  ]);
  t.deepEqual(staleItems(machine(items, 'not-recorded'), input), [], 'no record, nothing known to be stale');
});

test('installedByQpc: one of the recorded sha256s', (t) => {
  const p: StalePolicy = { kind: 'policy', name: 'x', sha256s: ['a'.repeat(64), sha256(installed)] };
  t.true(installedByQpc(installed, p));
  t.false(installedByQpc(`${installed}\n`, p));
});

test('takeBack: each kind as provision.sh prunes it, only in qubes that exist; an edited policy file and a file of an undeclared qube stay', (t) => {
  const base = machine(items);
  const after = produce(base, (d) => takeBack(d, staleItems(base, input), input));
  const work = after.qubes.work!;
  t.deepEqual(Object.keys(work.tags), ['kept']);
  t.deepEqual({ ...work.features }, { g: '2' });
  t.deepEqual({ ...work.services }, {});
  t.deepEqual(work.prefs.memory, { value: null, isDefault: true });
  t.deepEqual(work.prefs.vcpus, { value: '2', isDefault: true });
  t.deepEqual(Object.keys(work.devices), []);
  t.deepEqual(Object.keys(after.policy).sort(), ['30-qpc.policy', '42-edited.policy']);
  t.deepEqual(Object.fromEntries(Object.entries(after.pushed).map(([q, f]) => [q, Object.keys(f)])), { work: ['/usr/local/bin/keep'], other: ['/usr/local/bin/stays'] });
  t.deepEqual(Object.keys(after.qubes).sort(), ['other', 'work']);
  // A property already at its default is not a change.
  const atDefault = produce(base, (d) => { d.qubes.work!.prefs.memory = { value: '400', isDefault: true }; });
  t.is(produce(atDefault, (d) => takeBack(d, [{ kind: 'pref', qube: 'work', property: 'memory' }], input)), atDefault);
});

test('leftAlone: the edited policy file, the file of a qube the policy does not declare', (t) => {
  t.deepEqual(leftAlone(machine(items), input), [
    '/etc/qubes/policy.d/42-edited.policy: qpc installed it and the policy no longer has it, but it was changed since; remove it by hand if nobody needs it',
    'other:/usr/local/bin/stays: qpc pushed it, but other is not in the policy and qpc does not start it; remove the file in other by hand',
  ]);
  t.deepEqual(leftAlone(machine(items, 'unread'), input), []);
});

test('pushedOf: the record\'s files, but those of a gateway directory the snapshot read', (t) => {
  const owned: OwnershipRecord = { status: 'recorded', items: [{ kind: 'file', qube: 'gw', path: '/usr/local/etc/torrc.d/50_qpc.conf' }, { kind: 'file', qube: 'gw', path: '/usr/local/lib/qpc/reload.sh' }, { kind: 'file', qube: 'halted', path: '/usr/local/etc/torrc.d/50_qpc.conf' }, { kind: 'tag', qube: 'gw', tag: 'x' }] };
  const p = pushedOf(owned, record([['gw', record<string>()]] as const));
  t.deepEqual(Object.fromEntries(Object.entries(p).map(([q, f]) => [q, Object.keys(f)])), { gw: ['/usr/local/lib/qpc/reload.sh'], halted: ['/usr/local/etc/torrc.d/50_qpc.conf'] });
});

const owned = recorded('plan-owned');
const old = recorded('qubes-4.2-whonix');

test('the whole plan on plan-owned: the stale items as patches, grouped, and the record summed up', (t) => {
  const p = planText(laterPolicy, owned.view, owned.source).plan!;
  const paths = p.patches.filter((x) => x.op === 'remove' || (x.path[0] === 'qubes' && x.path[2] === 'prefs')).map((x) => `${x.op} ${x.path.join(' > ')}`).sort();
  t.deepEqual(paths, [
    'remove policy > 41-gone_qpc.policy',
    'remove pushed > anon-chat',
    'remove qubes > work > devices > usb sys-usb:2-1',
    'remove qubes > work > features > gui-allow-fullscreen',
    'remove qubes > work > services > cups',
    'remove qubes > work > tags > mine',
    'replace qubes > work > prefs > memory',
    'replace qubes > work > prefs > vcpus',
  ]);
  t.deepEqual(p.record, { status: 'recorded', items: 19, stale: 9, left: ['/etc/qubes/policy.d/41-gone.policy: qpc installed it and the policy no longer has it, but it was changed since; remove it by hand if nobody needs it'] });
  t.false(p.untouchedPolicyFiles.other.includes('41-gone.policy'), "an edited file of qpc's is not someone else's");
});

test('moving a Tor qube out of its identity: the Whonix tag provisioning added comes off (the record says it did)', (t) => {
  const moved = laterPolicy.replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office { template fedora-40-xfce }');
  const q = planText(moved, owned.view, owned.source).plan!.qubes.find((x) => x.name === 'anon-web')!;
  t.deepEqual(q.tagsRemoved, ['anon-vm', 'identity-anon']);
  t.deepEqual(q.stale, ['tag anon-vm'], 'identity-anon comes off as a tag of another identity first');
  // Without the record (an older snapshot of the same machine) the tag stays, and the plan says it cannot know.
  const unrecorded = produce(owned.view, (d) => { d.owned = { status: 'not-recorded', items: [] }; d.pushed = record(); });
  const p = planText(moved, unrecorded, owned.source).plan!;
  t.deepEqual(p.qubes.find((x) => x.name === 'anon-web')!.tagsRemoved, ['identity-anon']);
  t.regex(p.unknown.join('\n'), /the snapshot does not hold it \(a snapshot older than the record\)/);
});

test('a machine with no record: nothing is stale, and a file whose first line says qpc is not removed for it', (t) => {
  const absent = produce(old.view, (d) => { d.owned = { status: 'absent', items: [] }; d.policy['39-old.policy'] = '# generated by qpc from x.qpol; do not edit\n'; });
  const p = planText(basePolicy, absent, old.source).plan!;
  t.false(p.policyFiles.some((f) => f.path === '39-old.policy'));
  t.true(p.untouchedPolicyFiles.other.includes('39-old.policy'));
  t.false(p.unknown.some((u) => u.includes('/var/lib/qpc/owned')));
  const unrecorded = produce(absent, (d) => { d.owned = { status: 'not-recorded', items: [] }; });
  t.deepEqual(planText(basePolicy, unrecorded, old.source).plan!.policyFiles.find((f) => f.path === '39-old.policy')?.action, 'remove');
});

test('a record that is not a regular file stops provision.sh: a blocker; one not readable is not compared', (t) => {
  const link = produce(old.view, (d) => { d.owned = { status: 'unread', reason: 'not a regular file', items: [] }; });
  t.deepEqual(planText(basePolicy, link, old.source).plan!.blockers, ['the ownership record /var/lib/qpc/owned is not a regular file: provision.sh refuses to run']);
  const unreadable = produce(old.view, (d) => { d.owned = { status: 'unread', reason: 'not readable', items: [] }; });
  const p = planText(basePolicy, unreadable, old.source).plan!;
  t.deepEqual(p.blockers, []);
  t.regex(p.unknown.join('\n'), /could not read it \(not readable; run it as root\)/);
});

test("a qube dropped from the policy: provisioning still takes back what it wrote there, and the plan lists it after the policy's", (t) => {
  const without = laterPolicy.replace(/qube anon-chat in anon \{[^}]*\}\n/, '');
  const p = planText(without, owned.view, owned.source).plan!;
  const chat = p.qubes.find((q) => q.name === 'anon-chat')!;
  t.is(p.qubes.at(-1), chat);
  t.deepEqual(chat.tagsRemoved, ['anon-vm', 'identity-anon']);
  t.deepEqual(chat.stale, ['tag anon-vm', 'tag identity-anon']);
  t.true(p.unmanagedQubes.includes('anon-chat'));
  t.is(p.unchangedQubes, planText(laterPolicy, owned.view, owned.source).plan!.unchangedQubes - 1, 'counted among the policy\'s qubes no more');
});
