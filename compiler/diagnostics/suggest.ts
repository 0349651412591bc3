/**
 * "Did you mean" suggestions: the closest candidate by edit distance
 * (insertions, deletions, substitutions and adjacent transpositions), and
 * the fix that writes it in (for `--fix` and the language server's code
 * actions).
 */
import type { Fix } from './diagnostic.js';
import type { Span } from '../source.js';

/**
 * Names longer than this get no suggestion. Qubes names have at most 31
 * characters; a longer unknown name is hardly a typo, and the distance to
 * every candidate would cost time in proportion to its length.
 */
export const MAX_SUGGESTED_LENGTH = 64;

/** The most edits a suggestion may be away, whatever the length of the name. */
export const MAX_SUGGESTED_EDITS = 10;

let cells = 0;

/** Cells of the distance table computed so far: the work suggestions cost (tests count it). */
export function distanceCells(): number {
  return cells;
}

/**
 * Optimal string alignment distance, or `limit + 1` when it is above
 * `limit`. Only the band of the table within `limit` of the diagonal is
 * computed, and the computation stops at a row whose every cell is above
 * `limit`: the cost is at most `a.length × (2 × limit + 1)` cells.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > limit) return limit + 1;
  // Cells farther than `band` from the diagonal hold more than `limit`; they read as `big`.
  const band = Math.min(limit, Math.max(n, m));
  const big = band + 1;
  let prev2: number[] = new Array<number>(m + 1).fill(big);
  let prev: number[] = new Array<number>(m + 1).fill(big);
  let cur: number[] = new Array<number>(m + 1).fill(big);
  for (let j = 0; j <= Math.min(m, band); j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - band);
    const hi = Math.min(m, i + band);
    // The cells just outside the band are the only ones outside it the next two rows read.
    cur[lo - 1] = lo === 1 ? i : big;
    if (hi < m) cur[hi + 1] = big;
    let rowMin = cur[lo - 1];
    cells += hi - lo + 1;
    for (let j = lo; j <= hi; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return Math.min(prev[m], limit + 1);
}

/**
 * The candidate closest to `name`, if it is close enough to be a likely typo:
 * at most a third of the name's length (at least one edit, at most
 * MAX_SUGGESTED_EDITS), case ignored. Names longer than MAX_SUGGESTED_LENGTH
 * get none. Of candidates equally close, the one that sorts first.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  const limit = Math.min(MAX_SUGGESTED_EDITS, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestD = limit + 1;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(lower, c.toLowerCase(), bestD);
    if (d < bestD || (d === bestD && best !== undefined && c < best)) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** `did you mean `x`?` or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const s = suggest(name, candidates);
  return s === undefined ? undefined : `did you mean \`${s}\`?`;
}

/** The part `[from, to)` of a span on one line (offsets into the span's text). */
export function subSpan(span: Span, from: number, to: number): Span {
  return { ...span, start: span.start + from, end: span.start + to, endLine: span.line, column: span.column + from, endColumn: span.column + to };
}

/** Writes `text` over `at`: the fix of a suggestion. */
export function replaceFix(at: Span, text: string): Fix {
  return { title: `Replace with \`${text}\``, edits: [{ span: at, newText: text }] };
}

/**
 * The help and fix for a misspelt `name` written at `at`: "did you mean
 * `X`?" and the edit writing X there (`write` renders it, e.g. quoted).
 */
export function suggestion(name: string, candidates: Iterable<string>, at: Span, write: (s: string) => string = (s) => s): { help?: string; fixes: Fix[] } {
  const s = suggest(name, candidates);
  if (s === undefined) return { fixes: [] };
  return { help: `did you mean \`${s}\`?`, fixes: [replaceFix(at, write(s))] };
}
