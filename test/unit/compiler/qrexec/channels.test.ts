/**
 * The channel analysis on small systems written by hand (DESIGN §4.3): which
 * calls it reports, how it groups interchangeable qubes, which services and
 * arguments it stands for, and the query's `services`, `focus`, `key`,
 * `onChannel` and `enough`. test/property/channels.test.ts compares it with
 * the evaluator on random systems; here each case says what a reader expects.
 */
import test from 'ava';
import { ANY_ARGUMENT, classKey, findChannels, namedQubes, OTHER_SERVICE, type ChannelQuery } from '../../../../compiler/qrexec/channels.js';
import type { DomainInfo } from '../../../../compiler/qrexec/types.js';
import { nativeRules as rules, systemOf } from '../../../helpers/qrexec-rules.js';

const info = systemOf({ name: 'a' }, { name: 'b' }, { name: 'c', tags: ['t'] }, { name: 'dvm', templateForDispvms: true });

function find(text: string, extra: Partial<ChannelQuery> = {}) {
  return findChannels({ rules: rules('30-t', text), info, release: '4.2', relevant: () => true, ...extra });
}

/** Each channel as `service argument requested action: sources -> targets`. */
const lines = (cs: ReturnType<typeof find>) => cs.map((c) => `${c.service} ${c.argument} ${c.requested} ${c.action}${c.disposable ? ' disposable' : ''}: ${c.sources.join(',')} -> ${c.targets.join(',')}`);

test('an allow to a tag reaches its qubes from every caller, interchangeable callers in one channel', (t) => {
  // dvm is a disposable template: a class of its own.
  t.deepEqual(lines(find('s.A * @anyvm @tag:t allow')), ['s.A + c allow: a,b -> c', 's.A + c allow: dvm -> c']);
});

test('the first matching rule decides: a deny before an allow closes that pair only', (t) => {
  const cs = lines(find('s.A * a c deny\ns.A * @anyvm c allow'));
  t.deepEqual(cs, ['s.A + c allow: b -> c', 's.A + c allow: dvm -> c']);
});

test('a deny decides nothing to report, and a service no rule allows has no channel', (t) => {
  t.deepEqual(find('s.A * @anyvm @anyvm deny'), []);
  t.deepEqual(find('s.A * a b deny\ns.B * a b allow', { services: new Set(['s.A']) }), []);
});

test('an ask lists the qubes of its target, and the dialog is a channel to each', (t) => {
  const cs = find('s.A * a @anyvm ask');
  const named = cs.filter((c) => c.requested === 'b');
  t.true(named.length > 0);
  t.true(named.every((c) => c.action === 'ask' && c.sources.join() === 'a'));
  t.deepEqual([...new Set(cs.flatMap((c) => c.targets))].sort(), ['b', 'c', 'dvm']);
});

test('a redirect reaches its target whatever was requested', (t) => {
  const cs = find('s.A * a @anyvm allow target=c');
  t.true(cs.length > 0);
  t.true(cs.every((c) => c.action === 'allow' && c.targets.join() === 'c'));
});

test('a new disposable of a disposable template is a channel to the template, marked disposable', (t) => {
  t.deepEqual(lines(find('s.A * a @dispvm:dvm allow')), ['s.A + @dispvm:dvm allow disposable: a -> dvm']);
});

test('no qube calls itself: an allow from a qube to itself is none', (t) => {
  t.deepEqual(find('s.A * a a allow'), []);
});

test('a rule naming an argument is analysed for that argument, and the others for `+`', (t) => {
  const cs = lines(find('s.A +x a b allow\ns.A * a c allow'));
  t.deepEqual(cs.sort(), ['s.A + c allow: a -> c', 's.A +x b allow: a -> b', 's.A +x c allow: a -> c']);
});

test('a rule naming the empty argument `+` leaves ANY_ARGUMENT to stand for the others', (t) => {
  const cs = find('s.A + a b allow\ns.A * a c allow');
  t.true(cs.some((c) => c.argument === '+' && c.targets.includes('b')));
  t.true(cs.some((c) => c.argument === ANY_ARGUMENT && c.targets.includes('c') && !c.targets.includes('b')));
});

