/**
 * Qubes 4.3 facts the model must carry (qubes-core-qrexec 4.3 parser.py,
 * qubes-core-admin api/internal.py): the `internal` feature takes a qube out
 * of ask dialogs, every domain has a label, `uuid:` tokens name qubes, and
 * qrexec's `*` matches every qube, dom0 included, in the source and target columns.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { query } from '../../../../compiler/qrexec/query.js';
import { systemInfoText } from '../../../../targets/qrexec/emit.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const policy = (release: string, rules = '') => `use "qubes"
settings { qubes ${release} }
template deb
identity w { network none; label red }
qube a in w { template deb }
qube b in w { template deb; feature internal "1" }
qube c in w { template deb }
${rules}`;

function run(text: string) {
  return check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost) });
}

test('on 4.3 a qube with the internal feature is left out of ask dialogs; 4.2 lists it', (t) => {
  const rules = 'ask my.Service from a to w\n';
  const on43 = run(policy('4.3', rules));
  const d43 = query(on43.policy!, { service: 'my.Service', argument: '+', source: 'a', target: 'c' });
  t.is(d43.action, 'ask');
  t.deepEqual(d43.targets, ['c']);
  const on42 = run(policy('4.2', rules));
  t.deepEqual(query(on42.policy!, { service: 'my.Service', argument: '+', source: 'a', target: 'c' }).targets, ['b', 'c']);
});

test('4.3 system info carries the internal feature and a label for every domain', (t) => {
  const info = JSON.parse(systemInfoText(run(policy('4.3')).model!)).domains as Record<string, { internal: unknown; label: unknown; icon: unknown }>;
  t.is(info.b.internal, '1');
  t.is(info.a.internal, null);
  t.is(info.dom0.label, '0x000000', 'the colour of black, as str(label.color) gives it');
  t.is(info.deb.label, '0x000000');
  t.is(info.deb.icon, 'appvm-black');
  t.is(info.a.label, '0xcc0000');
});

test('uuid: tokens: dom0\'s on 4.3; QP2022 on 4.2; a UUID qpc cannot resolve is QP2013', (t) => {
  const zero = 'uuid:00000000-0000-0000-0000-000000000000';
  const r = run(policy('4.3', `allow qubes.GetDate from a to ${zero}\n`));
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
  t.is(query(r.policy!, { service: 'qubes.GetDate', argument: '+', source: 'a', target: 'dom0' }).action, 'allow');
  expectDiagnostics(t, policy('4.2', `allow qubes.GetDate from a to ${zero}\n`), [{ code: 'QP2022', underline: zero }]);
  expectDiagnostics(t, policy('4.3', 'allow qubes.GetDate from a to uuid:1234abcd-0000\n'), [{ code: 'QP2013', underline: 'uuid:1234abcd-0000' }]);
});

test('qrexec\'s `*` in the source and target columns matches every qube, dom0 included', (t) => {
  for (const release of ['4.2', '4.3']) {
    const r = run(policy(release, 'allow qubes.Gpg from * to *\n'));
    t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), [], release);
    t.is(query(r.policy!, { service: 'qubes.Gpg', argument: '+', source: 'a', target: 'c' }).action, 'allow');
    t.is(query(r.policy!, { service: 'qubes.Gpg', argument: '+', source: 'a', target: '@adminvm' }).action, 'allow');
    t.is(query(r.policy!, { service: 'qubes.Gpg', argument: '+', source: 'dom0', target: 'a' }).action, 'allow');
  }
  expectDiagnostics(t, policy('4.3', 'allow qubes.Gpg from a to @default target *\n'), [{ code: 'QP2015', underline: '*' }]);
});
