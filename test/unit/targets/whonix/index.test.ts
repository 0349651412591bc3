/**
 * The whonix target's registry entry (targets/whonix/index.ts): the exact
 * set of artifacts it declares for a model, and that its check reports a
 * known problem. (registry.test.ts: found by name.)
 */
import test from 'ava';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { extraModel } from './fixtures.js';

const model = extraModel();

test('whonix: ports.json, two files per Tor gateway and one launcher per bound app, nothing else', (t) => {
  t.is(whonixTarget.name, 'whonix');
  t.deepEqual(whonixTarget.requires ?? [], []);
  const expected = [
    'whonix/ports.json',
    ...model.torGateways.flatMap((g) => [`whonix/${g.name}/torrc.d/50_qpc.conf`, `whonix/${g.name}/whonix_firewall.d/50_qpc.conf`]),
    ...model.socks.map((s) => `whonix/${s.qube}/bin/qpc-${s.app}`),
  ].sort();
  t.deepEqual(whonixTarget.emit(model, []).map((a) => a.path), expected);
});

test('whonix: only the files inside qubes are deployed; ports.json is for review', (t) => {
  const out = whonixTarget.emit(model, []);
  t.is(out.find((a) => a.path === 'whonix/ports.json')!.deploy, undefined);
  t.true(out.filter((a) => a.path !== 'whonix/ports.json').every((a) => a.deploy !== undefined));
});

test('whonix: check of a model with a known problem reports it, and emit refuses that model', (t) => {
  t.deepEqual(whonixTarget.check(model), []);
  const bad = { ...model, socks: model.socks.map((s, i) => (i === 0 ? { ...s, app: '../x' } : s)) };
  t.deepEqual(whonixTarget.check(bad).map((d) => d.code), ['QP4002']);
  t.throws(() => whonixTarget.emit(bad, []));
});
