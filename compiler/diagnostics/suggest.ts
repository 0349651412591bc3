/**
 * "Did you mean" suggestions: the closest candidate by edit distance
 * (insertions, deletions, substitutions and adjacent transpositions), and
 * the fix that writes it in (for `--fix` and the language server's code
 * actions).
 */
import type { Fix } from './diagnostic.js';
import type { Span } from '../source.js';

/** Optimal string alignment distance, stopping early once above `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const prev2: number[] = new Array(b.length + 1).fill(0);
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    for (let j = 0; j <= b.length; j++) prev2[j] = prev[j];
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `name`, if it is close enough to be a likely typo:
 * at most a third of the name's length (at least one edit), case ignored.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
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
