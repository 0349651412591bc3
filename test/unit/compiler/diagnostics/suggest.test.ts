/**
 * "Did you mean": the suggestions stay what they were, and the work they
 * cost is bounded: long names get none, and the distance table is computed
 * only in the band the cut-off allows.
 */
import test from 'ava';
import { distanceCells, editDistance, suggest } from '../../../../compiler/diagnostics/suggest.js';

/** Optimal string alignment distance, the whole table: what the bounded version must agree with. */
function reference(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** A small deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** How many table cells `fn` computes. */
function work(fn: () => unknown): number {
  const before = distanceCells();
  fn();
  return distanceCells() - before;
}

test('suggestions are what they were', (t) => {
  t.is(suggest('sys-firewal', ['sys-net', 'sys-firewall', 'sys-whonix']), 'sys-firewall');
  t.is(suggest('sys-fierwall', ['sys-net', 'sys-firewall']), 'sys-firewall', 'a transposition is one edit');
  t.is(suggest('SYS-NET', ['sys-net', 'sys-firewall']), 'sys-net', 'case is ignored');
  t.is(suggest('work', ['work', 'wrok']), 'wrok', 'the name itself is not a suggestion');
  t.is(suggest('abc', ['xyz', 'uvw']), undefined);
  t.is(suggest('ab', ['ax', 'ay']), 'ax', 'ties go to the first in order');
  t.is(suggest('ab', ['ay', 'ax']), 'ax');
  // A third of the length, at least one edit.
  t.is(suggest('abcdefghi', ['abcdefXYZ']), 'abcdefXYZ');
  t.is(suggest('abcdefghi', ['abcdeWXYZ']), undefined);
  const thirty = 'abcdefghijklmnopqrstuvwxyz0123';
  t.is(suggest(thirty, [thirty.slice(0, 20) + '#'.repeat(10)]), thirty.slice(0, 20) + '#'.repeat(10), 'ten edits in thirty characters');
  t.is(suggest(thirty, [thirty.slice(0, 19) + '#'.repeat(11)]), undefined);
});

test('the bounded distance agrees with the whole table below the cut-off', (t) => {
  const next = rng(7);
  const word = (n: number) => Array.from({ length: n }, () => 'abc'[Math.floor(next() * 3)]).join('');
  for (let k = 0; k < 3000; k++) {
    const a = word(Math.floor(next() * 12));
    const b = next() < 0.5 ? word(Math.floor(next() * 12)) : a.slice(0, Math.floor(next() * a.length)) + word(2) + a.slice(Math.floor(next() * a.length));
    const limit = Math.floor(next() * 6);
    const want = reference(a, b);
    const got = editDistance(a, b, limit);
    if (want <= limit) t.is(got, want, `${a} ${b} limit ${limit}`);
    else t.true(got > limit, `${a} ${b} limit ${limit}: ${got}, whole table ${want}`);
    t.is(editDistance(a, b), want, `${a} ${b} without a limit`);
  }
});

test('the table is computed only in the band the cut-off allows', (t) => {
  const a = 'ab'.repeat(5000);
  const b = a.slice(0, 4000) + 'x' + a.slice(4001, 9000) + 'ba' + a.slice(9002);
  let d = 0;
  const cells = work(() => (d = editDistance(a, b, 3)));
  t.is(d, 2);
  t.true(cells <= a.length * (2 * 3 + 1), `${cells} cells for a band of 7 over ${a.length} rows`);
});

test('sixty similar names of 4,000 characters cost no quadratic work', (t) => {
  const base = 'a'.repeat(3990);
  const candidates = Array.from({ length: 60 }, (_, i) => base + String(i).padStart(10, 'b'));
  const cells = work(() => suggest(base + 'bbbbbbbb9x', candidates));
  t.true(cells <= 60 * 64 * 21, `${cells} cells`);
});

test('a short name against very long candidates costs nothing per candidate', (t) => {
  const long = Array.from({ length: 100 }, (_, i) => 'x'.repeat(10_000) + i);
  t.is(work(() => suggest('sys-firewal', long)), 0);
});

test('names up to the length limit still get suggestions, at a bounded cost', (t) => {
  const next = rng(11);
  const name = Array.from({ length: 64 }, () => 'abcdefghij'[Math.floor(next() * 10)]).join('');
  const typo = name.slice(0, 30) + 'Z' + name.slice(31);
  const others = Array.from({ length: 500 }, () => Array.from({ length: 64 }, () => 'abcdefghij'[Math.floor(next() * 10)]).join(''));
  let s: string | undefined;
  const cells = work(() => (s = suggest(typo, [...others, name])));
  t.is(s, name);
  t.true(cells <= 501 * 64 * 21, `${cells} cells`);
});
