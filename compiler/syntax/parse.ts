/**
 * Parses one source file into a syntax tree. Peggy stops at the first syntax
 * error; it becomes QP1001 (or the code a grammar `error()` names) with the
 * expectations said in words. Emits QP1001, QP1002, QP1003.
 */
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from '../../grammar/generated/parser.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { isCode } from '../diagnostics/codes.js';
import type { SourceFile } from '../source.js';
import type { PolicyFile } from './ast.js';

export interface ParseResult {
  readonly ast?: PolicyFile;
  readonly diagnostics: readonly Diagnostic[];
}

interface Expectation {
  readonly type: string;
  readonly text?: string;
  readonly description?: string;
  readonly parts?: readonly unknown[];
  readonly inverted?: boolean;
}

/** Expectations that only describe layout; shown only when nothing else is expected. */
const LAYOUT = new Set(['space', 'comment', 'end of line', '";"', '"}"', 'end of file', '[ \\t]', '[ \\t\\r\\n;]', '"\\r"', '"\\n"']);

function describe(e: Expectation): string {
  switch (e.type) {
    case 'literal':
      return JSON.stringify(e.text);
    case 'end':
      return 'end of file';
    case 'other':
      return e.description ?? 'something else';
    case 'class':
      return e.description ?? 'a character';
    default:
      return 'a character';
  }
}

/** Turns peggy's expectation list into words a policy author reads. */
export function expectedText(expected: readonly Expectation[] | null): string {
  const all = [...new Set((expected ?? []).map(describe))];
  const content = all.filter((d) => !LAYOUT.has(d) && d !== 'a character');
  const layout = all.filter((d) => LAYOUT.has(d));
  const words = (content.length > 0 ? content : layout).map((d) => {
    if (d === '";"' || d === 'end of line' || d === 'end of file') return 'the end of the statement';
    if (d === '"}"') return '`}`';
    if (d.startsWith('"')) return '`' + JSON.parse(d) + '`';
    return d.startsWith('a ') || d.startsWith('an ') || d.startsWith('the ') || d.startsWith('`') ? d : withArticle(d);
  });
  const uniq = [...new Set(words)];
  if (uniq.length === 0) return 'something else';
  if (uniq.length === 1) return uniq[0];
  return uniq.slice(0, -1).join(', ') + ' or ' + uniq[uniq.length - 1];
}

function withArticle(d: string): string {
  return (/^[aeiou]/i.test(d) ? 'an ' : 'a ') + d;
}

/** What was found at the error: the word there, or the end of the line or file. */
function foundText(text: string, offset: number): { text: string; length: number } {
  if (offset >= text.length) return { text: 'the end of the file', length: 0 };
  const c = text[offset];
  if (c === '\n' || c === '\r') return { text: 'the end of the line', length: 0 };
  const m = /^[^\s{};#"]+/.exec(text.slice(offset, offset + 64));
  const w = m ? m[0] : c;
  const printable = [...w].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? `\\u{${ch.codePointAt(0)!.toString(16)}}` : ch)).join('');
  return { text: '`' + printable + '`', length: w.length };
}

/** Parses a file; never throws for any input text. */
export function parseFile(source: SourceFile): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const bad = source.text.indexOf('\uFFFD');
  if (bad >= 0) diagnostics.push(diag('QP1003', source.span(bad, bad + 1), {}, { label: 'this byte is not UTF-8' }));
  try {
    const ast = peggyParse(source.text, { grammarSource: source.path }) as PolicyFile;
    return { ast, diagnostics };
  } catch (e) {
    if (!(e instanceof PeggySyntaxError)) throw e;
    const start = e.location.start.offset;
    const m = /^(QP\d{4}): (.*)$/s.exec(e.message);
    if (m && isCode(m[1]) && m[1] === 'QP1002') {
      const end = source.text.indexOf('\n', start);
      diagnostics.push(diag('QP1002', source.span(start, end < 0 ? source.text.length : end), {}, { label: 'this string is not closed', help: m[2].replace(/^unterminated string: /, '') }));
      return { diagnostics };
    }
    const found = foundText(source.text, start);
    diagnostics.push(diag('QP1001', source.span(start, start + found.length), { expected: expectedText(e.expected as Expectation[] | null), found: found.text }, { label: 'unexpected here' }));
    return { diagnostics };
  }
}
