/** Finds lines of a policy's text by what they start with, for tests that name findings by line. */

const collapse = (l: string) => l.trim().split(/\s+/).join(' ');

/** Line lookups in `text`: indentation and runs of spaces are ignored. */
export function policyLines(text: string): { lineOf: (prefix: string) => number; itemOf: (decl: string, item: string) => number } {
  const lines = text.split('\n');
  /** The 1-based line of the first line that starts with `prefix`. */
  const lineOf = (prefix: string): number => {
    const i = lines.findIndex((l) => collapse(l).startsWith(prefix));
    if (i < 0) throw new Error(`no line starts with ${prefix}`);
    return i + 1;
  };
  /** The line of the first `item` after the declaration line `decl` (a qube's `template …` line). */
  const itemOf = (decl: string, item: string): number => {
    const start = lineOf(decl);
    const i = lines.findIndex((l, n) => n >= start && collapse(l).startsWith(item));
    if (i < 0) throw new Error(`no ${item} after ${decl}`);
    return i + 1;
  };
  return { lineOf, itemOf };
}
