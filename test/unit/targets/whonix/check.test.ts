/**
 * What the whonix target refuses (targets/whonix/check.ts), on models that
 * reach it past the checker: each rule with the code and place it reports.
 * The rules a policy can reach are also shown from policy text in
 * emit.test.ts; these are the remaining walls.
 */
import test from 'ava';
import type { ModelListener, PolicyModel, SocksAssignment } from '../../../../compiler/model.js';
import { checkWhonix } from '../../../../targets/whonix/check.js';
import { extraModel } from './fixtures.js';

const base = extraModel();

/** The extra-listeners model with one change. */
function mutated(f: (m: PolicyModel) => Partial<PolicyModel>): PolicyModel {
  return { ...base, ...f(base) };
}

/** Changes one app binding. */
const withApp = (qube: string, app: string, change: (s: SocksAssignment) => SocksAssignment) =>
  mutated((m) => ({ socks: m.socks.map((s) => (s.qube === qube && s.app === app ? change(s) : s)) }));

/** Replaces sys-whonix's added listeners. */
const withListeners = (f: (ls: readonly ModelListener[]) => ModelListener[]) =>
  mutated((m) => ({ torGateways: m.torGateways.map((g) => (g.name === 'sys-whonix' ? { ...g, extraListeners: f(g.extraListeners) } : g)) }));

const codes = (m: PolicyModel) => checkWhonix(m).map((d) => d.code);

test('the unchanged model passes, and its added listeners are what the rules below look at', (t) => {
  t.deepEqual(checkWhonix(base), []);
  t.true(base.torGateways.find((g) => g.name === 'sys-whonix')!.extraListeners.length > 0);
});

test('an app binding mode other than dedicated, port and auth is QP4001 at the binding', (t) => {
  const app = base.socks.find((s) => s.qube === 'anon-a' && s.app === 'irssi')!;
  const ds = checkWhonix(withApp('anon-a', 'irssi', (s) => ({ ...s, mode: 'shared' as SocksAssignment['mode'] })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /SOCKS binding mode `shared`/);
  t.deepEqual(ds[0].span, app.span);
});

test('an app port outside 1..65535 or not an integer is QP4002', (t) => {
  for (const port of [0, -1, 65536, 9112.5, Number.NaN]) {
    const ds = checkWhonix(withApp('anon-a', 'hexchat', (s) => ({ ...s, port })));
    t.deepEqual(ds.map((d) => d.code), ['QP4002'], String(port));
    t.regex(ds[0].message, new RegExp(`port \`${String(port).replace('.', '\\.')}\``));
  }
  t.deepEqual(codes(withApp('anon-a', 'hexchat', (s) => ({ ...s, port: 1 }))), []);
  t.deepEqual(codes(withApp('anon-a', 'hexchat', (s) => ({ ...s, port: 65535 }))), []);
});

test('an app name that fails the allow-list is reported once, and its other values are not looked at', (t) => {
  const ds = checkWhonix(withApp('anon-a', 'irssi', (s) => ({ ...s, app: 'a b', port: 0, mode: 'x' as SocksAssignment['mode'] })));
  t.deepEqual(ds.map((d) => d.code), ['QP4002']);
  t.regex(ds[0].message, /app name `a b`/);
});

test('two bindings that would write the same launcher in one qube are QP4001, naming both', (t) => {
  const irssi = base.socks.find((s) => s.qube === 'anon-a' && s.app === 'irssi')!;
  const ds = checkWhonix(mutated((m) => ({ socks: [...m.socks, { ...irssi, mode: 'auth' }] })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /two launchers named `qpc-irssi` in `anon-a`/);
  // The same app in another qube is another launcher.
  t.deepEqual(codes(mutated((m) => ({ socks: [...m.socks, { ...irssi, qube: 'anon-b', app: 'links' }] }))), []);
});

test('an added listener that is not a SocksPort is QP4001', (t) => {
  const ds = checkWhonix(withListeners((ls) => ls.map((l, i) => (i === 0 ? { ...l, kind: 'trans' } : l))));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /added `trans` listener \(it adds SocksPorts only\)/);
  t.truthy(ds[0].span, 'at an app that uses the listener');
});

test('an added listener on an impossible port is QP4002 (and not also a duplicate)', (t) => {
  const ds = checkWhonix(withListeners((ls) => [...ls, { kind: 'socks', port: 70000, isolate: [], options: [] }, { kind: 'socks', port: 70000, isolate: [], options: [] }]));
  t.deepEqual(ds.map((d) => d.code), ['QP4002', 'QP4002']);
  t.regex(ds[0].message, /port `70000` cannot be written safely into the gateway torrc/);
  t.truthy(ds[0].span, 'no app uses it: at the gateway');
});

test('two added listeners on one port are QP4001 (Tor would not start)', (t) => {
  const ds = checkWhonix(withListeners((ls) => [...ls, { ...ls[0] }]));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, new RegExp(`second listener on port ${base.torGateways[0].extraListeners[0].port} of \`sys-whonix\``));
});

test('a listener option without a Tor flag is QP4001; `custom`, `local` and the known ones pass', (t) => {
  const ds = checkWhonix(withListeners((ls) => ls.map((l, i) => (i === 0 ? { ...l, options: ['fast'] } : l))));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /listener option `fast`/);
  t.deepEqual(codes(withListeners((ls) => ls.map((l) => ({ ...l, options: ['custom', 'local', 'prefer-ipv6'] })))), []);
});

test('added listeners on a named disposable gateway are QP4001: its /usr/local does not survive a restart', (t) => {
  const ds = checkWhonix(mutated((m) => ({ qubes: m.qubes.map((q) => (q.name === 'sys-whonix' ? { ...q, klass: 'DispVM' } : q)) })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /named disposable `sys-whonix`/);
});

test('a gateway with a qube name unsafe in a path is QP4002 once, and its listeners are not looked at', (t) => {
  const ds = checkWhonix(mutated((m) => ({ torGateways: m.torGateways.map((g) => ({ ...g, name: '../etc', extraListeners: [...g.extraListeners, { ...g.extraListeners[0] }] })) })));
  t.deepEqual(ds.map((d) => d.code), ['QP4002']);
  t.regex(ds[0].message, /qube name `\.\.\/etc` cannot be written safely into the Whonix-Gateway file paths/);
});

// torIsolationFlags and torListenerOptions were plain objects, so
// `torIsolationFlags['constructor']` was Object's constructor, not undefined,
// and the check passed a flag or option named like a key of Object.prototype.
// The checker's allow-lists keep such words out of policies; this target's
// check is the second wall.
test('an isolation flag or listener option named like a key of Object.prototype is QP4001', (t) => {
  t.deepEqual(codes(withApp('anon-a', 'irssi', (s) => ({ ...s, isolate: ['constructor'] }))), ['QP4001']);
  t.deepEqual(codes(withListeners((ls) => ls.map((l, i) => (i === 0 ? { ...l, options: ['toString'] } : l)))), ['QP4001']);
});
