/**
 * The input artifacts provisioning installs (targets/provision/inputs.ts):
 * which it takes, how it orders and hashes them, and that anything outside
 * the allow-lists (a bug in another target) throws instead of reaching a
 * script.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import type { Artifact } from '../../../../compiler/target.js';
import { collectInputs, reloadsOf, type DeployInput } from '../../../../targets/provision/inputs.js';
import { modelOf } from './harness.js';

const model = modelOf('examples/journalist.qpol');
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

const policy = (name: string, contents = `# ${name}\n`): Artifact => ({ path: `qubes/policy.d/${name}.policy`, contents });
const pushed = (path: string, qube: string, target: string, extra: Partial<NonNullable<Artifact['deploy']>> = {}): Artifact => ({
  path,
  contents: `contents of ${path}\n`,
  deploy: { qube, path: target, mode: '0644', ...extra },
});

test('policy files: named by their file name without .policy, sorted by path, hashed', (t) => {
  const { policies, deploys } = collectInputs(model, [policy('50-b'), policy('30-qpc', 'x\n')]);
  t.deepEqual(policies.map((p) => p.name), ['30-qpc', '50-b']);
  t.deepEqual(policies[0], { name: '30-qpc', path: 'qubes/policy.d/30-qpc.policy', contents: 'x\n', sha256: hex('x\n') });
  t.deepEqual(deploys, []);
});

test('artifacts that are neither policy files nor deployed are not provisioning\'s', (t) => {
  const r = collectInputs(model, [{ path: 'qubes/system-info.json', contents: '{}\n' }, { path: 'whonix/ports.json', contents: '{}\n' }]);
  t.deepEqual(r, { policies: [], deploys: [] });
});

test('deployed files: qube, target path, mode and the mode as stat prints it, hash, reload commands', (t) => {
  const reload = [['whonix_firewall']];
  const { deploys } = collectInputs(model, [pushed('whonix/sys-whonix/fw.conf', 'sys-whonix', '/usr/local/etc/fw.conf', { reload })]);
  t.deepEqual(deploys, [{
    path: 'whonix/sys-whonix/fw.conf',
    sha256: hex('contents of whonix/sys-whonix/fw.conf\n'),
    qube: 'sys-whonix',
    target: '/usr/local/etc/fw.conf',
    mode: '0644',
    statMode: '644',
    reload,
  }]);
  t.is(collectInputs(model, [pushed('a/b', 'sys-whonix', '/x', { mode: '755' })]).deploys[0].statMode, '755');
  t.is(collectInputs(model, [pushed('a/b', 'sys-whonix', '/x', { mode: '0600' })]).deploys[0].statMode, '600');
  t.deepEqual(collectInputs(model, [pushed('a/b', 'sys-whonix', '/x')]).deploys[0].reload, [], 'no reload: none');
});

test('deployed files are sorted by qube, then by target path inside the qube, not by artifact path', (t) => {
  const { deploys } = collectInputs(model, [
    pushed('a/3', 'sys-whonix', '/b'),
    pushed('a/1', 'source-web', '/z'),
    pushed('a/2', 'sys-whonix', '/a'),
    pushed('a/0', 'source-web', '/y'),
  ]);
  t.deepEqual(deploys.map((d) => `${d.qube}:${d.target}`), ['source-web:/y', 'source-web:/z', 'sys-whonix:/a', 'sys-whonix:/b']);
});

test('two artifacts deployed to one file of one qube throw; the same path in two qubes is fine', (t) => {
  t.throws(() => collectInputs(model, [pushed('a/1', 'sys-whonix', '/x'), pushed('a/2', 'sys-whonix', '/x')]), { message: /two artifacts are deployed to sys-whonix:\/x/ });
  t.notThrows(() => collectInputs(model, [pushed('a/1', 'sys-whonix', '/x'), pushed('a/2', 'source-web', '/x')]));
});

test('an artifact path that is absolute, walks up or is not plain throws', (t) => {
  for (const path of ['/etc/passwd', '../x', 'a/../b', 'a/./b', './a', 'a//b', 'a/', '', 'a b', 'a\nb', '.hidden', 'a/.b', 'caf\u00e9']) {
    t.throws(() => collectInputs(model, [{ path, contents: '' }]), { message: /^provision: unsafe artifact path/ }, JSON.stringify(path));
  }
  t.notThrows(() => collectInputs(model, [{ path: 'a/b.c/d@e+f_g-h', contents: '' }]));
});

test('a policy artifact must be qubes/policy.d/NAME.policy with NAME in [0-9a-z_-]', (t) => {
  for (const path of ['qubes/policy.d/30-QPC.policy', 'qubes/policy.d/30.qpc.policy', 'qubes/policy.d/sub/30-qpc.policy', 'qubes/policy.d/30-qpc', 'qubes/policy.d/30-qpc.policy.bak', 'qubes/policy.d/30-qpc.policyx', 'qubes/policy.d/30-qpc.POLICY', 'qubes/policy.d/30+qpc.policy']) {
    t.throws(() => collectInputs(model, [{ path, contents: '' }]), { message: /is not qubes\/policy\.d\/NAME\.policy/ }, path);
  }
});

test('a file deployed to a qube the policy does not declare, or a name that is no qube name, throws', (t) => {
  t.throws(() => collectInputs(model, [pushed('a/b', 'sys-usb', '/x')]), { message: /deployed to "sys-usb", which is not a qube of the policy/ });
  t.throws(() => collectInputs(model, [pushed('a/b', 'sys-whonix;id', '/x')]), { message: /not a qube of the policy/ });
});

test('an unsafe path inside the qube throws: relative, walking up, not plain', (t) => {
  for (const target of ['usr/local/x', '/usr/../etc/x', '/usr/./x', '/', '/a//b', '/a/', '/a b', '/a\nb', '/a;b']) {
    t.throws(() => collectInputs(model, [pushed('a/b', 'sys-whonix', target)]), { message: /unsafe path/ }, JSON.stringify(target));
  }
});

test('a mode with setuid, setgid or sticky bits, or not octal, throws', (t) => {
  for (const mode of ['4755', '04755', '2755', '1777', '0o644', '644 ', '0648', '64', 'rw-r--r--']) {
    t.throws(() => collectInputs(model, [pushed('a/b', 'sys-whonix', '/x', { mode })]), { message: /unsafe mode/ }, mode);
  }
});

test('a reload command that is empty or holds a control character or non-ASCII throws; tabs and newlines are program text', (t) => {
  for (const reload of [[[]], [['tor', 'a\x00']], [['tor', 'a\rb']], [['caf\u00e9']], [['']]]) {
    t.throws(() => collectInputs(model, [pushed('a/b', 'sys-whonix', '/x', { reload })]), { message: /unsafe reload command/ }, JSON.stringify(reload));
  }
  t.notThrows(() => collectInputs(model, [pushed('a/b', 'sys-whonix', '/x', { reload: [['sh', '-c', 'set -eu\n\techo "$1"', 'name', '/x']] })]));
});

test('reloadsOf: each command once, in the order first seen', (t) => {
  const d = (reload: string[][]): DeployInput => ({ path: 'p', sha256: '', qube: 'q', target: '/t', mode: '0644', statMode: '644', reload });
  t.deepEqual(reloadsOf([d([['a'], ['b']]), d([['b'], ['c']]), d([['a']])]), [['a'], ['b'], ['c']]);
  t.deepEqual(reloadsOf([d([['a', 'b c']]), d([['a b', 'c']])]), [['a', 'b c'], ['a b', 'c']], 'argv words are not joined for comparison');
  t.deepEqual(reloadsOf([]), []);
});
