import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
`;

function allocate(apps: string, lock?: string) {
  const files = new Map([['p.qpol', head + `qube chat in anon {\n  template whonix-workstation-18\n${apps}}\nqube web in anon {\n  template whonix-workstation-18\n  app a { socks dedicated }\n}\n`]]);
  if (lock !== undefined) files.set('p.qpol.lock', lock);
  const r = check('p.qpol', { host: overlayHost(files, nodeHost) });
  const ports = Object.fromEntries((r.allocation?.apps ?? []).map((a) => [`${a.qube}/${a.app}`, a.port]));
  return { r, ports };
}

test('dedicated apps get a port of the pre-bound group that matches their flags', (t) => {
  const { ports, r } = allocate('  app a { socks dedicated }\n  app b { socks dedicated isolate dest-addr }\n  app c { socks dedicated isolate dest-port }\n  app d { socks dedicated isolate dest-port dest-addr }\n  app e { socks dedicated }\n');
  t.deepEqual(r.diagnostics.filter((d) => d.code !== 'QP4302'), []);
  t.is(ports['chat/a'], 9152);
  t.is(ports['chat/e'], 9153);
  t.is(ports['chat/b'], 9160);
  t.is(ports['chat/c'], 9170);
  t.is(ports['chat/d'], 9180);
  t.is(ports['web/a'], 9152, 'ports repeat across qubes: Tor separates qubes by address');
  t.deepEqual(r.allocation!.listeners, []);
});

test('other flag sets get new listeners on ports Whonix leaves free, shared across qubes', (t) => {
  const { ports, r } = allocate('  app a { socks dedicated isolate client-protocol }\n  app b { socks dedicated isolate client-protocol }\n  app c { socks dedicated isolate client-protocol dest-addr }\n');
  t.is(ports['chat/a'], 9112);
  t.is(ports['chat/b'], 9113);
  t.is(ports['chat/c'], 9116);
  t.deepEqual(r.allocation!.listeners.map((l) => `${l.port} ${l.isolate.join(',')}`), ['9112 client-protocol', '9113 client-protocol', '9116 client-protocol,dest-addr']);
});

test('pinned and auth apps use the gateway ports they name', (t) => {
  const { r } = allocate('  app tb { socks port 9150 }\n  app git { socks auth }\n  app ssh { socks auth }\n');
  t.deepEqual(r.diagnostics.filter((d) => d.code !== 'QP4302'), []);
  t.deepEqual(r.allocation!.apps.filter((a) => a.qube === 'chat').map((a) => `${a.app} ${a.mode} ${a.port}`), ['git auth 9050', 'ssh auth 9050', 'tb port 9150']);
});

test('the lock keeps ports when apps are added or removed', (t) => {
  const first = allocate('  app b { socks dedicated }\n  app c { socks dedicated }\n');
  t.is(first.ports['chat/b'], 9152);
  t.is(first.ports['chat/c'], 9153);
  const lock = first.r.lock!.text;
  // `a` sorts first, but the locked apps keep their ports.
  const added = allocate('  app a { socks dedicated }\n  app b { socks dedicated }\n  app c { socks dedicated }\n', lock);
  t.is(added.ports['chat/b'], 9152);
  t.is(added.ports['chat/c'], 9153);
  t.is(added.ports['chat/a'], 9154);
  t.true(added.r.lock!.changed);
  const removed = allocate('  app c { socks dedicated }\n', lock);
  t.is(removed.ports['chat/c'], 9153);
  const same = allocate('  app b { socks dedicated }\n  app c { socks dedicated }\n', lock);
  t.false(same.r.lock!.changed);
});

test('binding errors', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9101 }; app b { socks port 9101 } }\n', [{ code: 'QP3020', underline: '9101' }]);
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9052 } }\n', [{ code: 'QP3022', message: /gateway-local control/ }]);
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9112 } }\n', [{ code: 'QP3021', underline: '9112' }]);
  const none = 'qube chat in anon { template whonix-workstation-18; app a { socks none } }\n';
  expectDiagnostics(t, head + none, [{ code: 'QP3024', underline: 'socks none', severity: 'warning' }]);
  expectDiagnostics(t, head.replace('disposable anon-dvm }', 'disposable anon-dvm; isolation per-qube }') + none, []);
});
