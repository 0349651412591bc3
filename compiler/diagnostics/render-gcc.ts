/**
 * Renders diagnostics one per line in GCC's format, `file:line:col: error:
 * message [QP2001]`, which editors' problem matchers and vim's quickfix
 * (`%f:%l:%c: %t%*[^:]: %m`) parse. Help, notes and related spans follow as
 * `note:` lines, as GCC prints them. A place in the standard library is
 * printed by the absolute path of the installed file, which the editor opens.
 */
import { sortDiagnostics, type Diagnostic, type Severity } from './diagnostic.js';
import { escapeInvisible, printedFile } from './render-text.js';
import type { Span } from '../source.js';

/** GCC's word for each severity; GCC has no `info`, its `note` is the nearest. */
const WORD: Readonly<Record<Severity, string>> = { error: 'error', warning: 'warning', info: 'note' };

function where(span: Span | undefined): string {
  return span ? `${escapeInvisible(printedFile(span.file))}:${span.line}:${span.column}` : 'qpc';
}

/** One `note:` line per line of the text, so a multi-line note stays parseable. */
function notes(out: string[], loc: string, prefix: string, text: string): void {
  for (const l of text.split('\n')) out.push(`${loc}: note: ${prefix}${escapeInvisible(l)}`);
}

/**
 * Renders diagnostics in GCC's one-line format, sorted, with a trailing
 * newline (`''` for none). A diagnostic without a span is located at `qpc`.
 */
export function renderGcc(diags: readonly Diagnostic[]): string {
  const out: string[] = [];
  for (const d of sortDiagnostics(diags)) {
    const loc = where(d.span);
    out.push(`${loc}: ${WORD[d.severity]}: ${escapeInvisible(d.message)} [${d.code}]`);
    if (d.help !== undefined) notes(out, loc, 'help: ', d.help);
    for (const n of d.notes) notes(out, loc, '', n);
    if (d.waivedBecause !== undefined) notes(out, loc, 'waived: ', d.waivedBecause);
    for (const r of d.related) notes(out, where(r.span), '', r.message);
  }
  return out.map((l) => l + '\n').join('');
}
