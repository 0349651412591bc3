/** The unified diffs `--diff` prints (compiler/unified-diff.ts, through the public API). */
export { unifiedDiff } from '../index.js';
