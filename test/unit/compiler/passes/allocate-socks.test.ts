import test from 'ava';
import { check, compile } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { lockText, parseLock } from '../../../../compiler/passes/allocate-socks.js';
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

test('lock files round-trip and bad ones are refused', (t) => {
  const lock = { apps: { 'q/b': 9153, 'q/a': 9152 }, listeners: { gw: { '9231': ['client-protocol'], '9112': [] } }, qubes: { q: 2, gw: 1 } };
  const text = lockText(lock);
  t.deepEqual(parseLock(text), { apps: { 'q/a': 9152, 'q/b': 9153 }, listeners: { gw: { '9112': [], '9231': ['client-protocol'] } }, qubes: { gw: 1, q: 2 } });
  // Lock files written before qube numbers were recorded still read.
  t.deepEqual(parseLock('{"version": 1, "apps": {}, "listeners": {}}'), { apps: {}, listeners: {}, qubes: {} });
  t.is(lockText(parseLock(text) as never), text);
  t.regex(parseLock('{') as string, /not JSON/);
  t.regex(parseLock('{"version": 2}') as string, /version 1/);
  // A section that is not a map makes the file unusable; a bad entry is checked at the entry (below).
  t.regex(parseLock('{"version": 1, "apps": [], "listeners": {}}') as string, /apps/);
  t.regex(parseLock('{"version": 1, "apps": {}, "listeners": {}, "qubes": 3}') as string, /qubes/);
  t.deepEqual(parseLock('{"version": 1, "apps": {"a/b": 70000}, "listeners": {}}'), { apps: { 'a/b': 70000 }, listeners: {}, qubes: {} });
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

/** A Tor qube with one dedicated app whose flags need a listener of its own, compiled for the whonix target over a given lock. */
async function compileWithLock(lock: string) {
  const text = head + 'qube chat in anon {\n  template whonix-workstation-18\n  app ssh { socks dedicated isolate client-protocol }\n}\n';
  const files = new Map([['p.qpol', text], ['p.qpol.lock', lock]]);
  const r = await compile('p.qpol', { host: overlayHost(files, nodeHost), targets: ['whonix'] });
  const underlined = (d: { span?: { file: string; start: number; end: number } }) => (d.span?.file === 'p.qpol.lock' ? lock.slice(d.span.start, d.span.end) : undefined);
  return { r, entries: r.diagnostics.filter((d) => d.code === 'QP3026').map((d) => `${d.severity} ${underlined(d)}`) };
}

for (const [what, app, listener] of [
  ['port 22', '22', '"22"'],
  ["Whonix's own port 9050", '9050', '"9050"'],
  ['port 70000', '70000', '"70000"'],
  ['a non-number', '"ssh"', '"ssh"'],
] as const) {
  test(`a lock entry that moves a listener to ${what} is an error at the entry and is never used`, async (t) => {
    const lock = `{\n  "version": 1,\n  "apps": { "chat/ssh": ${app} },\n  "listeners": { "sys-whonix": { ${listener}: ["client-protocol"] } },\n  "qubes": {}\n}\n`;
    const { r, entries } = await compileWithLock(lock);
    t.deepEqual(entries, [`error ${app}`, `error ${listener}`], r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    t.is(r.artifacts, undefined, 'nothing is emitted');
    const port = Number(JSON.parse(app));
    t.false(r.allocation?.apps.some((a) => a.port === port) ?? false, 'the allocation does not use the port');
    t.false(r.allocation?.listeners.some((l) => l.port === port) ?? false, 'no listener is declared on the port');
    t.truthy(r.sources.get('p.qpol.lock'), 'the lock file is shown with the finding');
  });
}

test('a lock entry that only the allocator could have written is used as before', async (t) => {
  const lock = '{\n  "version": 1,\n  "apps": { "chat/ssh": 9230 },\n  "listeners": { "sys-whonix": { "9230": ["client-protocol"] } },\n  "qubes": {}\n}\n';
  const { r, entries } = await compileWithLock(lock);
  t.deepEqual(entries, []);
  t.deepEqual(r.allocation?.apps.map((a) => `${a.app} ${a.port}`), ['ssh 9230']);
  const torrc = r.artifacts?.find((a) => a.path.endsWith('torrc.d/50_qpc.conf'))?.contents ?? '';
  t.regex(torrc, /^\+SocksPort 10\.152\.152\.10:9230 /m);
});

test('lock entries the allocator never writes: a pre-bound port for other flags, a shared port, a qube number twice or dom0\'s', async (t) => {
  const lock = '{\n  "version": 1,\n  "apps": { "chat/ssh": 9101, "other/a": 9112, "other/b": 9112 },\n  "listeners": { "sys-whonix": { "9112": ["client-protocol", "no-such-flag"] } },\n  "qubes": { "chat": 7, "anon-dvm": 7, "sys-net": 0 }\n}\n';
  const { r, entries } = await compileWithLock(lock);
  t.deepEqual(entries, ['error 9101', 'error 9112', 'error ["client-protocol", "no-such-flag"]', 'error 7', 'error 0'], r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  t.is(r.artifacts, undefined);
});

test('lock entries with names qpc never writes are refused, and none reaches a prototype', async (t) => {
  const lock = '{\n  "version": 1,\n  "apps": { "__proto__/a": 9112, "x": 9112 },\n  "listeners": { "__proto__": { "9112": ["client-protocol"] } },\n  "qubes": { "__proto__": 5 }\n}\n';
  const { r, entries } = await compileWithLock(lock);
  t.deepEqual(entries, ['error "__proto__/a"', 'error "x"', 'error "__proto__"', 'error "__proto__"']);
  t.is(({} as Record<string, unknown>)['9112'], undefined);
  t.is(r.artifacts, undefined);
});
