/**
 * The lock file is input like the policy: every entry qpc could not have
 * written is an error at the entry (QP3026) and is never used.
 */
import test from 'ava';
import { check, compile } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { buildGraph } from '../../../../compiler/graph/policy-graph.js';
import { DiagnosticBag } from '../../../../compiler/diagnostics/diagnostic.js';
import { checkLock } from '../../../../compiler/passes/check-lock.js';

const head = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
`;

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

test('the entries that pass are kept as they are; without the file, no span', (t) => {
  const text = head + 'qube chat in anon {\n  template whonix-workstation-18\n  app ssh { socks dedicated }\n}\n';
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost), until: 'bind' });
  const g = buildGraph(r.program!);
  const bag = new DiagnosticBag();
  const kept = checkLock(g, { apps: { 'chat/ssh': 9153, 'chat/x': 22 }, listeners: {}, qubes: { chat: 3, 'anon-dvm': 4 } }, undefined, bag);
  t.deepEqual(kept, { apps: { 'chat/ssh': 9153 }, listeners: {}, qubes: { chat: 3, 'anon-dvm': 4 } });
  t.deepEqual(bag.items.map((d) => `${d.code} ${d.span === undefined}`), ['QP3026 true']);
});
