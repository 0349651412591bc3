/**
 * `whonix/ports.json` (targets/whonix/ports.ts): canonical JSON, and one
 * entry per bound app with its gateway, port, flags and launch method.
 */
import test from 'ava';
import { canonicalJson, portsText } from '../../../../targets/whonix/ports.js';
import { extraModel } from './fixtures.js';

test('canonicalJson sorts keys at every level, also inside arrays, and keeps array order', (t) => {
  const text = canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }, 3], c: null } });
  t.is(text, '{\n  "a": {\n    "c": null,\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      },\n      3\n    ]\n  },\n  "b": 1\n}\n');
});

test('canonicalJson sorts by code unit, not locale (upper case before lower, `-` before `/`)', (t) => {
  t.deepEqual(Object.keys(JSON.parse(canonicalJson({ b: 0, B: 0, 'a/x': 0, 'a-x': 0 }))), ['B', 'a-x', 'a/x', 'b']);
});

test('canonicalJson of the same data built in another order gives the same bytes', (t) => {
  t.is(canonicalJson({ x: 1, y: { p: 1, q: 2 } }), canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
});

const model = extraModel();
const parsed = JSON.parse(portsText(model)) as { version: number; source: string; apps: Record<string, Record<string, unknown>> };

test('ports.json: version 1, the source, and every app keyed qube/app', (t) => {
  t.is(parsed.version, 1);
  t.is(parsed.source, model.source);
  t.deepEqual(Object.keys(parsed.apps).sort(), model.socks.map((s) => `${s.qube}/${s.app}`).sort());
  t.is(portsText(model), canonicalJson(parsed));
});

test('ports.json: an isolating app lists its qpc flags and the Tor flags they become', (t) => {
  const links = parsed.apps['anon-a/links'];
  t.deepEqual(links.isolate, ['client-protocol', 'dest-addr']);
  t.deepEqual(links.torFlags, ['IsolateClientProtocol', 'IsolateDestAddr']);
  t.is(links.launcher, '/usr/local/bin/qpc-links');
  t.is(links.method, 'torsocks');
  t.is(links.gateway, 'sys-whonix');
});

test('ports.json: SOCKS credentials only for auth apps that torsocks launches', (t) => {
  t.deepEqual(parsed.apps['anon-a/git'].socksCredentials, { username: 'qpc/anon-a/git', password: 'qpc' });
  t.is(parsed.apps['anon-a/git'].mode, 'auth');
  // Tor Browser sends its own credentials, even bound `socks auth`.
  t.is(parsed.apps['anon-a/torbrowser'].mode, 'auth');
  t.is(parsed.apps['anon-a/torbrowser'].method, 'tor-browser-environment');
  t.false('socksCredentials' in parsed.apps['anon-a/torbrowser']);
  // A dedicated app has a port of its own and no credentials.
  t.false('socksCredentials' in parsed.apps['anon-a/irssi']);
});

test('ports.json: a pinned Whonix port is the port the app is given', (t) => {
  t.is(parsed.apps['anon-a/hexchat'].port, 9101);
  t.is(parsed.apps['anon-b/torbrowser'].port, 9150);
});
