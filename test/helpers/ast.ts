/**
 * Syntax-tree comparisons for tests: trees without their positions, so two
 * parses of differently laid-out text can be compared with `deepEqual`.
 */
import { SourceFile } from '../../compiler/source.js';
import { parseFile } from '../../compiler/syntax/parse.js';
import type { PolicyFile } from '../../compiler/syntax/ast.js';

/** Fields that only say where a node was written. */
const POSITION_FIELDS = new Set(['span', 'keySpan', 'modeSpan', 'actionSpan', 'relationSpan', 'decisionSpan', 'path']);

/** Fields that only say how a node was laid out: `block` (braces around a declaration's possibly empty items). */
const LAYOUT_FIELDS = new Set([...POSITION_FIELDS, 'block']);

function strip(value: unknown, drop: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => strip(v, drop));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!drop.has(k) && v !== undefined) out[k] = strip(v, drop);
  return out;
}

/**
 * A copy of a syntax tree (or any part of it) without `span`, `keySpan`,
 * `modeSpan`, `actionSpan`, `relationSpan`, `decisionSpan` and `path`, at any depth.
 */
export function stripSpans(value: unknown): unknown {
  return strip(value, POSITION_FIELDS);
}

/**
 * `stripSpans`, and also without `block`: `template t {}` and `template t`
 * mean the same, and the formatter writes the second.
 */
export function stripLayout(value: unknown): unknown {
  return strip(value, LAYOUT_FIELDS);
}

/** A file's comment texts in order, without trailing blanks (which the formatter removes). */
export function commentTexts(file: PolicyFile): string[] {
  return file.comments.map((c) => c.text.replace(/[ \t\r\f\v]+$/, ''));
}

/** Parses text that must be valid; throws with the diagnostics otherwise. */
export function parseValid(text: string, path = 'test.qpol'): PolicyFile {
  const { ast, diagnostics } = parseFile(new SourceFile(path, text));
  if (!ast) throw new Error(`expected valid syntax, got ${diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}\n${text}`);
  return ast;
}
