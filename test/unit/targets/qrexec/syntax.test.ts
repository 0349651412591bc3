/**
 * The qrexec target's token wall (targets/qrexec/syntax.ts): how a token
 * fault of the shared token model becomes the target's QP4001/QP4002 with
 * its wording, per column and release; the parameters of each action; and
 * how values are shown in messages.
 */
import test from 'ava';
import { nameProblem, paramsOf, tokenProblem, visible, type Column } from '../../../../targets/qrexec/syntax.js';

test('tokens Qubes reads as written pass in the columns that take them', (t) => {
  const ok: [string, Column, '4.2' | '4.3'][] = [
    ['@anyvm', 'source', '4.2'],
    ['@anyvm', 'target', '4.3'],
    ['@adminvm', 'redirect', '4.3'],
    ['@default', 'target', '4.2'],
    ['@dispvm', 'target', '4.2'],
    ['@dispvm:work-dvm', 'target', '4.2'],
    ['@type:AppVM', 'source', '4.2'],
    ['@type:RemoteVM', 'source', '4.3'],
    ['work-web', 'redirect', '4.2'],
    ['a.b', 'source', '4.3'],
    ['uuid:00000000-0000-0000-0000-000000000000', 'source', '4.3'],
  ];
  for (const [tok, col, rel] of ok) t.is(tokenProblem(tok, col, rel), undefined, `${tok} ${col} ${rel}`);
});

test('a well-formed token in a column that does not take it is QP4001, naming the column', (t) => {
  t.deepEqual(tokenProblem('@default', 'source', '4.2'), { code: 'QP4001', what: '`@default` in the source column' });
  t.deepEqual(tokenProblem('@dispvm', 'source', '4.3'), { code: 'QP4001', what: '`@dispvm` in the source column' });
  t.deepEqual(tokenProblem('@anyvm', 'redirect', '4.2'), { code: 'QP4001', what: '`@anyvm` as a `target=`/`default_target=` value' });
});

test('a token of a later release is QP4001 with the release that has it', (t) => {
  t.deepEqual(tokenProblem('@type:RemoteVM', 'source', '4.2'), { code: 'QP4001', what: '`@type:RemoteVM` on Qubes 4.2, which has no qube class `RemoteVM`' });
  t.is(tokenProblem('uuid:00000000-0000-0000-0000-000000000000', 'source', '4.2')?.code, 'QP4001');
  t.regex(tokenProblem('uuid:00000000-0000-0000-0000-000000000000', 'source', '4.2')!.what, /from Qubes 4\.3 on/);
  t.deepEqual(tokenProblem('a.b', 'target', '4.2'), { code: 'QP4001', what: 'the qube name `a.b` on Qubes 4.2 (dots in qube names exist from Qubes 4.3 on)' });
});

test('an `@` word no release knows is QP4001; a value outside the allow-lists is QP4002 with what it is', (t) => {
  t.deepEqual(tokenProblem('@foo', 'source', '4.2'), { code: 'QP4001', what: '`@foo`, which no Qubes release knows as a token' });
  t.deepEqual(tokenProblem('-x', 'source', '4.2'), { code: 'QP4002', what: 'qube name' });
  t.deepEqual(tokenProblem('work web', 'target', '4.3'), { code: 'QP4002', what: 'qube name' });
  t.deepEqual(tokenProblem('@tag:', 'target', '4.2'), { code: 'QP4002', what: 'tag' });
  t.deepEqual(tokenProblem('@tag:a b', 'source', '4.2'), { code: 'QP4002', what: 'tag' });
  t.deepEqual(tokenProblem('@type:', 'source', '4.2'), { code: 'QP4002', what: 'qube class' });
  t.deepEqual(tokenProblem('@dispvm:', 'target', '4.2'), { code: 'QP4002', what: 'disposable template name' });
  t.deepEqual(tokenProblem('@any\nvm', 'source', '4.2'), { code: 'QP4002', what: 'qrexec token' });
});

test('nameProblem: a 4.3 name on 4.2 is a release feature (QP4001); anything else is an unsafe value (QP4002) under the caller\'s word', (t) => {
  t.deepEqual(nameProblem('sys.net', '4.2', 'qube name'), { code: 'QP4001', what: 'the qube name `sys.net` on Qubes 4.2 (dots in qube names exist from Qubes 4.3 on)' });
  t.deepEqual(nameProblem('-x', '4.2', 'disposable template name'), { code: 'QP4002', what: 'disposable template name' });
  t.deepEqual(nameProblem('a\nb', '4.3', 'qube name'), { code: 'QP4002', what: 'qube name' });
});

test('paramsOf: the keyword arguments of parser.py\'s Allow, Ask and Deny', (t) => {
  t.deepEqual([...paramsOf.allow].sort(), ['autostart', 'notify', 'target', 'user']);
  t.deepEqual([...paramsOf.ask].sort(), ['autostart', 'default_target', 'notify', 'target', 'user']);
  t.deepEqual([...paramsOf.deny], ['notify']);
  t.false(paramsOf.allow.includes('default_target'), 'only ask has a default target');
});

test('visible: printable ASCII as is; line breaks, tabs, controls and non-ASCII escaped', (t) => {
  t.is(visible('qubes.Gpg +a-b'), 'qubes.Gpg +a-b');
  t.is(visible('a\nb\rc\td'), 'a\\nb\\rc\\td');
  t.is(visible('\x00\x1f\x7f\x85'), '\\u{0}\\u{1f}\\u{7f}\\u{85}');
  t.is(visible('w\u00f6rk'), 'w\\u{f6}rk');
  t.is(visible('\u202e\u2028'), '\\u{202e}\\u{2028}', 'BIDI and line separators are shown');
  t.is(visible('\u{1F600}'), '\\u{1f600}', 'one escape per code point, not per UTF-16 unit');
  t.regex(visible('x\u0000\u00a0\u061c\ufeffy'), /^[\x20-\x7e]*$/);
});
