/**
 * Source files and spans: offsets are UTF-16 code units, lines and columns
 * 1-based; `lineText` drops the line break (LF or CRLF).
 */
import test from 'ava';
import { compareSpans, SourceFile, type Span } from '../../../compiler/source.js';

const text = 'ab\ncd\r\n\nlast';

test('positions are 1-based lines and columns, a line break ending its line', (t) => {
  const f = new SourceFile('p.qpol', text);
  t.deepEqual(f.position(0), { line: 1, column: 1 });
  t.deepEqual(f.position(2), { line: 1, column: 3 }); // the `\n` itself
  t.deepEqual(f.position(3), { line: 2, column: 1 });
  t.deepEqual(f.position(5), { line: 2, column: 3 }); // the `\r` of CRLF
  t.deepEqual(f.position(7), { line: 3, column: 1 }); // the empty line
  t.deepEqual(f.position(8), { line: 4, column: 1 });
  t.deepEqual(f.position(text.length), { line: 4, column: 5 });
});

test('offsets outside the text are clamped to it', (t) => {
  const f = new SourceFile('p.qpol', text);
  t.deepEqual(f.position(-5), { line: 1, column: 1 });
  t.deepEqual(f.position(1000), f.position(text.length));
});

test('columns count UTF-16 code units, as LSP does', (t) => {
  const f = new SourceFile('p.qpol', '😀x\né');
  t.deepEqual(f.position(2), { line: 1, column: 3 }); // after the surrogate pair
  t.deepEqual(f.position(4), { line: 2, column: 1 });
  t.deepEqual(f.position(5), { line: 2, column: 2 });
});

test('a span carries its file and both ends', (t) => {
  const f = new SourceFile('dir/p.qpol', text);
  t.deepEqual(f.span(1, 4), { file: 'dir/p.qpol', start: 1, end: 4, line: 1, column: 2, endLine: 2, endColumn: 2 });
  t.deepEqual(f.span(8, 8), { file: 'dir/p.qpol', start: 8, end: 8, line: 4, column: 1, endLine: 4, endColumn: 1 });
});

test('lines without their breaks; a trailing break makes an empty last line', (t) => {
  const f = new SourceFile('p.qpol', text);
  t.is(f.lineCount, 4);
  t.deepEqual([1, 2, 3, 4].map((l) => f.lineText(l)), ['ab', 'cd', '', 'last']);
  t.is(f.lineText(99), '');
  const g = new SourceFile('p.qpol', 'x\n');
  t.is(g.lineCount, 2);
  t.is(g.lineText(1), 'x');
  t.is(g.lineText(2), '');
  t.is(new SourceFile('p.qpol', '').lineCount, 1);
});

test('a lone carriage return is not a line break', (t) => {
  const f = new SourceFile('p.qpol', 'a\rb\nc');
  t.is(f.lineCount, 2);
  t.is(f.lineText(1), 'a\rb');
  t.deepEqual(f.position(4), { line: 2, column: 1 });
});

function span(file: string, start: number, end: number): Span {
  return { file, start, end, line: 1, column: start + 1, endLine: 1, endColumn: end + 1 };
}

test('spans order by file, then start, then end; a missing span comes first', (t) => {
  // Wrapped: Array.prototype.sort puts bare `undefined` last without asking the comparator.
  const spans = [span('b.qpol', 0, 1), span('a.qpol', 5, 9), undefined, span('a.qpol', 5, 6), span('a.qpol', 2, 3)].map((s) => ({ s }));
  const sorted = spans.sort((x, y) => compareSpans(x.s, y.s)).map((x) => x.s);
  t.deepEqual(sorted, [undefined, span('a.qpol', 2, 3), span('a.qpol', 5, 6), span('a.qpol', 5, 9), span('b.qpol', 0, 1)]);
  t.true(compareSpans(span('a.qpol', 0, 1), undefined) > 0);
  t.true(compareSpans(undefined, span('a.qpol', 0, 1)) < 0);
  t.is(compareSpans(undefined, undefined), 0);
  t.is(compareSpans(span('a.qpol', 1, 2), span('a.qpol', 1, 2)), 0);
});
