/**
 * The policy model is read-only data; its one function, `qubeNamed`, finds
 * a qube by name without changing the model (the index is kept beside it).
 */
import test from 'ava';
import { check, overlayHost } from '../../../compiler/index.js';
import { qubeNamed, type ModelQube, type PolicyModel } from '../../../compiler/model.js';
import { deepFreeze } from '../../helpers/deep-freeze.js';

const policy = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network clearnet via sys-firewall; label blue }
qube work-web in work { template debian-12-xfce }
qube work-mail in work { template debian-12-xfce }
`;

function model(): PolicyModel {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]])), targets: [] });
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.model;
}

test('every qube of a model is found by its name, and nothing else is', (t) => {
  const m = model();
  t.true(m.qubes.length >= 5);
  for (const q of m.qubes) t.is(qubeNamed(m, q.name), q, q.name);
  t.is(qubeNamed(m, 'work'), undefined, 'an identity is not a qube');
  t.is(qubeNamed(m, 'nothing'), undefined);
  t.is(qubeNamed(m, ''), undefined);
});

test('the qubes are sorted by name, as the model promises', (t) => {
  const names = model().qubes.map((q) => q.name);
  t.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
});

const fake = (names: string[]): PolicyModel => ({ qubes: names.map((name) => ({ name }) as ModelQube) }) as unknown as PolicyModel;

test('a deep-frozen model can be searched (the index is not stored in it)', (t) => {
  const m = deepFreeze(fake(['a', 'b']));
  t.is(qubeNamed(m, 'b'), m.qubes[1]);
  t.is(qubeNamed(m, 'b'), m.qubes[1], 'asked again');
});

test('two models with the same names answer from their own qubes', (t) => {
  const one = fake(['a']);
  const two = fake(['a']);
  t.is(qubeNamed(one, 'a'), one.qubes[0]);
  t.is(qubeNamed(two, 'a'), two.qubes[0]);
  t.not(qubeNamed(one, 'a'), qubeNamed(two, 'a'));
});
