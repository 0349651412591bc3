/**
 * Parses one source file into a syntax tree, reporting every independent
 * syntax error of the file, each with what the grammar expected at its own
 * place, said in words. Emits QP1001, QP1002, QP1003, QP1004.
 *
 * Recovery is by re-parsing. Peggy stops at the first error; that error is
 * reported, and the statement it is in (or, inside a block, the item) is
 * blanked out, every character but line feeds replaced by a space, so
 * offsets, lines and columns stay those of the file; then the text is parsed
 * again. Each error is therefore peggy's own first error of a text that
 * differs from the file only in the parts already reported, and its
 * expectation list is exact: nothing is guessed by a recovery rule in the
 * grammar, and a mistake is reported once, since the unit around it is gone
 * when the parser goes on. A statement or item runs from the previous
 * line end or `;` at its depth to the next one, braces and what they enclose
 * included, strings and comments skipped as the grammar reads them.
 *
 * A `{` that is never closed would make everything after it look like the
 * inside of its block. When a file has a `{` without `}`, its braces are
 * therefore matched first, by indentation where lines start with `}` as
 * rustc does, to find which one; an error at or after the
 * first line that is back at the indentation of an unclosed `{` becomes
 * QP1004, naming that `{` and where the block should have ended; the
 * unclosed statement or item is blanked up to that line.
 *
 * At most MAX_SYNTAX_ERRORS errors are reported per file. A file with
 * syntax errors has no tree.
 */
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from '../../grammar/generated/parser.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { isCode } from '../diagnostics/codes.js';
import { suggestion } from '../diagnostics/suggest.js';
import { itemsByForm, kindWords, type DeclKind } from './forms.js';
import type { SourceFile } from '../source.js';
import type { PolicyFile } from './ast.js';
import { keywords } from './builders.js';

export interface ParseResult {
  /** The tree; absent when the file has a syntax error. */
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

/** Syntax errors reported per file, at most; the last one says that more may follow. */
export const MAX_SYNTAX_ERRORS = 20;

/** Expectations that only describe layout; shown only when nothing else is expected. */
const LAYOUT = new Set(['space', 'comment', 'end of line', '";"', '"}"', 'end of file', '[ \\t]', '[ \\t\\r\\n;]', '"\\r"', '"\\n"']);

/** The grammar's keyword rules whose lists depend on the block they are in. */
type KeywordRule = keyof typeof keywords;

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

// ---------------------------------------------------------------- where an error is

/** What encloses an offset: the blocks open there and the statement and item it is in. */
interface Place {
  /** Offsets of the `{` open at the offset, outermost first. */
  readonly open: readonly number[];
  /** Start of the top-level statement holding the offset. */
  readonly statement: number;
  /** Start of the item of the outermost block holding the offset (inside a block). */
  readonly item: number;
}

/** The end of the string starting at `i` (a `"`): after its closing quote, or at the end of its line. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '"') return j + 1;
    if (c === '\n' || c === '\r') return j;
    if (c === '\\') j++;
  }
  return text.length;
}

/** The end of the comment starting at `i` (a `#`): the end of its line. */
function skipComment(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ';';

/** The blocks, statement and item around `at`, reading braces as they nest. */
function placeOf(text: string, at: number): Place {
  const open: number[] = [];
  let statement = -1;
  let item = -1;
  for (let i = 0; i < at; ) {
    const c = text[i];
    if (c === '"') {
      if (open.length === 0 && statement < 0) statement = i;
      if (open.length === 1 && item < 0) item = i;
      i = skipString(text, i);
      continue;
    }
    if (c === '#') {
      i = skipComment(text, i);
      continue;
    }
    if (c === '{') {
      if (open.length === 0 && statement < 0) statement = i;
      if (open.length === 1 && item < 0) item = i;
      open.push(i);
      if (open.length === 1) item = -1;
    } else if (c === '}') {
      open.pop();
      if (open.length === 0 && statement < 0) statement = i;
      if (open.length === 1 && item < 0) item = i;
    } else if (c === '\n' || c === ';') {
      if (open.length === 0) statement = -1;
      if (open.length === 1) item = -1;
    } else if (!isBlank(c)) {
      if (open.length === 0 && statement < 0) statement = i;
      if (open.length === 1 && item < 0) item = i;
    }
    i++;
  }
  return { open, statement: statement < 0 ? at : statement, item: item < 0 ? at : item };
}

/**
 * Where the unit at `depth` that holds `from` ends: at the line end or `;`
 * at that depth, before the `}` that closes the block around it, or at the
 * end of the file.
 */
function unitEnd(text: string, from: number, depth: number, fromDepth: number): number {
  let d = fromDepth;
  for (let i = from; i < text.length; ) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '#') {
      i = skipComment(text, i);
      continue;
    }
    if (c === '{') d++;
    else if (c === '}') {
      if (d === depth && depth > 0) return i;
      d = Math.max(0, d - 1);
    } else if ((c === '\n' || c === ';') && d <= depth) return i;
    i++;
  }
  return text.length;
}

