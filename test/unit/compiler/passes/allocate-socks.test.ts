import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { lockText, parseLock } from '../../../../compiler/passes/allocate-socks.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; disposable anon-dvm }
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
  t.deepEqual(r.diagnostics, []);
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
  t.deepEqual(r.diagnostics, []);
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

test('lock files round-trip and bad ones are refused', (t) => {
  const lock = { apps: { 'q/b': 9153, 'q/a': 9152 }, listeners: { gw: { '9231': ['client-protocol'], '9112': [] } }, qubes: { q: 2, gw: 1 } };
  const text = lockText(lock);
  t.deepEqual(parseLock(text), { apps: { 'q/a': 9152, 'q/b': 9153 }, listeners: { gw: { '9112': [], '9231': ['client-protocol'] } }, qubes: { gw: 1, q: 2 } });
  // Lock files written before qube numbers were recorded still read.
  t.deepEqual(parseLock('{"version": 1, "apps": {}, "listeners": {}}'), { apps: {}, listeners: {}, qubes: {} });
  t.regex(parseLock('{"version": 1, "apps": {}, "listeners": {}, "qubes": {"q": -1}}') as string, /qubes/);
  t.is(lockText(parseLock(text) as never), text);
  t.regex(parseLock('{') as string, /not JSON/);
  t.regex(parseLock('{"version": 2}') as string, /version 1/);
  t.regex(parseLock('{"version": 1, "apps": {"a/b": 70000}, "listeners": {}}') as string, /port/);
  const { r } = allocate('  app a { socks dedicated }\n', 'garbage');
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP5007']);
});

test('binding errors', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9101 }; app b { socks port 9101 } }\n', [{ code: 'QP3020', underline: '9101' }]);
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9052 } }\n', [{ code: 'QP3022', message: /gateway-local control/ }]);
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; app a { socks port 9112 } }\n', [{ code: 'QP3021', underline: '9112' }]);
  const none = 'qube chat in anon { template whonix-workstation-18; app a { socks none } }\n';
  expectDiagnostics(t, head + none, [{ code: 'QP3024', underline: 'socks none', severity: 'warning' }]);
  expectDiagnostics(t, head.replace('disposable anon-dvm }', 'disposable anon-dvm; isolation per-qube }') + none, []);
});

test('a malformed lock file is reported with the stage\'s other findings, not instead of them', (t) => {
  const host = overlayHost(
    new Map([
      ['p.qpol', 'use "qubes"\ntemplate deb\ngateway a { template deb; netvm b }\ngateway b { template deb; netvm a }\n'],
      ['p.qpol.lock', 'garbage'],
    ]),
    nodeHost,
  );
  const r = check('p.qpol', { host });
  t.deepEqual([...new Set(r.diagnostics.map((d) => d.code))].sort(), ['QP3001', 'QP5007']);
  t.truthy(r.policy, 'the qrexec policy is still evaluated');
  t.is(r.model, undefined);
});
