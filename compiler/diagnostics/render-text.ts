/**
 * Renders diagnostics for people, rustc-style: a header with the code, the
 * `--> file:line:col` pointer, the source line and a caret underline under
 * exactly the offending text, then `= help:` and `= note:` lines and related
 * spans as `note:` blocks. `human` may be coloured; `plain` never is (the
 * golden files use it).
 *
 * Invisible and reordering characters (controls, BIDI controls, other format
 * characters, line separators) are printed as `\u{…}` escapes, so a policy
 * cannot make the terminal show a line other than the one qpc read (the
 * "Trojan Source" attack, CVE-2021-42574).
 *
 * A place in the standard library is printed as the absolute path of the
 * installed file ({@link printedFile}), so that an editor opens it.
 */
import * as path from 'node:path';
import { standardLibraryDir, standardLibraryRelative } from '../host.js';
import type { SourceFile, Span } from '../source.js';
import { sortDiagnostics, type Diagnostic, type Severity } from './diagnostic.js';

/** Options of the human renderer. */
export interface TextOptions {
  /** Emit ANSI colour codes; the CLI sets this only when writing to a TTY. */
  readonly color: boolean;
}

/**
 * The file of a span as the renderers print it: a file of the standard
 * library by the absolute path of the installed file, since its display
 * path (`policies/qubes.qpol`) is relative to the package and opens from no
 * other directory; any other file as the compiler names it (relative to
 * where qpc was run, or as given).
 */
export function printedFile(file: string): string {
  const rel = standardLibraryRelative(file);
  return rel === undefined ? file : path.join(standardLibraryDir(), rel);
}

/** Tab stops every this many columns, for the source line and the carets alike. */
const TAB_WIDTH = 4;

/**
 * Characters that are invisible or change how a terminal orders or breaks a
 * line: controls (Cc, including C1), format characters (Cf: BIDI controls,
 * zero-width characters, the BOM, tag characters), the Unicode line and
 * paragraph separators, and lone surrogates.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const INVISIBLE_GLOBAL = new RegExp(INVISIBLE.source, 'gu');
const ZERO_WIDTH = /^[\p{Mn}\p{Me}]$/u;
const EMOJI_WIDE = /^\p{Emoji_Presentation}$/u;

/** East Asian Wide and Fullwidth blocks, as wcwidth counts them (two columns). */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

/** The escape printed in place of an invisible character, e.g. `\u{202e}`. */
function escapeCodePoint(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/**
 * Replaces invisible and reordering characters in one line of free text
 * (a message, a label, a path) with `\u{…}` escapes.
 */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE_GLOBAL, (c) => escapeCodePoint(c.codePointAt(0) ?? 0));
}

/** Terminal columns a visible code point takes: 0 for combining marks, 2 for wide characters. */
function charWidth(cp: number, ch: string): number {
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  for (const [lo, hi] of WIDE_RANGES) if (cp >= lo && cp <= hi) return 2;
  return EMOJI_WIDE.test(ch) ? 2 : 1;
}

/** A source line as printed, and the display column before each UTF-16 index of the original. */
interface DisplayLine {
  readonly text: string;
  /** `columns[i]` is the 0-based display column where original index `i` starts; `columns[length]` is the end. */
  readonly columns: readonly number[];
}

/** Expands tabs, escapes invisible characters and measures the result, so carets can be placed under it. */
export function layoutLine(line: string): DisplayLine {
  const columns: number[] = new Array<number>(line.length + 1);
  let text = '';
  let col = 0;
  for (let i = 0; i < line.length; ) {
    const cp = line.codePointAt(i) ?? 0;
    const size = cp > 0xffff ? 2 : 1;
    const ch = line.slice(i, i + size);
    columns[i] = col;
    if (size === 2) columns[i + 1] = col;
    if (cp === 9) {
      const w = TAB_WIDTH - (col % TAB_WIDTH);
      text += ' '.repeat(w);
      col += w;
    } else if (INVISIBLE.test(ch)) {
      const esc = escapeCodePoint(cp);
      text += esc;
      col += esc.length;
    } else {
      text += ch;
      col += charWidth(cp, ch);
    }
    i += size;
  }
  columns[line.length] = col;
  return { text, columns };
}

/** Colouring functions; identity when colour is off. */
interface Paint {
  severity(sev: Severity | 'note', s: string): string;
  gutter(s: string): string;
  bold(s: string): string;
}

const RESET = '\x1b[0m';
const SEVERITY_COLOUR: Readonly<Record<Severity | 'note', string>> = {
  error: '\x1b[1;31m',
  warning: '\x1b[1;33m',
  info: '\x1b[1;36m',
  note: '\x1b[1;36m',
};

const colourPaint: Paint = {
  severity: (sev, s) => SEVERITY_COLOUR[sev] + s + RESET,
  gutter: (s) => '\x1b[1;34m' + s + RESET,
  bold: (s) => '\x1b[1m' + s + RESET,
};

const plainPaint: Paint = {
  severity: (_sev, s) => s,
  gutter: (s) => s,
  bold: (s) => s,
};

/** The source line a span starts on, if that file and line are available. */
function excerptLine(span: Span, sources: ReadonlyMap<string, SourceFile>): string | undefined {
  const src = sources.get(span.file);
  if (!src || span.line < 1 || span.line > src.lineCount) return undefined;
  return src.lineText(span.line);
}

