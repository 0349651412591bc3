/**
 * The provision target's registry entry (targets/provision/index.ts): its
 * name, the targets it requires, the artifacts it declares for what it is
 * given, and that its check reports a known problem.
 */
import test from 'ava';
import { targetNamed } from '../../../../targets/index.js';
import { provisionTarget } from '../../../../targets/provision/index.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { modelOf } from './harness.js';

const model = modelOf('examples/journalist.qpol');
const inputs = [...qrexecTarget.emit(model, []), ...whonixTarget.emit(model, [])];

test('provision: found by its name, requires the targets whose files it installs', (t) => {
  t.is(provisionTarget.name, 'provision');
  t.is(targetNamed('provision'), provisionTarget);
  t.deepEqual([...(provisionTarget.requires ?? [])].sort(), ['qrexec', 'whonix']);
});

test('provision: provision.sh (executable), the Salt states and top, and one reload script per qube with reload commands', (t) => {
  const out = provisionTarget.emit(model, inputs);
  const reloadQubes = [...new Set(inputs.filter((a) => (a.deploy?.reload ?? []).length > 0).map((a) => a.deploy!.qube))].sort();
  t.true(reloadQubes.length > 0);
  t.deepEqual(out.map((a) => a.path).sort(), [...reloadQubes.map((q) => `qubes/reload/${q}.sh`), 'qubes/provision.sh', 'qubes/salt/qpc.sls', 'qubes/salt/qpc.top', 'qubes/snapshot.sh'].sort());
  t.true(out.find((a) => a.path === 'qubes/provision.sh')!.executable);
  for (const s of out.filter((a) => a.path.startsWith('qubes/reload/'))) t.deepEqual(s.deploy, { qube: s.path.slice('qubes/reload/'.length, -3), path: '/usr/local/lib/qpc/reload.sh', mode: '0755' });
});

test('provision: without inputs there is nothing to install or reload, and still a script and the states', (t) => {
  const out = provisionTarget.emit(model, []);
  t.deepEqual(out.map((a) => a.path).sort(), ['qubes/provision.sh', 'qubes/salt/qpc.sls', 'qubes/salt/qpc.top', 'qubes/snapshot.sh']);
  // Only the snapshot script is verified: it ships with every provision.sh.
  t.deepEqual(out.find((a) => a.path === 'qubes/provision.sh')!.contents.split('\n').filter((l) => l.startsWith('verify ')).map((l) => l.split(' ')[1]), ["'qubes/snapshot.sh'"]);
});

test('provision: check of a model with a known problem reports it', (t) => {
  t.deepEqual(provisionTarget.check(model), []);
  const q = model.qubes.find((x) => x.name === 'work-web')!;
  const bad = { ...model, qubes: model.qubes.map((x) => (x === q ? { ...x, label: undefined } : x)) };
  const found = provisionTarget.check(bad);
  t.deepEqual(found.map((d) => d.code), ['QP4001']);
  t.regex(found[0].message, /`work-web` without a label/);
});
