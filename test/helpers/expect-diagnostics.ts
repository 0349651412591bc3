/**
 * Checks a policy text and compares its diagnostics with a list of
 * expectations that name the underlined text, not offsets.
 */
import type { ExecutionContext } from 'ava';
import { check } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.js';

export interface Expected {
  readonly code: string;
  /** The exact text under the caret. */
  readonly underline?: string;
  readonly severity?: 'error' | 'warning' | 'info';
  readonly message?: RegExp;
  readonly help?: RegExp;
  readonly line?: number;
}

/** The path the checked text is given. */
export const testPath = 'test.qpol';

/**
 * The diagnostics of the stages (load, bind, graph), without the targets'
 * own checks: the passes' tests need not write policies every target can
 * express (test/unit/compiler/index.test.ts covers `check` with them).
 */
export function checkText(src: string, extra: Readonly<Record<string, string>> = {}): readonly Diagnostic[] {
  const files = new Map<string, string>([[testPath, src], ...Object.entries(extra)]);
  return check(testPath, { host: overlayHost(files, nodeHost), targets: [] }).diagnostics;
}

function underlined(src: string, d: Diagnostic): string | undefined {
  return d.span && d.span.file === testPath ? src.slice(d.span.start, d.span.end) : undefined;
}

/**
 * Compares diagnostics in order. Unused-declaration warnings (QP2018) are
 * left out unless the expectations mention QP2018 or QP2021, so small test
 * policies need not use everything they declare.
 */
export function expectDiagnostics(t: ExecutionContext, src: string, expected: readonly Expected[], extra: Readonly<Record<string, string>> = {}): void {
  const hygiene = expected.some((e) => e.code === 'QP2018' || e.code === 'QP2021');
  const ds = checkText(src, extra).filter((d) => hygiene || d.code !== 'QP2018');
  const show = ds.map((d) => `${d.code} ${d.severity} ${d.span ? `${d.span.file}:${d.span.line}:${d.span.column}` : ''} \`${underlined(src, d) ?? ''}\` ${d.message}${d.help ? ` (help: ${d.help})` : ''}`).join('\n');
  t.is(ds.length, expected.length, `diagnostics:\n${show}`);
  expected.forEach((e, i) => {
    const d = ds[i];
    if (!d) return;
    t.is(d.code as string, e.code, `diagnostic ${i}:\n${show}`);
    if (e.underline !== undefined) t.is(underlined(src, d), e.underline, `underline of diagnostic ${i}:\n${show}`);
    if (e.severity) t.is(d.severity, e.severity, `severity of diagnostic ${i}`);
    if (e.message) t.regex(d.message, e.message);
    if (e.help) t.regex(d.help ?? '', e.help);
    if (e.line !== undefined) t.is(d.span?.line, e.line);
  });
}
