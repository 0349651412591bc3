/**
 * Hidden-character lint over the raw text: bidirectional controls anywhere
 * (QP2010, comments included), non-ASCII characters in strings (QP2009).
 * Non-ASCII in names is QP2008, reported where names are bound.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { SourceFile } from '../source.js';
import type { PolicyFile, StringLit } from '../syntax/ast.js';
import { walk } from '../syntax/visit.js';
import { codePoint, isBidi } from './names.js';

export function checkText(source: SourceFile, ast: PolicyFile, ctx: Reporter): void {
  const strings: StringLit[] = [];
  walk(ast, (n) => {
    if (n.kind === 'StringLit') strings.push(n);
  });
  const inside = (o: number, spans: readonly { span: { start: number; end: number } }[]) => spans.some((x) => o >= x.span.start && o < x.span.end);
  const text = source.text;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    const ch = text[i];
    if (isBidi(ch)) {
      const where = inside(i, ast.comments) ? 'a comment' : inside(i, strings) ? 'a string' : 'the policy text';
      ctx.report(diag('QP2010', source.span(i, i + 1), { char: codePoint(ch), where }, { label: 'invisible; reorders how the line is displayed', help: 'delete it: retype the line in an editor that shows hidden characters' }));
    }
  }
  for (const s of strings) {
    const m = /[^\x00-\x7f]/u.exec(s.value);
    if (!m || isBidi(m[0])) continue;
    const offset = text.slice(s.span.start, s.span.end).search(/[^\x00-\x7f]/u);
    const at = offset >= 0 ? s.span.start + offset : s.span.start;
    ctx.report(diag('QP2009', source.span(at, at + m[0].length), { char: codePoint(m[0]) }, { help: 'write it in ASCII if a look-alike is not intended' }));
  }
}