test('a `*` rule stands for every service, OTHER_SERVICE for those no rule names', (t) => {
  const cs = find('* * a b allow');
  t.deepEqual([...new Set(cs.map((c) => c.service))], [OTHER_SERVICE]);
  t.deepEqual([...new Set(findChannels({ rules: rules('30-t', '* * a b allow'), info, release: '4.2', relevant: () => true }, ['s.Z']).map((c) => c.service))].sort(), [OTHER_SERVICE, 's.Z']);
});

test('relevance filters targets, and focus narrows what is looked at without changing what is relevant', (t) => {
  const text = 's.A * @anyvm @anyvm allow';
  const relevant = (s: string, x: string) => s === 'a' && x === 'c';
  t.deepEqual(lines(find(text, { relevant })), ['s.A + c allow: a -> c']);
  t.deepEqual(lines(find(text, { relevant, focus: () => new Set(['c']) })), ['s.A + c allow: a -> c']);
});

test('with a key, one source and one target per key are enough', (t) => {
  const cs = find('s.A * @anyvm @anyvm allow', { key: (q) => (q === 'c' ? 'C' : 'rest') });
  for (const c of cs) t.true(c.sources.length === 1, `one source per key: ${lines([c])}`);
});

test('with a key, callers alike but for rules to qubes they may not reach get the channels of the first, as their own', (t) => {
  // a and b are classes of their own (named by the allow to each other, which does not matter across keys) and alike otherwise.
  const text = 's.A * a b allow\ns.A * b a allow\ns.A * @anyvm @tag:t allow';
  const key = (q: string) => (q === 'c' ? 'C' : 'rest');
  const across = (s: string, t: string) => key(s) !== key(t);
  t.deepEqual(lines(find(text, { key, relevant: across })), ['s.A + c allow: a -> c', 's.A + c allow: b -> c', 's.A + c allow: dvm -> c']);
  // Where calls inside a key matter, each caller is analysed on its own: b reaches a, not itself.
  const all = lines(find(text, { key, relevant: () => true }));
  t.true(all.includes('s.A + b allow: a -> b'), all.join('\n'));
  t.true(all.includes('s.A + a allow: b -> a'), all.join('\n'));
  t.false(all.some((l) => /: (\w+) -> \1$/.test(l)), 'no qube calls itself');
});

test('with a key, callers whose own rules say the same get alike channels, each decided by its own rule', (t) => {
  const text = 's.A * a @tag:t allow\ns.A * b @tag:t allow\ns.A * @anyvm @anyvm deny';
  const key = (q: string) => (q === 'c' ? 'C' : 'rest');
  const cs = find(text, { key, relevant: (s, t) => key(s) !== key(t) });
  t.deepEqual(cs.map((c) => `${c.sources.join(',')} -> ${c.targets.join(',')} by rule ${c.rule}`), ['a -> c by rule 0', 'b -> c by rule 1']);
});

test('onChannel sees each channel; enough stops the service', (t) => {
  const seen: string[] = [];
  const all = find('s.A * @anyvm @anyvm allow\ns.B * @anyvm @anyvm allow', { onChannel: (c) => seen.push(c.service) });
  t.is(seen.length, all.length);
  const stopped = find('s.A * @anyvm @anyvm allow\ns.B * @anyvm @anyvm allow', { enough: (s) => s === 's.A' });
  t.false(stopped.some((c) => c.service === 's.A'));
  t.true(stopped.some((c) => c.service === 's.B'));
});

test('namedQubes: the names rules single out, in any column, and the template of @dispvm:Q', (t) => {
  t.deepEqual([...namedQubes(rules('30-t', 's.A * a @dispvm:dvm allow\ns.A * @tag:t b ask default_target=c'), '4.2')].sort(), ['a', 'b', 'c', 'dvm']);
});

test('classKey tells qubes apart by type, tags, default disposable, disposable-template flag and power', (t) => {
  const base: DomainInfo = { name: 'x', type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: false };
  t.is(classKey(base), classKey({ ...base, name: 'y' }));
  for (const other of [{ type: 'TemplateVM' }, { tags: ['t'] }, { defaultDispvm: 'dvm' }, { templateForDispvms: true }, { running: true }, { internal: '1' }]) t.not(classKey(base), classKey({ ...base, ...other }), JSON.stringify(other));
});
