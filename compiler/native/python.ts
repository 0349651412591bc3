/**
 * The few Python behaviours Qubes' policy loader relies on, so that lines
 * split and messages read exactly as in dom0: `str.strip()`/`str.split()`
 * whitespace, text-file line breaks (universal newlines) and `repr()` of
 * strings, tuples and lists (qubes-core-qrexec `qrexec/policy/parser.py`
 * formats its messages with `{!r}`).
 */

/**
 * Python's whitespace (`str.isspace`: Unicode category Zs or bidirectional
 * class WS, B or S), which `strip()` and `split()` use. Wider than
 * JavaScript's `\s` (it has U+001C–U+001F and U+0085, not U+FEFF).
 */
const SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);

export function isPythonSpace(code: number): boolean {
  return SPACE.has(code);
}

/** A word of a line as `str.split()` cuts it, with its offsets in the line. */
export interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** `line.split()`, keeping where each word is. */
export function splitWords(line: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && SPACE.has(line.charCodeAt(i))) i++;
    if (i >= line.length) break;
    const start = i;
    while (i < line.length && !SPACE.has(line.charCodeAt(i))) i++;
    words.push({ text: line.slice(start, i), start, end: i });
  }
  return words;
}

/** One line of a text file as Python reads it (`for line in open(...)`): `\n`, `\r\n` and a lone `\r` end a line. */
export interface Line {
  /** 1-based, as Qubes numbers it. */
  readonly number: number;
  /** Offset of the line's first character in the file. */
  readonly start: number;
  /** The line without its line break. */
  readonly text: string;
}

export function textLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    lines.push({ number: n++, start, text: text.slice(start, i) });
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    start = i + 1;
  }
  if (start < text.length) lines.push({ number: n, start, text: text.slice(start) });
  return lines;
}

/** Characters `str.isprintable()` refuses (`repr` escapes them): categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Python's `repr()` of a string. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    else if (c < 0x7f || ch === ' ') out += ch;
    else if (UNPRINTABLE.test(ch)) out += c < 0x100 ? `\\x${hex(c, 2)}` : c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a tuple of strings. */
export function pyTuple(items: readonly string[]): string {
  return items.length === 1 ? `(${pyRepr(items[0]!)},)` : `(${items.map(pyRepr).join(', ')})`;
}

/** Python's `repr()` of a list of strings. */
export function pyList(items: readonly string[]): string {
  return `[${items.map(pyRepr).join(', ')}]`;
}

/** Python's sort of single characters: by code point (not by UTF-16 unit). */
export function sortedChars(chars: Iterable<string>): string[] {
  return [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}
