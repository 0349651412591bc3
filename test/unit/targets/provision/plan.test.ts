/**
 * What provisioning does to each qube, as data (targets/provision/plan.ts):
 * the properties of each class in the order they are set, the order qubes are
 * created in, the identity tags, the template a qube really runs on, and the
 * Whonix templates whose marker is verified.
 */
import test from 'ava';
import { overlayHost } from '../../../../compiler/host.js';
import { check } from '../../../../compiler/index.js';
import { qubeNamed, type ModelQube, type PolicyModel } from '../../../../compiler/model.js';
import {
  defaultDispvmOf,
  dependenciesOf,
  identityTags,
  prefsOf,
  provisioningOrder,
  pyBool,
  QUBES_DEFAULT,
  templateVmOf,
  whonixMarkers,
} from '../../../../targets/provision/plan.js';

const text = `use "qubes"
use "whonix"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network clearnet via sys-firewall; label blue }
identity anon { network tor via sys-whonix; label red }
qube work-web in work { template debian-12-xfce; memory 500 max 2000; vcpus 3; kernel none; kernelopts "quiet"; virt-mode pvh; autostart }
disposable work-dvm in work { template debian-12-xfce }
named-disposable work-named in work { template work-dvm }
standalone box in work { }
qube anon-web in anon { template whonix-workstation-18 }
`;
const entry = 'plan.qpol';
const result = check(entry, { host: overlayHost(new Map([[entry, text]])) });
const model = result.model!;
const q = (name: string): ModelQube => qubeNamed(model, name)!;
const names = (p: { name: string }[]) => p.map((x) => x.name);
const value = (qube: ModelQube, pref: string, m: PolicyModel = model) => prefsOf(qube, m).find((p) => p.name === pref)?.value;

test('the policy checks', (t) => {
  t.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
});

test('pyBool: Python booleans as qvm-prefs prints them', (t) => {
  t.is(pyBool(true), 'True');
  t.is(pyBool(false), 'False');
});

test('prefsOf: dom0 gets none; flags first, default_dispvm last and alone in the second pass', (t) => {
  t.deepEqual(prefsOf(q('dom0'), model), []);
  const p = prefsOf(q('work-web'), model);
  t.deepEqual(names(p), ['provides_network', 'template_for_dispvms', 'template', 'label', 'netvm', 'memory', 'maxmem', 'vcpus', 'virt_mode', 'kernel', 'kernelopts', 'autostart', 'default_dispvm']);
  t.deepEqual(p.filter((x) => x.late).map((x) => x.name), ['default_dispvm']);
});

test('prefsOf: values as qvm-prefs takes them: numbers as text, `kernel none` and no netvm as \'\'', (t) => {
  t.is(value(q('work-web'), 'memory'), '500');
  t.is(value(q('work-web'), 'maxmem'), '2000');
  t.is(value(q('work-web'), 'vcpus'), '3');
  t.is(value(q('work-web'), 'kernel'), '');
  t.is(value(q('work-web'), 'kernelopts'), 'quiet');
  t.is(value(q('work-web'), 'autostart'), 'True');
  t.is(value(q('work-web'), 'netvm'), 'sys-firewall');
  t.is(value(q('debian-12-xfce'), 'netvm'), '');
  t.is(value(q('work-dvm'), 'template_for_dispvms'), 'True');
});

test('prefsOf: only the properties each class has (template on AppVM and DispVM; template_for_dispvms on AppVM and StandaloneVM)', (t) => {
  const has = (name: string, pref: string) => names(prefsOf(q(name), model)).includes(pref);
  t.false(has('debian-12-xfce', 'template'));
  t.false(has('debian-12-xfce', 'template_for_dispvms'));
  t.true(has('work-named', 'template'));
  t.false(has('work-named', 'template_for_dispvms'));
  t.true(has('box', 'template_for_dispvms'));
  t.false(has('box', 'template'));
  t.false(names(prefsOf({ ...q('box'), template: 'debian-12-xfce' }, model)).includes('template'), 'not even when the model names one');
});

test('prefsOf: optional values the model leaves undefined stay at Qubes\' defaults; booleans are always enforced', (t) => {
  const p = names(prefsOf(q('box'), model));
  for (const left of ['memory', 'maxmem', 'vcpus', 'virt_mode', 'kernel', 'kernelopts']) t.false(p.includes(left), left);
  for (const always of ['provides_network', 'autostart', 'netvm', 'default_dispvm']) t.true(p.includes(always), always);
  t.false(names(prefsOf({ ...q('box'), label: undefined }, model)).includes('label'));
});

