/** The identities `qpc import` guesses: by Tor gateway, by shared tag, by network and label; none with --no-identities. */
import test from 'ava';
import { guessIdentities, networkOf } from '../../../../compiler/import/identities.js';
import type { QubeState } from '../../../../compiler/snapshot/read.js';

const qube = (name: string, netvm: string | null, label: string, tags: string[] = []): QubeState => ({
  name, class: 'AppVM', running: false, label, template: 't', netvm, providesNetwork: false, templateForDispvms: false, defaultDispvm: null, prefs: new Map(), tags, features: new Map(), services: new Map(), devices: [],
});
const tor = new Set(['sys-whonix']);
const qubes = [qube('anon', 'sys-whonix', 'red', ['anon-vm']), qube('a', 'sys-firewall', 'red'), qube('b', 'sys-firewall', 'red'), qube('c', 'sys-firewall', 'blue'), qube('s1', null, 'red', ['sd']), qube('s2', null, 'green', ['sd']), qube('v', null, 'black')];
const nets = new Map(qubes.map((q) => [q.name, networkOf(q, tor)]));

test('qubes behind a Tor gateway are a Tor identity; a shared tag and a network and label group the rest', (t) => {
  const ids = guessIdentities(qubes, nets, new Set(qubes.map((q) => q.name)), false);
  t.deepEqual(ids.map((i) => [i.name, i.network.mode, i.members.map((m) => m.name).join(' ')]), [
    ['blue', 'clearnet', 'c'],
    ['red', 'clearnet', 'a b'],
    ['offline-black', 'none', 'v'],
    ['sd', 'none', 's1 s2'],
    ['tor-sys-whonix', 'tor', 'anon'],
  ]);
  t.true(ids.every((i) => i.comments.every((c) => c.startsWith('guessed: '))));
});

test('a name already taken is not reused', (t) => {
  const ids = guessIdentities([qube('x', 'sys-firewall', 'red')], new Map([['x', { mode: 'clearnet', via: 'sys-firewall' }]]), new Set(['x', 'red']), false);
  t.is(ids[0]!.name, 'red-2');
});

test('--no-identities: one identity per qube, never through Tor', (t) => {
  const ids = guessIdentities(qubes, nets, new Set(qubes.map((q) => q.name)), true);
  t.is(ids.length, qubes.length);
  t.true(ids.every((i) => i.members.length === 1 && i.network.mode !== 'tor'));
  t.deepEqual(ids.find((i) => i.members[0]!.name === 'anon')!.network, { mode: 'clearnet', via: 'sys-whonix' });
});
