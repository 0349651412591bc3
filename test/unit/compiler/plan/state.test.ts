/** The machine as the plan sees it: the recorded snapshot and a system info as frozen records. */
import test from 'ava';
import { viewOfSnapshot, viewOfSystemInfo, record } from '../../../../compiler/plan/state.js';
import { systemInfoFromJson, systemInfoOf } from '../../../../compiler/snapshot/read.js';
import { nodeHost, readSnapshot } from '../../../../compiler/index.js';
import { fixture } from './machine.js';

const state = readSnapshot(fixture('qubes-4.2-whonix'), nodeHost).state;
const view = viewOfSnapshot(state);

test('every qube, with its properties as qvm-prefs QUBE PROP prints them', (t) => {
  t.deepEqual(Object.keys(view.qubes).sort(), [...state.qubes.keys()].sort());
  const vault = view.qubes.vault!;
  // The listing prints an empty netvm as None; provision.sh compares the value of one property, ''.
  t.deepEqual(vault.prefs.netvm, { value: '', isDefault: false });
  t.deepEqual(vault.prefs.default_dispvm, { value: 'default-dvm', isDefault: true });
  t.is(vault.label, 'black');
  t.is(vault.template, 'fedora-40-xfce');
  t.deepEqual({ ...view.qubes['anon-whonix']!.tags }, { 'anon-vm': true, 'audiovm-dom0': true, 'created-by-dom0': true, 'guivm-dom0': true });
  t.deepEqual({ ...view.qubes['sys-net']!.services }, { clocksync: true, 'meminfo-writer': false, 'minimal-netvm': true });
  // qvm-features prints the services as service.NAME features too: they are services only.
  t.true([...state.qubes.get('sys-net')!.features.keys()].includes('service.clocksync'));
  t.false(Object.keys(view.qubes['sys-net']!.features).some((k) => k.startsWith('service.')));
});

test('devices by class and id, with their options', (t) => {
  t.deepEqual(Object.keys(view.qubes['sys-usb']!.devices), ['pci dom0:00_14.0']);
  t.deepEqual({ ...view.qubes['sys-usb']!.devices['pci dom0:00_14.0']!.options }, { 'no-strict-reset': 'True' });
  t.deepEqual(Object.keys(view.qubes['sys-net']!.devices), ['pci dom0:00_14.3']);
});

test('policy files by path under policy.d, Whonix files by directory and name', (t) => {
  t.true('90-default.policy' in view.policy);
  t.true('include/admin-local-ro' in view.policy);
  t.is(view.policy['50-config-input.policy'], state.policy.find((f) => f.path === '50-config-input.policy')!.text);
  t.deepEqual(Object.keys(view.whonix), ['sys-whonix']);
  t.deepEqual(Object.keys(view.whonix['sys-whonix']!), ['torrc.d/50_user.conf']);
});

test('frozen deeply, and records have no prototype', (t) => {
  t.true(Object.isFrozen(view) && Object.isFrozen(view.qubes) && Object.isFrozen(view.qubes.work!.prefs.netvm));
  t.throws(() => { (view.policy as Record<string, string>)['99-x.policy'] = ''; }, { instanceOf: TypeError });
  const r = record([['__proto__', 'a feature']]);
  t.is(Object.getPrototypeOf(r), null);
  t.deepEqual(Object.keys(r), ['__proto__']);
});

test('a system info: classes, tags, default disposables, template_for_dispvms and internal only', (t) => {
  const v = viewOfSystemInfo(systemInfoOf(state));
  t.deepEqual(Object.keys(v.qubes).sort(), Object.keys(view.qubes).sort());
  const dvm = v.qubes['default-dvm']!;
  t.deepEqual({ ...dvm.prefs }, { default_dispvm: { value: 'default-dvm', isDefault: true }, template_for_dispvms: { value: 'True', isDefault: false } });
  t.deepEqual({ ...v.qubes.dom0!.prefs }, {});
  t.deepEqual(v.policy, {});
  const info = systemInfoFromJson('{"domains": {"dom0": {"type": "AdminVM", "tags": []}, "w": {"type": "AppVM", "tags": ["t"], "default_dispvm": null, "internal": "1"}}}');
  if ('error' in info) throw new Error(info.error);
  const w = viewOfSystemInfo(info).qubes.w!;
  t.deepEqual({ ...w.tags }, { t: true });
  t.deepEqual({ ...w.features }, { internal: '1' });
  t.deepEqual(w.prefs.default_dispvm, { value: '', isDefault: false });
});
