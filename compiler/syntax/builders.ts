/**
 * Node constructors called by the grammar's actions, so the grammar holds
 * syntax only. Each takes peggy's location and returns a frozen-shape node.
 */
import type { Span } from '../source.js';
import type * as A from './ast.js';

/** The location object peggy passes to actions. */
export interface PeggyLocation {
  readonly source: unknown;
  readonly start: { readonly offset: number; readonly line: number; readonly column: number };
  readonly end: { readonly offset: number; readonly line: number; readonly column: number };
}

/** Converts a peggy location to a span. */
export function span(loc: PeggyLocation): Span {
  return {
    file: String(loc.source ?? ''),
    start: loc.start.offset,
    end: loc.end.offset,
    line: loc.start.line,
    column: loc.start.column,
    endLine: loc.end.line,
    endColumn: loc.end.column,
  };
}

export function word(text: string, loc: PeggyLocation): A.Word {
  return { kind: 'Word', text, span: span(loc) };
}

/** Resolves the escapes `\"`, `\\`, `\n`, `\t` of a string body. */
export function string(body: string, loc: PeggyLocation): A.StringLit {
  const value = body.replace(/\\(["\\nt])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  return { kind: 'StringLit', value, span: span(loc) };
}

export function int(text: string, loc: PeggyLocation): A.IntLit {
  return { kind: 'IntLit', value: Number(text), text, span: span(loc) };
}

export function comment(text: string, loc: PeggyLocation): A.Comment {
  return { kind: 'Comment', text, span: span(loc) };
}

export function file(statements: readonly (A.Statement | null)[], comments: readonly A.Comment[], loc: PeggyLocation): A.PolicyFile {
  const s = span(loc);
  return { kind: 'PolicyFile', path: s.file, statements: statements.filter((x): x is A.Statement => x !== null), comments, span: s };
}

export function declaration(
  form: A.DeclarationForm,
  name: A.Word,
  identity: A.Word | null,
  items: readonly A.Item[] | null,
  loc: PeggyLocation,
): A.Declaration {
  return {
    kind: 'Declaration',
    form,
    name,
    ...(identity ? { identity } : {}),
    items: items ?? [],
    block: items !== null,
    span: span(loc),
  };
}

/** Generic node builder: adds `span` to the given fields, dropping nulls. */
export function node<T extends { kind: string }>(fields: Record<string, unknown>, loc: PeggyLocation): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined) out[k] = v;
  out.span = span(loc);
  return out as T;
}