test('defaultDispvmOf: the system information\'s value, \'\' for none, *default* where the analysis relies on Qubes\' default', (t) => {
  t.is(defaultDispvmOf(model, q('work-web')), '');
  t.is(defaultDispvmOf(model, q('work-named')), QUBES_DEFAULT);
  t.is(QUBES_DEFAULT, '*default*');
  const domains = new Map(model.systemInfo.domains);
  domains.set('work-web', { ...domains.get('work-web')!, defaultDispvm: 'work-dvm' });
  t.is(defaultDispvmOf({ ...model, systemInfo: { domains } }, q('work-web')), 'work-dvm');
  domains.delete('work-web');
  t.throws(() => defaultDispvmOf({ ...model, systemInfo: { domains } }, q('work-web')), { message: /work-web is missing from the system information/ });
});

test('dependenciesOf: template and netvm, never the qube itself', (t) => {
  t.deepEqual(dependenciesOf(q('work-web')), ['debian-12-xfce', 'sys-firewall']);
  t.deepEqual(dependenciesOf(q('box')), ['sys-firewall']);
  t.deepEqual(dependenciesOf(q('debian-12-xfce')), []);
  t.deepEqual(dependenciesOf({ ...q('box'), netvm: 'box' }), []);
});

test('provisioningOrder: every qube after its template and its netvm, each once', (t) => {
  const order = names(provisioningOrder(model));
  t.is(order.length, model.qubes.length);
  t.is(new Set(order).size, order.length);
  for (const x of model.qubes) for (const d of dependenciesOf(x)) t.true(order.indexOf(d) < order.indexOf(x.name), `${d} before ${x.name}`);
  t.true(order.indexOf('work-dvm') < order.indexOf('work-named'), 'a disposable template before its named disposable');
  t.true(order.indexOf('sys-whonix') < order.indexOf('anon-web'), 'a gateway before its client');
});

test('provisioningOrder: ties by name (depth-first over the name-sorted qubes and their dependencies)', (t) => {
  t.deepEqual(names(provisioningOrder(model)), [
    'debian-12-xfce', 'sys-net', 'sys-firewall', 'whonix-gateway-18', 'sys-whonix', 'whonix-workstation-18', 'anon-web',
    'box', 'dom0', 'work-dvm', 'work-named', 'work-web',
  ]);
});

test('provisioningOrder: a dependency loop throws (the checker refuses it first); a dependency outside the model is skipped', (t) => {
  const loop = { ...model, qubes: [...model.qubes.filter((x) => x.name !== 'box' && x.name !== 'work-web'), { ...q('box'), netvm: 'work-web' }, { ...q('work-web'), netvm: 'box' }] };
  t.throws(() => provisioningOrder(loop), { message: /dependency loop through qube/ });
  const outside = { ...model, qubes: model.qubes.map((x) => (x.name === 'box' ? { ...x, netvm: 'sys-elsewhere' } : x)) };
  t.true(names(provisioningOrder(outside)).includes('box'));
});

test('identityTags: every identity\'s tag, once, sorted', (t) => {
  t.deepEqual(identityTags(model), ['identity-anon', 'identity-work']);
  const twice = { ...model, identities: [...model.identities, { ...model.identities[0], name: 'again' }] };
  t.deepEqual(identityTags(twice), ['identity-anon', 'identity-work']);
});

test('templateVmOf: the template, through a disposable template for a named disposable; none for a template, a standalone or a loop', (t) => {
  t.is(templateVmOf(model, q('work-web'))?.name, 'debian-12-xfce');
  t.is(templateVmOf(model, q('work-named'))?.name, 'debian-12-xfce');
  t.is(templateVmOf(model, q('debian-12-xfce')), undefined);
  t.is(templateVmOf(model, q('box')), undefined);
  const loop = { ...model, qubes: [...model.qubes.filter((x) => x.name !== 'work-dvm' && x.name !== 'work-named'), { ...q('work-dvm'), template: 'work-named' }, q('work-named')] };
  t.is(templateVmOf(loop, qubeNamed(loop, 'work-named')!), undefined);
});

test('whonixMarkers: the gateway template of a Tor gateway and the workstation template of a Tor qube, sorted', (t) => {
  t.deepEqual(whonixMarkers(model), [
    { template: 'whonix-gateway-18', role: 'gateway', feature: 'whonix-gw' },
    { template: 'whonix-workstation-18', role: 'workstation', feature: 'whonix-ws' },
  ]);
});

test('whonixMarkers: a Whonix workstation template no Tor qube uses is not verified', (t) => {
  const noTor = { ...model, qubes: model.qubes.filter((x) => x.name !== 'anon-web') };
  t.deepEqual(whonixMarkers(noTor).map((m) => m.role), ['gateway']);
  const clearnet = { ...model, qubes: model.qubes.map((x) => (x.name === 'anon-web' ? { ...x, identity: 'work' } : x)) };
  t.deepEqual(whonixMarkers(clearnet).map((m) => m.role), ['gateway']);
});
