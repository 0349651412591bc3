/**
 * Renders diagnostics as JSON: the `Diagnostic[]` array verbatim, sorted, for
 * tools (Cedar's `--error-format json`). A span in the standard library keeps
 * its display path in `file` and gains `absolutePath`, the installed file.
 */
import type { Span } from '../source.js';
import { sortDiagnostics, type Diagnostic } from './diagnostic.js';
import { printedFile } from './render-text.js';

/**
 * Non-ASCII characters that are invisible or reorder text: DEL and C1
 * controls, format characters (BIDI controls, zero-width characters, tags)
 * and the Unicode line and paragraph separators. `JSON.stringify` already
 * escapes C0 controls and lone surrogates.
 */
const INVISIBLE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * `JSON.stringify` with 2-space indentation and a final newline, writing
 * invisible and BIDI characters as `\uXXXX` escapes: the parsed value is
 * unchanged, but the text cannot reorder itself when printed to a terminal.
 */
export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return (
    text.replace(INVISIBLE, (c) => {
      let esc = '';
      for (let i = 0; i < c.length; i++) esc += '\\u' + c.charCodeAt(i).toString(16).padStart(4, '0');
      return esc;
    }) + '\n'
  );
}

/** A span with `absolutePath` when it is in the standard library. */
function located(span: Span): Span & { readonly absolutePath?: string } {
  const file = printedFile(span.file);
  return file === span.file ? span : { ...span, absolutePath: file };
}

/**
 * Renders diagnostics as a sorted JSON array of `Diagnostic` objects, 2-space
 * indented, with a trailing newline; spans in the standard library carry
 * `absolutePath`.
 */
export function renderJson(diags: readonly Diagnostic[]): string {
  return stringifyJson(
    // The stage is the pipeline's bookkeeping, not part of the published shape.
    sortDiagnostics(diags).map(({ stage: _stage, ...d }) => ({
      ...d,
      ...(d.span ? { span: located(d.span) } : {}),
      related: d.related.map((r) => ({ ...r, span: located(r.span) })),
    })),
  );
}
