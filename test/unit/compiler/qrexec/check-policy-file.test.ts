import test from 'ava';
import { checkText, expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const withFile = (name: string) => `use "qubes"\nsettings { policy-file ${name} }\n`;
const after = (name: string) => checkText(withFile(name)).filter((d) => d.code === 'QP3018');

test('the default main policy file sorts before Global Config', (t) => {
  t.deepEqual(after('30-qpc'), []);
  expectDiagnostics(t, 'use "qubes"\n', []);
});

test('a main policy file after `50-config-*` is an error at the setting value', (t) => {
  expectDiagnostics(t, withFile('60-qpc'), [{ code: 'QP3018', underline: '60-qpc', severity: 'error', message: /^policy file `60-qpc` sorts after Global Config's `50-config-\*` files/ }]);
});

test('the boundary is byte order of `NAME.policy` against `50-config-`', (t) => {
  const reported = (name: string) => after(name).length === 1;
  // Before every `50-config-*.policy`.
  for (const name of ['49-x', '50-a', '50-conf', '50-confif', '50-config']) t.is(reported(name), name === '50-config', name);
  // `50-config.policy`: `.` sorts after `-`, so the file comes after `50-config-clipboard.policy`.
  // Names in Global Config's own `50-config-` range sort among its files: after some of them.
  for (const name of ['50-configz', '50-config_', '50-config-', '50-config-a', '50-config-zz', '51-x', '90-qpc']) t.true(reported(name), name);
});

test('only the main policy file is checked', (t) => {
  t.deepEqual(checkText('use "qubes"\npolicy-file 70-mine { deny qubes.Filecopy from @anyvm to @anyvm }\n').filter((d) => d.code === 'QP3018'), []);
});
