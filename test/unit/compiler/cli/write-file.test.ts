/**
 * The files qpc rewrites in place, through the real process's file system:
 * `qpc fmt` on a symbolic link keeps the link and gives the file it names
 * the new text; a file keeps its mode; a read-only file is refused, not
 * silently made writable. And a compile whose output cannot be written
 * writes no lock file either.
 */
import test from 'ava';
import { chmodSync, cpSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processIo, runCli, type CliIo } from '../../../../compiler/cli/main.js';
import { runQpcAsync } from '../../../helpers/cli.js';

function temp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-write-'));
}

const messy = 'identity   keys {network none;label black}\nqube v in keys\n';
const tidy = 'identity keys {\n  network none\n  label black\n}\nqube v in keys\n';

/** Runs qpc in this process over the real file system, capturing its streams. */
async function real(argv: readonly string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io: CliIo = { ...processIo(), stdout: () => {}, stderr: (s) => void (stderr += s) };
  return { code: await runCli(argv, io), stderr };
}

test('fmt on a symbolic link writes the file it points to and keeps the link', async (t) => {
  const root = temp();
  writeFileSync(path.join(root, 'real.qpol'), messy);
  symlinkSync('real.qpol', path.join(root, 'link.qpol'));
  const r = await real(['fmt', path.join(root, 'link.qpol')]);
  t.is(r.code, 0, r.stderr);
  t.true(lstatSync(path.join(root, 'link.qpol')).isSymbolicLink());
  t.is(readlinkSync(path.join(root, 'link.qpol')), 'real.qpol');
  t.is(readFileSync(path.join(root, 'real.qpol'), 'utf8'), tidy);
  rmSync(root, { recursive: true });
});

test('fmt keeps the mode of the file it rewrites', async (t) => {
  const root = temp();
  const f = path.join(root, 'p.qpol');
  writeFileSync(f, messy);
  chmodSync(f, 0o640);
  const r = await real(['fmt', f]);
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(f, 'utf8'), tidy);
  t.is(statSync(f).mode & 0o7777, 0o640);
  rmSync(root, { recursive: true });
});

test('fmt refuses a read-only file with QP5005 and leaves it as it was', async (t) => {
  const root = temp();
  const f = path.join(root, 'p.qpol');
  writeFileSync(f, messy);
  chmodSync(f, 0o400);
  const r = await real(['fmt', '--error-format', 'plain', f]);
  t.is(r.code, 2);
  t.regex(r.stderr, /QP5005.*read-only/);
  t.is(readFileSync(f, 'utf8'), messy);
  t.is(statSync(f).mode & 0o7777, 0o400);
  rmSync(root, { recursive: true });
});

test('a compile whose output cannot be written leaves the lock file alone', async (t) => {
  const root = temp();
  cpSync('examples/journalist.qpol', path.join(root, 'j.qpol'));
  const file = path.join(root, 'not-a-directory');
  writeFileSync(file, 'x\n');
  // No lock file yet: a compile that succeeds writes one.
  const r = await runQpcAsync(['compile', path.join(root, 'j.qpol'), '-o', file, '--error-format', 'plain']);
  t.is(r.code, 2);
  t.regex(r.stderr, /QP5009/);
  t.deepEqual([...r.written.keys()], [], 'no lock file is written');
  const ok = await runQpcAsync(['compile', path.join(root, 'j.qpol'), '-o', path.join(root, 'out'), '--target', 'xen']);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual([...ok.written.keys()], [path.join(root, 'j.qpol.lock')], 'a compile that writes its output writes the lock');
  rmSync(root, { recursive: true });
});
