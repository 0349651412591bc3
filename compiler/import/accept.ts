/**
 * The findings of `qpc check` on an import are the machine as it is: a
 * channel between a Tor identity and another that dom0's files open, a
 * dangerous grant, a template that updates over the clearnet. The import
 * does not hide them; it marks each where check reports it, so that the
 * author sees every one and the policy compiles once they are accepted:
 * `because "…"` on the rule that causes it, `waive CODE on NAME because "…"`
 * for one on a declaration. A finding of waiver class `explicit` then still
 * needs `--allow-waived CODE` on the command line (README, Waivers); one of
 * class `author` is a warning.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { waiverClass } from '../diagnostics/codes.js';
import { SourceFile } from '../source.js';
import { parseFile } from '../syntax/parse.js';
import { format } from '../syntax/print.js';

/** The reason written on what the import accepts. */
export const ACCEPTED = 'imported from the machine as it is: review';

/**
 * `text` (the import, checked as `path`) with a `because` on every rule and
 * a `waive` for every declaration that an error of `diagnostics` of a
 * waivable class names; the same text when there is none.
 */
export function acceptFindings(text: string, path: string, diagnostics: readonly Diagnostic[]): string {
  const lines = text.split('\n');
  const rules = new Set<number>();
  const waives = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== 'error' || d.span?.file !== path || waiverClass(d.code) === 'never') continue;
    const line = lines[d.span.line - 1] ?? '';
    if (/^\s*(allow|ask|deny)\s/.test(line)) rules.add(d.span.line - 1);
    else if (d.subject !== undefined) waives.add(`waive ${d.code} on ${d.subject} because "${ACCEPTED}"`);
  }
  if (rules.size === 0 && waives.size === 0) return text;
  for (const i of rules) if (!/\sbecause\s"/.test(lines[i]!)) lines[i] = `${lines[i]!.replace(/\s+$/, '')} because "${ACCEPTED}"`;
  let out = lines.join('\n').replace(/\n+$/, '\n');
  if (waives.size > 0) out += `\n# qpc check reports these on the machine as it is: accepted here so that they show as warnings (review each).\n${[...waives].sort().join('\n')}\n`;
  const src = new SourceFile(path, out);
  const parsed = parseFile(src);
  return parsed.ast && !parsed.diagnostics.some((d) => d.severity === 'error') ? format(parsed.ast, out) : text;
}
