/**
 * Unified diffs as `diff -u` writes them (hunks by the `diff` package, three
 * lines of context): of a file as it is against the file as qpc would write
 * it. The file names are the paths as given, on both sides (`patch -p0`
 * applies them); a file that does not exist yet, or would be removed, is
 * `/dev/null` on that side, as in git. The command line's `--diff` and
 * `qpc plan` print them.
 */
import { structuredPatch } from 'diff';

/** The unified diff from `before` to `after` of the file `name` ('' when they are the same); undefined text is a missing file. */
export function unifiedDiff(name: string, before: string | undefined, after: string | undefined): string {
  if (before === after) return '';
  const patch = structuredPatch(name, name, before ?? '', after ?? '', undefined, undefined, { context: 3 });
  if (patch.hunks.length === 0) return '';
  const out = [`--- ${before === undefined ? '/dev/null' : name}`, `+++ ${after === undefined ? '/dev/null' : name}`];
  for (const h of patch.hunks) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`);
    out.push(...h.lines);
  }
  return out.join('\n') + '\n';
}

/** A hunk's range as `diff -u` writes it: the line before an empty range, and no count of 1. */
function range(start: number, lines: number): string {
  if (lines === 0) return `${start - 1},0`;
  return lines === 1 ? `${start}` : `${start},${lines}`;
}