/** Longest source line shown whole; longer ones are shown as a window around the span. */
const MAX_EXCERPT = 160;

/** Renders one excerpt: pointer, blank gutter, the source line, the carets. */
function renderExcerpt(
  out: string[],
  span: Span,
  line: string | undefined,
  width: number,
  paint: Paint,
  tone: Severity | 'note',
  label: string | undefined,
): void {
  const pad = ' '.repeat(width);
  out.push(`${pad}${paint.gutter('-->')} ${escapeInvisible(printedFile(span.file))}:${span.line}:${span.column}`);
  if (line === undefined) return;
  let start = Math.min(Math.max(span.column - 1, 0), line.length);
  let end = span.endLine === span.line ? Math.min(Math.max(span.endColumn - 1, start), line.length) : line.length;
  if (line.length > MAX_EXCERPT) {
    // Show a window of a very long line around the span, marked with `…`.
    const ws = Math.max(0, start - 40);
    const we = Math.min(line.length, ws + MAX_EXCERPT);
    const lead = ws > 0 ? '…' : '';
    line = lead + line.slice(ws, we) + (we < line.length ? '…' : '');
    start = start - ws + lead.length;
    end = Math.min(end, we) - ws + lead.length;
  }
  const shown = layoutLine(line);
  const from = shown.columns[start];
  const carets = '^'.repeat(Math.max(1, shown.columns[end] - from));
  const text = shown.text.replace(/ +$/, '');
  out.push(`${pad} ${paint.gutter('|')}`);
  out.push(paint.gutter(`${String(span.line).padStart(width)} |`) + (text ? ` ${text}` : ''));
  const mark = label ? `${carets} ${escapeInvisible(label)}` : carets;
  out.push(`${pad} ${paint.gutter('|')} ${' '.repeat(from)}${paint.severity(tone, mark)}`);
}

/** Renders `= help: …` or `= note: …`, indenting the continuation lines of multi-line text. */
function renderAside(out: string[], kind: 'help' | 'note', text: string, width: number, paint: Paint): void {
  const head = `${' '.repeat(width + 1)}${paint.gutter('=')} ${paint.bold(kind + ':')} `;
  const indent = ' '.repeat(width + 1 + 2 + kind.length + 2);
  text.split('\n').forEach((l, i) => out.push((i === 0 ? head : indent) + escapeInvisible(l)));
}

/** Renders one diagnostic as lines without trailing newlines. */
function renderOne(d: Diagnostic, sources: ReadonlyMap<string, SourceFile>, paint: Paint): string[] {
  const main = d.span ? { span: d.span, line: excerptLine(d.span, sources) } : undefined;
  const related = d.related.map((r) => ({ ...r, line: excerptLine(r.span, sources) }));
  const printed = [main, ...related].filter((x) => x?.line !== undefined).map((x) => x!.span.line);
  const width = Math.max(1, ...printed.map((n) => String(n).length));

  const out: string[] = [];
  out.push(paint.severity(d.severity, `${d.severity}[${d.code}]`) + paint.bold(`: ${escapeInvisible(d.message)}`));
  if (main) renderExcerpt(out, main.span, main.line, width, paint, d.severity, d.label);
  if (d.help !== undefined) renderAside(out, 'help', d.help, width, paint);
  for (const n of d.notes) renderAside(out, 'note', n, width, paint);
  if (d.waivedBecause !== undefined) renderAside(out, 'note', `waived: ${d.waivedBecause}`, width, paint);
  for (const r of related) {
    out.push(`${paint.severity('note', 'note')}: ${escapeInvisible(r.message)}`);
    renderExcerpt(out, r.span, r.line, width, paint, 'note', undefined);
  }
  return out;
}

function renderText(diags: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>, paint: Paint): string {
  return sortDiagnostics(diags)
    .map((d) => renderOne(d, sources, paint).join('\n') + '\n')
    .join('\n');
}

/**
 * Renders diagnostics rustc-style, sorted, separated by blank lines; coloured
 * with ANSI codes when `opts.color`. Returns `''` for no diagnostics.
 * `sources` maps each span's `file` to its text; a span whose file is missing
 * is shown as its `-->` line alone.
 */
export function renderHuman(diags: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>, opts: TextOptions): string {
  return renderText(diags, sources, opts.color ? colourPaint : plainPaint);
}

/** {@link renderHuman} without colour: the format of golden files and of `--error-format plain`. */
export function renderPlain(diags: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>, _opts?: Partial<TextOptions>): string {
  return renderText(diags, sources, plainPaint);
}

function count(n: number, word: string, plural: string): string {
  return `${n} ${n === 1 ? word : plural}`;
}

/**
 * Counts diagnostics by severity for the CLI's last line, e.g.
 * `2 errors, 1 warning` or `no problems`; severities with no diagnostics are left out.
 */
export function summaryLine(diags: readonly Diagnostic[]): string {
  const n = (s: Severity) => diags.filter((d) => d.severity === s).length;
  const parts: string[] = [];
  if (n('error')) parts.push(count(n('error'), 'error', 'errors'));
  if (n('warning')) parts.push(count(n('warning'), 'warning', 'warnings'));
  if (n('info')) parts.push(count(n('info'), 'info message', 'info messages'));
  return parts.length ? parts.join(', ') : 'no problems';
}
