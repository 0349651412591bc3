/**
 * The Python behaviours Qubes' loader relies on, as Python 3 has them:
 * `str.split()` whitespace, text-file line breaks and `repr()`.
 */
import test from 'ava';
import { isPythonSpace, pyList, pyRepr, pyTuple, sortedChars, splitWords, textLines } from '../../../../compiler/native/python.js';

test('whitespace is Python\'s: the information separators and NEL split, U+FEFF and U+200B do not', (t) => {
  for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x2003, 0x3000]) t.true(isPythonSpace(c), c.toString(16));
  for (const c of [0xfeff, 0x200b, 0x41, 0x5f]) t.false(isPythonSpace(c), c.toString(16));
});

test('splitWords cuts like str.split() and keeps each word\'s offsets', (t) => {
  t.deepEqual(splitWords('  a\u001fbc \u00a0d  ').map((w) => [w.text, w.start]), [['a', 2], ['bc', 4], ['d', 8]]);
  t.deepEqual(splitWords(''), []);
  t.deepEqual(splitWords(' \t '), []);
});

test('text lines end at \\n, \\r\\n and a lone \\r, numbered from 1, without a last empty line', (t) => {
  t.deepEqual(textLines('a\nb\r\nc\rd').map((l) => [l.number, l.start, l.text]), [[1, 0, 'a'], [2, 2, 'b'], [3, 5, 'c'], [4, 7, 'd']]);
  t.deepEqual(textLines('a\n').map((l) => l.text), ['a']);
  t.deepEqual(textLines('a\n\n').map((l) => l.text), ['a', '']);
  // Only those three: a form feed or U+2028 is inside a line (str.splitlines would cut there).
  t.deepEqual(textLines('a\fb\u2028c').map((l) => l.text), ['a\fb\u2028c']);
});

test('repr quotes as Python does: single quotes unless the text has one and no double quote', (t) => {
  t.is(pyRepr('allow'), "'allow'");
  t.is(pyRepr("it's"), '"it\'s"');
  t.is(pyRepr('it\'s "x"'), "'it\\'s \"x\"'");
  t.is(pyRepr('a\\b'), "'a\\\\b'");
});

test('repr escapes control and unprintable characters, keeps printable non-ASCII', (t) => {
  t.is(pyRepr('\t\n\r\x00\x7f'), "'\\t\\n\\r\\x00\\x7f'");
  t.is(pyRepr('\u00a0\u200b\ufeff'), "'\\xa0\\u200b\\ufeff'");
  t.is(pyRepr('é€😀'), "'é€😀'");
});

test('tuples and lists of strings read as Python prints them', (t) => {
  t.is(pyTuple(['a']), "('a',)");
  t.is(pyTuple(['a', 'b']), "('a', 'b')");
  t.is(pyTuple([]), '()');
  t.is(pyList(['a', 'b']), "['a', 'b']");
  t.is(pyList([]), '[]');
});

test('characters sort by code point, not by UTF-16 unit, once each', (t) => {
  t.deepEqual(sortedChars(['😀', '\uffff', 'a', 'a']), ['a', '\uffff', '😀']);
});
