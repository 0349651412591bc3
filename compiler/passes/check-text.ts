/**
 * Hidden-character lint over the raw text: bidirectional controls anywhere
 * (QP2010); control and line-break characters in comments and strings, and a
 * lone carriage return anywhere (QP2024); non-ASCII in strings (QP2009).
 * Non-ASCII in names is QP2008, reported where names are bound.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { SourceFile } from '../source.js';
import type { PolicyFile, StringLit } from '../syntax/ast.js';
import { walk } from '../syntax/visit.js';
import { codePoint, isBidi } from './name-rules.js';

/**
 * Characters that UAX #14 breaks lines at but the grammar does not: vertical
 * tab, form feed, NEL, the line and paragraph separators. A viewer that
 * breaks the line there shows the rest of a comment as a line of policy.
 */
const LINE_BREAKS = new Set([0x0b, 0x0c, 0x85, 0x2028, 0x2029]);

/**
 * Whether the character at `i` is a hidden one: a C0 control but tab and the
 * line feed (and the carriage return of a CRLF), DEL, a C1 control, or a
 * line-break character the grammar does not break lines at.
 */
function hiddenAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 0x09 || c === 0x0a) return false;
  if (c === 0x0d) return text.charCodeAt(i + 1) !== 0x0a;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || LINE_BREAKS.has(c);
}

export function checkText(source: SourceFile, ast: PolicyFile, ctx: Reporter): void {
  const strings: StringLit[] = [];
  walk(ast, (n) => {
    if (n.kind === 'StringLit') strings.push(n);
  });
  const inside = (o: number, spans: readonly { span: { start: number; end: number } }[]) => spans.some((x) => o >= x.span.start && o < x.span.end);
  const text = source.text;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    const ch = text[i];
    const where = () => (inside(i, ast.comments) ? 'a comment' : inside(i, strings) ? 'a string' : 'the policy text');
    if (isBidi(ch)) {
      ctx.report(diag('QP2010', source.span(i, i + 1), { char: codePoint(ch), where: where() }, { label: 'invisible; reorders how the line is displayed', help: 'delete it: retype the line in an editor that shows hidden characters' }));
    } else if (hiddenAt(text, i)) {
      // Elsewhere such a character is a syntax error or part of a name (QP2008); a lone carriage return is a line break to the parser.
      const at = where();
      if (at === 'the policy text' && c !== 0x0d) continue;
      const lineBreak = LINE_BREAKS.has(c) || c === 0x0d;
      const label = c === 0x0d ? 'a line break to qpc, but not in every viewer' : lineBreak ? 'shown as a line break by some viewers, but not one to qpc' : 'invisible, or shown differently by each viewer';
      ctx.report(diag('QP2024', source.span(i, i + 1), { kind: lineBreak ? 'line-break character' : 'control character', char: codePoint(ch), where: at }, { label, help: 'delete it: retype the line in an editor that shows hidden characters' }));
    }
  }
  for (const s of strings) {
    const raw = text.slice(s.span.start, s.span.end);
    // The first non-ASCII character not already reported as hidden.
    let offset = -1;
    for (let i = 0; i < raw.length; i++) {
      if (raw.charCodeAt(i) < 0x80 || isBidi(raw[i]) || hiddenAt(raw, i)) continue;
      offset = i;
      break;
    }
    if (offset < 0) continue;
    const ch = String.fromCodePoint(raw.codePointAt(offset)!);
    const at = s.span.start + offset;
    ctx.report(diag('QP2009', source.span(at, at + ch.length), { char: codePoint(ch) }, { help: 'write it in ASCII if a look-alike is not intended' }));
  }
}