/**
 * An unclosed `{` and where its block should have ended: the first line
 * back at the indentation of the `{`'s line, or the end of the file
 * (computed when first asked for).
 */
interface Unclosed {
  readonly open: number;
  readonly indent: string;
  end?: number;
}

/** Leading blanks of the line holding `at`, and the offset where that line starts. */
function lineIndent(text: string, at: number): { start: number; indent: string } {
  const start = text.lastIndexOf('\n', at - 1) + 1;
  const m = /^[ \t]*/.exec(text.slice(start, start + 256));
  return { start, indent: m ? m[0] : '' };
}

/**
 * The `{` that are never closed. A `}` that starts a line closes the open
 * `{` whose line has the same indentation when there is one, and the blocks
 * opened inside that one are unclosed (rustc's reading); any other `}`
 * closes the innermost open `{`. None when every `{` has a `}` after it,
 * nested as braces nest, however the lines are indented.
 */
function unclosedBraces(text: string): Unclosed[] {
  const open: Unclosed[] = [];
  const found: Unclosed[] = [];
  let depth = 0;
  let lineStart = 0;
  let indent = /^[ \t]*/.exec(text.slice(0, 256))![0];
  let onlyBlanks = true;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"' || c === '#') {
      onlyBlanks = false;
      i = c === '"' ? skipString(text, i) : skipComment(text, i);
      continue;
    }
    if (c === '\n') {
      lineStart = i + 1;
      indent = /^[ \t]*/.exec(text.slice(lineStart, lineStart + 256))![0];
      onlyBlanks = true;
    } else if (c === '{') {
      open.push({ open: i, indent });
      depth++;
      onlyBlanks = false;
    } else if (c === '}') {
      if (onlyBlanks) {
        const own = text.slice(lineStart, i);
        let k = open.length - 1;
        while (k >= 0 && open[k].indent !== own) k--;
        if (k >= 0) found.push(...open.splice(k + 1));
      }
      open.pop();
      depth = Math.max(0, depth - 1);
      onlyBlanks = false;
    } else if (c !== ' ' && c !== '\t') onlyBlanks = false;
    i++;
  }
  if (depth === 0) return [];
  found.push(...open);
  return found.sort((a, b) => a.open - b.open);
}

/** Where the block of `u` should have ended: the start of the first later line with content and no deeper indentation, or the end of the file. */
function blockEnd(text: string, u: Unclosed): number {
  if (u.end !== undefined) return u.end;
  u.end = text.length;
  for (let nl = text.indexOf('\n', u.open); nl >= 0; nl = text.indexOf('\n', nl + 1)) {
    const m = /^([ \t]*)([^ \t\r\n])/.exec(text.slice(nl + 1, nl + 1 + 256));
    if (m && m[2] !== '#' && m[1].length <= u.indent.length) {
      u.end = nl + 1 + m[1].length;
      break;
    }
  }
  return u.end;
}

// ---------------------------------------------------------------- words

/** A list in words: `a, b or c`. */
function orList(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join('') : xs.slice(0, -1).join(', ') + ' or ' + xs[xs.length - 1];
}

function withArticle(d: string): string {
  return (/^[aeiou]/i.test(d) ? 'an ' : 'a ') + d;
}

