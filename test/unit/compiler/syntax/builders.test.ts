/**
 * The grammar's node constructors: spans from peggy's ranges (1-based lines
 * and UTF-16 columns from the line starts), string escapes, and nodes
 * without the nulls of optional parts.
 */
import test from 'ava';
import * as b from '../../../../compiler/syntax/builders.js';
import { keywords } from '../../../../compiler/syntax/forms.js';
import { SourceFile } from '../../../../compiler/source.js';

const text = 'ab\ncd\n\nefg';

test('line starts: offset 0 and every offset after a `\\n`', (t) => {
  t.deepEqual(b.lineStarts(text), [0, 3, 6, 7]);
  t.deepEqual(b.lineStarts(''), [0]);
  t.deepEqual(b.lineStarts('x\n'), [0, 2]);
  t.deepEqual(b.lineStarts('a\r\nb'), [0, 3]);
});

test('a span from offsets agrees with the SourceFile line table', (t) => {
  const starts = b.lineStarts(text);
  const f = new SourceFile('p.qpol', text);
  for (let s = 0; s <= text.length; s++) {
    for (let e = s; e <= text.length; e++) t.deepEqual(b.spanAt({ source: 'p.qpol', start: s, end: e }, starts), f.span(s, e), `${s}..${e}`);
  }
});

test('a span names its source, or the empty file name when there is none', (t) => {
  const starts = b.lineStarts(text);
  t.is(b.spanAt({ source: 'dir/p.qpol', start: 0, end: 1 }, starts).file, 'dir/p.qpol');
  t.is(b.spanAt({ source: undefined, start: 0, end: 1 }, starts).file, '');
  t.deepEqual(b.spanAt({ source: 'p', start: 8, end: 10 }, starts), { file: 'p', start: 8, end: 10, line: 4, column: 2, endLine: 4, endColumn: 4 });
});

const at = { file: 'p.qpol', start: 0, end: 1, line: 1, column: 1, endLine: 1, endColumn: 2 };

test('string escapes: `\\"`, `\\\\`, `\\n`, `\\t` and no others', (t) => {
  t.is(b.string('a\\"b', at).value, 'a"b');
  t.is(b.string('a\\\\b', at).value, 'a\\b');
  t.is(b.string('1\\n2\\t3', at).value, '1\n2\t3');
  // An escaped backslash before `n` is a backslash and an `n`, not a line break.
  t.is(b.string('\\\\n', at).value, '\\n');
  // Unknown escapes stay as written.
  t.is(b.string('\\x\\u0041', at).value, '\\x\\u0041');
  t.deepEqual(b.string('', at), { kind: 'StringLit', value: '', span: at });
});

test('words, integers and comments keep their text', (t) => {
  t.deepEqual(b.word('sys-net', at), { kind: 'Word', text: 'sys-net', span: at });
  t.deepEqual(b.int('0400', at), { kind: 'IntLit', value: 400, text: '0400', span: at });
  t.deepEqual(b.comment(' note', at), { kind: 'Comment', text: ' note', span: at });
});

test('a file drops the statements that failed to parse (null)', (t) => {
  const s = b.declaration('template', b.word('t', at), null, null, at);
  const f = b.file([null, s, null], [], { ...at, file: 'x.qpol' });
  t.is(f.path, 'x.qpol');
  t.deepEqual(f.statements, [s]);
});

test('a declaration records whether it had a block, and has no identity field without one', (t) => {
  const bare = b.declaration('template', b.word('t', at), null, null, at);
  t.false(bare.block);
  t.deepEqual(bare.items, []);
  t.false('identity' in bare);
  const empty = b.declaration('qube', b.word('q', at), b.word('work', at), [], at);
  t.true(empty.block);
  t.is(empty.identity?.text, 'work');
});

test('the generic builder drops null and undefined fields and adds the span', (t) => {
  const n = b.node<{ kind: string }>({ kind: 'X', a: 1, b: null, c: undefined, d: 0, e: '' }, at);
  t.deepEqual(n, { kind: 'X', a: 1, d: 0, e: '', span: at });
});

test('keywords are those of the position the grammar asks about', (t) => {
  t.is(b.keywords, keywords);
  t.true(b.isKeyword(b.word('allow', at), 'statement'));
  t.true(b.isKeyword(b.word('allow', at), 'rule'));
  t.false(b.isKeyword(b.word('allow', at), 'item'));
  t.false(b.isKeyword(b.word('Allow', at), 'statement'));
  t.true(b.isKeyword(b.word('whonix-tags', at), 'item'));
  t.false(b.isKeyword(b.word('whonix-tags', at), 'setting'));
});
