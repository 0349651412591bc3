/**
 * `--diff` with the drift commands: `fmt --check`, `compile --check` and
 * `--frozen` print a unified diff of what would change on stdout; without
 * `--diff` they print none.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { unifiedDiff } from '../../../../compiler/cli/diff.js';
import { runQpc, runQpcAsync } from '../../../helpers/cli.js';

const messy = 'identity   keys {network none;label black}\nqube v in keys\n';
const host = overlayHost(new Map([['messy.qpol', messy]]), nodeHost);
const havePatch = spawnSync('patch', ['--version']).error === undefined;

test('unifiedDiff: hunks of the diff package, `/dev/null` for a missing side, nothing when equal', (t) => {
  t.is(unifiedDiff('f', 'a\nb\nc\n', 'a\nB\nc\n'), '--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  t.is(unifiedDiff('f', undefined, 'x\n'), '--- /dev/null\n+++ f\n@@ -0,0 +1 @@\n+x\n');
  t.is(unifiedDiff('f', 'x\n', undefined), '--- f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
  t.is(unifiedDiff('f', 'same\n', 'same\n'), '');
  t.regex(unifiedDiff('f', 'a', 'a\n'), /^-a\n\\ No newline at end of file\n\+a\n$/m);
});

test('fmt --check --diff prints what fmt would change; --check alone prints nothing', (t) => {
  const r = runQpc(['fmt', '--check', '--diff', 'messy.qpol'], { host });
  t.is(r.code, 1);
  t.regex(r.stderr, /QP5004/);
  t.is(r.written.size, 0);
  t.is(r.stdout, '--- messy.qpol\n+++ messy.qpol\n@@ -1,2 +1,5 @@\n-identity   keys {network none;label black}\n+identity keys {\n+  network none\n+  label black\n+}\n qube v in keys\n');
  t.is(runQpc(['fmt', '--check', 'messy.qpol'], { host }).stdout, '');
  t.is(runQpc(['fmt', '--check', '--diff', 'examples/journalist.qpol']).stdout, '', 'a formatted file has no diff');
  const stdin = runQpc(['fmt', '--check', '--diff', '-'], { stdin: messy });
  t.regex(stdin.stdout, /^--- <stdin>\n\+\+\+ <stdin>\n/);
});

(havePatch ? test : test.skip)('the diff of fmt applies with patch', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-diff-'));
  try {
    writeFileSync(path.join(dir, 'messy.qpol'), messy);
    const d = runQpc(['fmt', '--check', '--diff', 'messy.qpol'], { host }).stdout;
    const p = spawnSync('patch', ['-p0', '--quiet'], { cwd: dir, input: d, encoding: 'utf8' });
    t.is(p.status, 0, p.stderr + p.stdout);
    t.is(readFileSync(path.join(dir, 'messy.qpol'), 'utf8'), runQpc(['fmt', '-'], { stdin: messy }).stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compile --check --diff prints the artifacts that would change, are missing or are not qpc\'s', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-diff-'));
  try {
    const out = path.join(dir, 'out');
    t.is((await runQpcAsync(['compile', 'examples/journalist.qpol', '-o', out, '--frozen', '--target', 'qrexec'])).code, 0);
    t.is((await runQpcAsync(['compile', 'examples/journalist.qpol', '-o', out, '--check', '--diff', '--target', 'qrexec'])).stdout, '', 'nothing would change');
    const manifest = path.join(out, 'manifest.json');
    const before = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, before.replace('"qpc"', '"qpc" ,'));
    writeFileSync(path.join(out, 'extra.txt'), 'left by hand\n');
    const r = await runQpcAsync(['compile', 'examples/journalist.qpol', '-o', out, '--check', '--diff', '--target', 'qrexec']);
    t.is(r.code, 1);
    t.regex(r.stderr, /QP5010/);
    t.true(r.stdout.includes(`--- ${out}/manifest.json\n+++ ${out}/manifest.json\n@@ `), r.stdout);
    t.true(r.stdout.includes(`--- ${out}/extra.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-left by hand\n`), r.stdout);
    const plain = await runQpcAsync(['compile', 'examples/journalist.qpol', '-o', out, '--check', '--target', 'qrexec']);
    t.is(plain.code, 1);
    t.is(plain.stdout, '', 'without --diff, no diff');
    const none = await runQpcAsync(['compile', 'examples/journalist.qpol', '-o', path.join(dir, 'none'), '--check', '--diff', '--target', 'qrexec']);
    t.regex(none.stdout, new RegExp(`^--- /dev/null\\n\\+\\+\\+ ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/none/manifest\\.json\\n`, 'm'), 'a missing directory: every artifact is new');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--frozen --diff prints the lock file change, for check and compile', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-diff-'));
  try {
    cpSync('examples/journalist.qpol', path.join(dir, 'j.qpol'));
    cpSync('examples/journalist.qpol.lock', path.join(dir, 'j.qpol.lock'));
    const entry = path.join(dir, 'j.qpol');
    const lock = `${entry}.lock`;
    const text = readFileSync(entry, 'utf8').replace('app gajim { socks dedicated isolate dest-addr dest-port }', 'app gajim { socks dedicated isolate dest-addr dest-port }\n  app mutt { socks dedicated }');
    writeFileSync(entry, text);
    const r = runQpc(['check', '--frozen', '--diff', entry]);
    t.is(r.code, 1);
    t.regex(r.stderr, /QP5006/);
    t.regex(r.stdout, new RegExp(`^--- ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\+\\+\\+ `));
    t.regex(r.stdout, /^\+.*mutt/m);
    t.is(r.written.size, 0);
    t.is(runQpc(['check', '--frozen', entry]).stdout, '', 'without --diff, no diff');
    const c = await runQpcAsync(['compile', entry, '-o', path.join(dir, 'out'), '--frozen', '--diff']);
    t.is(c.code, 1);
    t.regex(c.stdout, /^\+.*mutt/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