/** The statement keyword that heads the statement starting at `at`, if any. */
function headWord(text: string, at: number): string | undefined {
  const m = /^[^\s{};#"]+/.exec(text.slice(at, at + 64));
  return m?.[0];
}

/** What a block takes: the form of the declaration or statement whose `{` it is. */
interface BlockKind {
  /** The items of this block, for an `item` expectation. */
  readonly items: readonly string[];
  /** "of an identity", or empty. */
  readonly of: string;
}

function blockKind(head: string | undefined): BlockKind {
  if (head !== undefined && head in itemsByForm) return { items: itemsByForm[head as DeclKind], of: ` of ${kindWords[head as DeclKind]}` };
  return { items: keywords.item, of: '' };
}

/**
 * Peggy's expectation list in words a policy author reads, and the words
 * that could stand at the place (for "did you mean"). Inside a block, `item`
 * lists the items of the block's form and `}` is said too.
 */
export function expectedText(expected: readonly Expectation[] | null, block?: BlockKind): { text: string; candidates: string[] } {
  const all = [...new Set((expected ?? []).map(describe))];
  const content = all.filter((d) => !LAYOUT.has(d) && d !== 'a character');
  const layout = all.filter((d) => LAYOUT.has(d));
  const candidates: string[] = [];
  const keywordList = (d: KeywordRule): readonly string[] => (d === 'item' && block ? block.items : keywords[d]);
  const words = (content.length > 0 ? content : layout).map((d) => {
    if (d in keywords) {
      const list = keywordList(d as KeywordRule);
      candidates.push(...list);
      return `${withArticle(d)}${d === 'item' && block ? block.of : ''} (${list.join(', ')})`;
    }
    if (d === '";"' || d === 'end of line' || d === 'end of file') return 'the end of the statement';
    if (d === '"}"') return '`}`';
    if (d.startsWith('"')) {
      const lit = JSON.parse(d) as string;
      if (/^[a-z][a-z-]*$/.test(lit)) candidates.push(lit);
      return '`' + lit + '`';
    }
    // A keyword rule of one word is named by the word in backticks (`in`, `stock`).
    const keyword = /^`([a-z][a-z0-9-]*)`$/.exec(d);
    if (keyword) candidates.push(keyword[1]);
    return d.startsWith('a ') || d.startsWith('an ') || d.startsWith('the ') || d.startsWith('`') ? d : withArticle(d);
  });
  // In a block, where an item may start the block may end too; where `;` was tried, the statement may end.
  if (content.some((d) => d === 'item' || d === 'setting' || d === 'rule') && layout.includes('"}"')) words.push('`}`');
  else if (content.length > 0 && layout.includes('";"')) words.push('the end of the statement');
  const uniq = [...new Set(words)];
  return { text: uniq.length === 0 ? 'something else' : orList(uniq), candidates: [...new Set(candidates)] };
}

/** What was found at the error: the word there, or the end of the line or file. */
function foundText(text: string, offset: number): { text: string; word?: string; length: number } {
  if (offset >= text.length) return { text: 'the end of the file', length: 0 };
  const c = text[offset];
  if (c === '\n' || c === '\r') return { text: 'the end of the line', length: 0 };
  const m = /^[^\s{};#"]+/.exec(text.slice(offset, offset + 64));
  const w = m ? m[0] : c;
  const printable = [...w].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? `\\u{${ch.codePointAt(0)!.toString(16)}}` : ch)).join('');
  return { text: '`' + printable + '`', ...(m ? { word: w } : {}), length: w.length };
}

// ---------------------------------------------------------------- recovery

/** `text` with `[from, to)` blanked: every character but a line feed becomes a space. */
function blank(text: string, from: number, to: number): string {
  return text.slice(0, from) + text.slice(from, to).replace(/[^\n]/g, ' ') + text.slice(to);
}

/**
 * The statement, or inside a block the item, that holds `at`: what recovery
 * blanks. It ends at the latest where the block of an unclosed `{` in it
 * should have ended.
 */
function unitAt(text: string, at: number, unclosed: readonly Unclosed[]): { from: number; to: number; place: Place; inside?: Unclosed } {
  const place = placeOf(text, at);
  const depth = Math.min(place.open.length, 1);
  const from = Math.min(depth === 0 ? place.statement : place.item, at);
  let to = unitEnd(text, at, depth, place.open.length);
  // An empty unit (the error is at a `}`) still blanks that character, so that parsing goes on.
  if (to <= from) to = Math.min(at + 1, text.length);
  // The first `{` after the error that is never closed ends the unit where its block should have ended.
  const inside = unclosed.find((u) => u.open > at && u.open < to && text[u.open] === '{');
  if (inside) to = Math.min(to, Math.max(blockEnd(text, inside), inside.open + 1));
  return { from, to, place, ...(inside ? { inside } : {}) };
}

/** The `{` of a statement or item, as "`identity work`" for messages. */
function braceOwner(text: string, open: number, from: number): string {
  const head = text.slice(from, open).replace(/\s+/g, ' ').trim();
  const words = head.split(' ').slice(0, 2).join(' ');
  return words === '' ? 'a block' : '`' + (words.length > 60 ? words.slice(0, 60) + '…' : words) + '`';
}

/** What one error of a text adds: its diagnostics and the range to blank. */
interface Recovery {
  readonly ds: readonly Diagnostic[];
  readonly from: number;
  readonly to: number;
}

/**
 * One error of `text` (the file with earlier errors blanked). An error at or
 * after the line where an unclosed block should have ended is that `{`'s
 * (QP1004); any other is the error itself, and the `{` left unclosed in
 * the blanked unit, if any, is reported too.
 */
