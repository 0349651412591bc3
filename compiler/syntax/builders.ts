/**
 * Node constructors called by the grammar's actions, so the grammar holds
 * syntax only. Each takes the node's span and returns a frozen-shape node.
 */
import type { Span } from '../source.js';
import type * as A from './ast.js';
import { keywords } from './forms.js';

/** Where each line starts (offsets), for {@link spanAt}. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The line (1-based) holding `offset`. */
function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/**
 * The span of peggy's `range()` (offsets only; its `location()` walks the
 * text for each node): line and column from the line starts, columns 1-based
 * in UTF-16 code units, as peggy counts them.
 */
export function spanAt(range: { readonly source: unknown; readonly start: number; readonly end: number }, starts: readonly number[]): Span {
  const line = lineOf(starts, range.start);
  const endLine = range.end === range.start ? line : lineOf(starts, range.end);
  return {
    file: String(range.source ?? ''),
    start: range.start,
    end: range.end,
    line,
    column: range.start - starts[line - 1] + 1,
    endLine,
    endColumn: range.end - starts[endLine - 1] + 1,
  };
}

export function word(text: string, loc: Span): A.Word {
  return { kind: 'Word', text, span: loc };
}

/** Resolves the escapes `\"`, `\\`, `\n`, `\t` of a string body. */
export function string(body: string, loc: Span): A.StringLit {
  const value = body.replace(/\\(["\\nt])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  return { kind: 'StringLit', value, span: loc };
}

export function int(text: string, loc: Span): A.IntLit {
  return { kind: 'IntLit', value: Number(text), text, span: loc };
}

export function comment(text: string, loc: Span): A.Comment {
  return { kind: 'Comment', text, span: loc };
}

export function file(statements: readonly (A.Statement | null)[], comments: readonly A.Comment[], loc: Span): A.PolicyFile {
  return { kind: 'PolicyFile', path: loc.file, statements: statements.filter((x): x is A.Statement => x !== null), comments, span: loc };
}

export function declaration(
  form: A.DeclarationForm,
  name: A.Word,
  identity: A.Word | null,
  items: readonly A.Item[] | null,
  loc: Span,
): A.Declaration {
  return {
    kind: 'Declaration',
    form,
    name,
    ...(identity ? { identity } : {}),
    items: items ?? [],
    block: items !== null,
    span: loc,
  };
}

/** Generic node builder: adds `span` to the given fields, dropping nulls. */
export function node<T extends { kind: string }>(fields: Record<string, unknown>, loc: Span): T {
  const out: Record<string, unknown> = {};
  for (const k in fields) {
    const v = fields[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  out.span = loc;
  return out as T;
}

/** The keywords of each position: the language's one vocabulary (forms.ts). */
export { keywords };

/** Whether `k` is one of the keywords of `position`. */
export function isKeyword(k: A.Word, position: keyof typeof keywords): boolean {
  return (keywords[position] as readonly string[]).includes(k.text);
}
