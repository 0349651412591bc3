/**
 * The xen target's registry entry (targets/xen/index.ts): its name, and that
 * emit is the two writers over the resolved domain of every bootable qube,
 * under the paths of targets/paths.ts, in path order. Which domains are left
 * out (QP4302) is shown in check.test.ts; the text itself in the goldens.
 */
import test from 'ava';
import { targetNamed } from '../../../../targets/index.js';
import { libvirtPath, xlConfigPath } from '../../../../targets/paths.js';
import { bootable, domainQubes, resolveDomain } from '../../../../targets/xen/domain.js';
import { libvirtXml } from '../../../../targets/xen/emit-libvirt.js';
import { xlConfig } from '../../../../targets/xen/emit-xl.js';
import { xenTarget } from '../../../../targets/xen/index.js';
import { cases, modelOf, policy } from './support.js';

test('xen: found by its name, requires no other target', (t) => {
  t.is(xenTarget.name, 'xen');
  t.is(targetNamed('xen'), xenTarget);
  t.deepEqual(xenTarget.requires ?? [], []);
});

for (const [name, text] of [
  ['modes.qpol', cases['modes.qpol']],
  ['no-default-kernel.qpol', policy('identity work { network clearnet via sys-firewall; label blue }\nqube a in work { template debian-12-xfce }\nqube h in work { template debian-12-xfce; virt-mode hvm }\nqube k in work { template debian-12-xfce; kernel "6.6.63-1.fc37" }', null)],
] as const) {
  test(`xen ${name}: emit is xlConfig and libvirtXml of each bootable qube's resolved domain, nothing else`, (t) => {
    const model = modelOf(name, text);
    t.true(domainQubes(model).some((q) => bootable(model, q)));
    if (name === 'no-default-kernel.qpol') t.true(domainQubes(model).some((q) => !bootable(model, q)), 'some domains cannot boot (QP4302)');
    const artifacts = xenTarget.emit(model, []);
    const expected = domainQubes(model)
      .filter((q) => bootable(model, q))
      .flatMap((q) => {
        const d = resolveDomain(model, q);
        return [
          { path: xlConfigPath(q.name), contents: xlConfig(d, model.source) },
          { path: libvirtPath(q.name), contents: libvirtXml(d, model.source) },
        ];
      });
    t.deepEqual([...artifacts].sort((a, b) => (a.path < b.path ? -1 : 1)), expected.sort((a, b) => (a.path < b.path ? -1 : 1)));
    t.true(artifacts.every((a) => a.deploy === undefined && a.executable !== true), 'reference files: nothing is installed from them');
  });
}

test('xen: artifacts are in code-unit path order, whatever the qube names', (t) => {
  const model = modelOf('order.qpol', policy([
    'identity work { network clearnet via sys-firewall; label blue }',
    'qube libvirs in work { template debian-12-xfce }',
    'qube Libvirt in work { template debian-12-xfce }',
    'qube a.b in work { template debian-12-xfce }',
  ].join('\n')).replace('qubes 4.2', 'qubes 4.3'));
  const paths = xenTarget.emit(model, []).map((a) => a.path);
  t.deepEqual(paths, [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  t.true(paths.indexOf('xen/libvirs.cfg') < paths.indexOf('xen/libvirt/libvirs.xml'));
});

test('xen: check of a model with a known problem reports it at its item', (t) => {
  const text = policy('identity work { network clearnet via sys-firewall; label blue }\nqube a in work { template debian-12-xfce; kernelopts "x=<y>" }');
  const found = xenTarget.check(modelOf('bad.qpol', text));
  t.deepEqual(found.map((d) => d.code), ['QP4002']);
  t.is(text.slice(found[0].span!.start, found[0].span!.end), 'kernelopts "x=<y>"');
});
