/**
 * The qrexec target's registry entry (targets/qrexec/index.ts): its name, the
 * artifacts it declares (one file per policy file of the model, and the
 * system information) and that its check reports a known problem.
 */
import test from 'ava';
import { targetNamed } from '../../../../targets/index.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { exampleModel, must, withRule } from './models.js';

const model = must(exampleModel('journalist', '4.3'));

test('qrexec: found by its name, requires no other target', (t) => {
  t.is(qrexecTarget.name, 'qrexec');
  t.is(targetNamed('qrexec'), qrexecTarget);
  t.deepEqual(qrexecTarget.requires ?? [], []);
  t.regex(qrexecTarget.summary, /\/etc\/qubes\/policy\.d/);
});

test('qrexec: emits one policy file per policy file of the model and the system information, nothing else', (t) => {
  t.true(model.policyFiles.length > 0);
  const paths = qrexecTarget.emit(model, []).map((a) => a.path);
  t.deepEqual([...paths].sort(), [...model.policyFiles.map((f) => `qubes/policy.d/${f.name}.policy`), 'qubes/system-info.json'].sort());
  // Its files are installed by provisioning, not deployed into a qube themselves.
  t.true(qrexecTarget.emit(model, []).every((a) => a.deploy === undefined && a.executable !== true));
});

test('qrexec: check of a model with a service name Qubes would split reports QP4002, and emit refuses it', (t) => {
  t.deepEqual(qrexecTarget.check(model), []);
  const bad = withRule(model, 0, 0, (r) => ({ ...r, service: 'qubes.Gpg qubes.VMShell' }));
  t.deepEqual(qrexecTarget.check(bad).map((d) => d.code), ['QP4002']);
  t.throws(() => qrexecTarget.emit(bad, []));
});