function report(source: SourceFile, text: string, e: PeggySyntaxError, unclosed: readonly Unclosed[]): Recovery {
  const start = e.location.start.offset;
  const u = unclosed.find((x) => x.open < start && text[x.open] === '{' && blockEnd(text, x) <= start);
  if (u) return reportUnclosed(source, text, u);
  const unit = unitAt(text, start, unclosed);
  const also = unit.inside ? reportUnclosed(source, text, unit.inside).ds : [];
  const m = /^(QP\d{4}): (.*)$/s.exec(e.message);
  if (m && isCode(m[1]) && m[1] === 'QP1002') {
    const end = text.indexOf('\n', start);
    const d = diag('QP1002', source.span(start, end < 0 ? text.length : end), {}, { label: 'this string is not closed', help: m[2].replace(/^unterminated string: /, '') });
    return { ds: [d, ...also], from: unit.from, to: unit.to };
  }
  const found = foundText(text, start);
  const block = unit.place.open.length === 0 ? undefined : blockKind(headWord(text, unit.place.statement));
  const expected = expectedText(e.expected as Expectation[] | null, block);
  const span = source.span(start, start + found.length);
  const s = found.word !== undefined ? suggestion(found.word, expected.candidates, span) : { fixes: [] };
  const d = diag('QP1001', span, { expected: expected.text, found: found.text }, { label: 'unexpected here', ...(s.help ? { help: s.help, fixes: s.fixes } : {}) });
  return { ds: [d, ...also], from: unit.from, to: unit.to };
}

/** QP1004 for a `{` that is never closed; blanks its statement or item up to there. */
function reportUnclosed(source: SourceFile, text: string, u: Unclosed): Recovery {
  const place = placeOf(text, u.open);
  const from = place.open.length === 0 ? place.statement : place.item;
  const owner = braceOwner(text, u.open, from);
  const end = blockEnd(text, u);
  const atEnd = end >= text.length;
  const found = foundText(text, end);
  const where = atEnd ? source.span(text.length, text.length) : source.span(end, end + found.length);
  const indent = u.indent;
  const insert = atEnd ? (text.endsWith('\n') || text === '' ? `${indent}}\n` : `\n${indent}}\n`) : `${indent}}\n`;
  const at = atEnd ? where : source.span(lineIndent(text, end).start, lineIndent(text, end).start);
  const d = diag('QP1004', source.span(u.open, u.open + 1), { owner }, {
    label: 'this `{` has no matching `}`',
    related: [{ span: where, message: atEnd ? 'expected `}` before the end of the file' : found.text === '`}`' ? 'expected another `}` before this one' : `expected \`}\` before ${found.text}` }],
    help: atEnd ? 'add `}` at the end of the block' : `add \`}\` at the end of the block, before line ${where.line}`,
    fixes: [{ title: 'Insert `}`', edits: [{ span: at, newText: insert }] }],
  });
  return { ds: [d], from, to: Math.max(end, u.open + 1) };
}

/** Parses a file; never throws for any input text. */
export function parseFile(source: SourceFile): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const bad = source.text.indexOf('\uFFFD');
  if (bad >= 0) diagnostics.push(diag('QP1003', source.span(bad, bad + 1), {}, { label: 'this byte is not UTF-8' }));
  const first = diagnostics.length;
  let text = source.text;
  let unclosed: Unclosed[] | undefined;
  let last = -1;
  for (let n = 0; ; n++) {
    // Each round reports at least one error, so MAX_SYNTAX_ERRORS bounds the rounds.
    try {
      const ast = peggyParse(text, { grammarSource: source.path }) as PolicyFile;
      return n === 0 ? { ast, diagnostics } : { diagnostics };
    } catch (e) {
      if (!(e instanceof PeggySyntaxError)) throw e;
      // Blanking removes what was reported, so the next error comes after it; stop if not.
      if (e.location.start.offset <= last) return { diagnostics };
      unclosed ??= unclosedBraces(source.text);
      const r = report(source, text, e, unclosed);
      last = Math.min(e.location.start.offset, r.to - 1);
      diagnostics.push(...r.ds.slice(0, MAX_SYNTAX_ERRORS - (diagnostics.length - first)));
      if (diagnostics.length - first >= MAX_SYNTAX_ERRORS) {
        const d = diagnostics.pop()!;
        diagnostics.push({ ...d, notes: [...d.notes, `qpc reports at most ${MAX_SYNTAX_ERRORS} syntax errors per file; there may be more after this one`] });
        return { diagnostics };
      }
      text = blank(text, r.from, r.to);
    }
  }
}
