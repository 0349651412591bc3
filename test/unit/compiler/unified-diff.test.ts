/** Unified diffs as `diff -u` writes them: ranges, missing sides, no diff of equal texts. */
import test from 'ava';
import { unifiedDiff } from '../../../compiler/unified-diff.js';

test('a changed line: one hunk with three lines of context', (t) => {
  t.is(unifiedDiff('f', 'a\nb\nc\n', 'a\nB\nc\n'), '--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
});

test('a file that does not exist on one side is /dev/null there; an empty range names the line before it', (t) => {
  t.is(unifiedDiff('f', undefined, 'x\n'), '--- /dev/null\n+++ f\n@@ -0,0 +1 @@\n+x\n');
  t.is(unifiedDiff('f', 'x\n', undefined), '--- f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
});

test('equal texts have no diff', (t) => {
  t.is(unifiedDiff('f', 'a\n', 'a\n'), '');
  t.is(unifiedDiff('f', undefined, undefined), '');
});
