/** The plan's unified diffs: as `diff -u` writes them, and applied by `patch` they give the new file. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { unifiedDiff } from '../../../../compiler/plan/diff.js';
import { toolTest } from '../../../helpers/tools.js';

const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const after = before.replace('line 3\n', 'line three\n').replace('line 17\n', '');

test('same text: no diff; a new or a removed file: /dev/null on that side', (t) => {
  t.is(unifiedDiff('a', before, before), '');
  t.is(unifiedDiff('a', undefined, 'x\n'), '--- /dev/null\n+++ a\n@@ -0,0 +1 @@\n+x\n');
  t.is(unifiedDiff('a', 'x\ny\n', undefined), '--- a\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n');
});

test('hunks with three lines of context', (t) => {
  t.is(unifiedDiff('f.policy', before, after), [
    '--- f.policy', '+++ f.policy',
    '@@ -1,6 +1,6 @@', ' line 1', ' line 2', '-line 3', '+line three', ' line 4', ' line 5', ' line 6',
    '@@ -14,7 +14,6 @@', ' line 14', ' line 15', ' line 16', '-line 17', ' line 18', ' line 19', ' line 20', '',
  ].join('\n'));
});

toolTest('patch applies the diff to the old file and gives the new one', ['patch'], (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-diff-'));
  try {
    writeFileSync(path.join(dir, 'f.policy'), before);
    const r = spawnSync('patch', ['-p0', '--batch', '--quiet'], { cwd: dir, input: unifiedDiff('f.policy', before, after), encoding: 'utf8' });
    t.is(r.status, 0, r.stdout + r.stderr);
    t.is(readFileSync(path.join(dir, 'f.policy'), 'utf8'), after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
