/**
 * Qubes' rules for qube names (qubes-core-admin `validate_name`), per
 * release: ASCII only, a letter first, letters, digits, `_`, `-` and (on
 * 4.3, where allowed) `.`, at most 31 characters, and the reserved names.
 */
import test from 'ava';
import fc from 'fast-check';
import { checkQubeName, codePoint, isBidi, kindNouns, qubeKinds } from '../../../../compiler/passes/name-rules.js';
import { qubeNameSyntaxOf } from '../../../../compiler/qubes-values.js';
import { SourceFile } from '../../../../compiler/source.js';

const span = new SourceFile('p.qpol', 'x').span(0, 1);

function problem(name: string, release: '4.2' | '4.3' = '4.3', opts: { dots?: boolean } = {}): string | undefined {
  const d = checkQubeName(name, span, release, opts);
  return d && `${d.code} ${d.message}`;
}

test('valid names have no problem, on both releases', (t) => {
  for (const name of ['work', 'sys-net', 'vm_2', 'A', 'a'.repeat(31)]) {
    t.is(problem(name, '4.2'), undefined, name);
    t.is(problem(name, '4.3'), undefined, name);
  }
});

test('a name must start with a letter', (t) => {
  t.is(problem('1work'), 'QP2003 `1work` is not a valid qube name: it must start with a letter');
  t.regex(checkQubeName('-x', span, '4.3')!.help!, /`vm--x`/);
  t.regex(problem('')!, /must start with a letter/);
});

test('the first character outside the allowed set is named', (t) => {
  t.is(problem('my qube'), 'QP2003 `my qube` is not a valid qube name: ` ` is not allowed');
  t.is(problem('a/b:c'), 'QP2003 `a/b:c` is not a valid qube name: `/` is not allowed');
});

test('a dot: a 4.3 feature, and nowhere where dots are not allowed', (t) => {
  t.is(problem('my.qube', '4.3'), undefined);
  t.is(problem('my.qube', '4.2'), 'QP2022 a `.` in a qube name needs Qubes 4.3 or later');
  t.is(problem('my.qube', '4.3', { dots: false }), 'QP2003 `my.qube` is not a valid qube name: `.` is not allowed here');
  t.is(problem('my.qube', '4.2', { dots: false }), 'QP2003 `my.qube` is not a valid qube name: `.` is not allowed here');
});

test('at most 31 characters, the length counted', (t) => {
  t.is(problem('a'.repeat(31)), undefined);
  t.is(problem('a'.repeat(32)), `QP2003 \`${'a'.repeat(32)}\` is not a valid qube name: it is 32 characters long and Qubes allows at most 31`);
});

test('reserved names, and the `-dm` suffix of device-model stub domains', (t) => {
  for (const name of ['none', 'default', 'Domain-0']) t.is(problem(name), `QP2003 \`${name}\` is not a valid qube name: Qubes reserves this name`);
  t.regex(problem('sys-net-dm')!, /ending in `-dm` are reserved/);
  t.is(problem('sys-dmz'), undefined);
  t.is(problem('None'), undefined);
  t.is(problem('dom0'), undefined, 'dom0 is the admin qube\'s name, declared by the standard library');
});

test('a non-ASCII character is named by its code point; a bidi control is left to the text check', (t) => {
  t.is(problem('wörk'), 'QP2008 non-ASCII character U+00F6 in `wörk`');
  t.is(problem('1wörk'), 'QP2008 non-ASCII character U+00F6 in `1wörk`', 'reported before the other rules');
  t.is(problem('a\u202eb'), undefined);
  t.is(problem('a\u202eö'), undefined, 'the first non-ASCII character decides');
});

// DEL (U+007F) is ASCII: QP2003, named by its code point (never printed), not
// QP2008 "non-ASCII". The parser ends a word before DEL, so no policy reaches
// this today; the function must still say it right.
test('DEL is an ASCII character that is not allowed, not a non-ASCII one', (t) => {
  t.is(problem('a\u007fb'), 'QP2003 `a\u007fb` is not a valid qube name: U+007F is not allowed');
});

test('code points: four hex digits at least, astral characters whole', (t) => {
  t.is(codePoint('\u202e'), 'U+202E');
  t.is(codePoint('é'), 'U+00E9');
  t.is(codePoint('\t'), 'U+0009');
  t.is(codePoint('😀'), 'U+1F600');
});

test('the bidirectional controls Trojan Source uses, and no other character', (t) => {
  for (const ch of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) t.true(isBidi(ch), codePoint(ch));
  for (const ch of ['a', '\u200b', '\u200d', '\u2065', '\u206a', '\u2029', 'é']) t.false(isBidi(ch), codePoint(ch));
});

test('for ASCII names, the check accepts exactly what the release\'s name syntax accepts, less the reserved names', (t) => {
  const reserved = (n: string) => n === 'none' || n === 'default' || n === 'Domain-0' || n.endsWith('-dm');
  const chars = fc.constantFrom(...'aZ09_-.:/ @'.split(''), 'x', 'Q', '-d', 'm');
  const names = fc.oneof(fc.array(chars, { maxLength: 40 }).map((a) => a.join('')), fc.string({ maxLength: 35 }).filter((s) => /^[\x20-\x7e]*$/.test(s)));
  fc.assert(
    fc.property(names, fc.constantFrom('4.2' as const, '4.3' as const), (name, release) => {
      const ok = checkQubeName(name, span, release) === undefined;
      return ok === (qubeNameSyntaxOf(release).test(name) && !reserved(name));
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('every kind has a noun; identities are the only kind that is not a qube', (t) => {
  t.deepEqual(Object.keys(kindNouns).filter((k) => !(qubeKinds as readonly string[]).includes(k)), ['identity']);
  for (const k of qubeKinds) t.truthy(kindNouns[k], k);
});
