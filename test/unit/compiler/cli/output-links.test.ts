/**
 * Symbolic links and the output directory: `-o` naming a link qpc did not
 * make is refused and leaves nothing behind, and `--check` reports a link
 * inside the directory (qpc writes regular files only) instead of following
 * it to bytes that happen to match.
 */
import test from 'ava';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffOutput, nodeOutputFs, writeOutput } from '../../../../compiler/cli/output.js';
import { runQpcAsync as qpc } from '../../../helpers/cli.js';
import type { Artifact } from '../../../../compiler/target.js';

function temp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-links-'));
}

const oldSet: Artifact[] = [{ path: 'manifest.json', contents: '{ "qpc": "0.1.0", "artifacts": [] }\n' }, { path: 'a/b.txt', contents: 'old b\n' }];
const newSet: Artifact[] = [{ path: 'manifest.json', contents: '{ "qpc": "0.1.0", "artifacts": [1] }\n' }, { path: 'a/b.txt', contents: 'new b\n' }];

test('`-o` naming a symbolic link qpc did not make is refused; the link and its target stay as they were', (t) => {
  const root = temp();
  const real = path.join(root, 'real');
  writeOutput(nodeOutputFs, real, oldSet);
  const link = path.join(root, 'link');
  symlinkSync('real', link);
  t.throws(() => writeOutput(nodeOutputFs, link, newSet), { message: /symbolic link/ });
  t.true(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  t.is(readFileSync(path.join(link, 'a/b.txt'), 'utf8'), 'old b\n', 'its target still holds the old set');
  t.deepEqual(readdirSync(root).filter((n) => n.startsWith('.link')), [], 'nothing was built beside the link');
  rmSync(root, { recursive: true });
});

test('`qpc compile -o LINK` reports QP5009 with the reason', async (t) => {
  const root = temp();
  mkdirSync(path.join(root, 'elsewhere'));
  symlinkSync('elsewhere', path.join(root, 'out'));
  const r = await qpc(['compile', 'examples/journalist.qpol', '-o', path.join(root, 'out'), '--frozen', '--target', 'xen', '--error-format', 'plain']);
  t.is(r.code, 2);
  t.regex(r.stderr, /QP5009.*symbolic link/);
  t.deepEqual(readdirSync(path.join(root, 'elsewhere')), []);
  rmSync(root, { recursive: true });
});

test('--check reports a symbolic link inside the directory, even to identical bytes', (t) => {
  const root = temp();
  const out = path.join(root, 'out');
  writeOutput(nodeOutputFs, out, newSet);
  t.deepEqual(diffOutput(nodeOutputFs, out, newSet), []);
  writeFileSync(path.join(root, 'copy.txt'), 'new b\n');
  unlinkSync(path.join(out, 'a/b.txt'));
  symlinkSync(path.join(root, 'copy.txt'), path.join(out, 'a/b.txt'));
  t.deepEqual(diffOutput(nodeOutputFs, out, newSet), [{ path: `${out}/a/b.txt`, change: 'is a symbolic link, not a file qpc writes' }]);
  rmSync(root, { recursive: true });
});

test('--check reports a linked directory inside the output instead of reading through it', (t) => {
  const root = temp();
  const out = path.join(root, 'out');
  writeOutput(nodeOutputFs, out, newSet);
  mkdirSync(path.join(root, 'other'));
  writeFileSync(path.join(root, 'other', 'b.txt'), 'new b\n');
  rmSync(path.join(out, 'a'), { recursive: true });
  symlinkSync(path.join(root, 'other'), path.join(out, 'a'));
  t.deepEqual(diffOutput(nodeOutputFs, out, newSet), [
    { path: `${out}/a/b.txt`, change: 'is missing' },
    { path: `${out}/a`, change: 'is a symbolic link, not a file qpc writes' },
  ]);
  rmSync(root, { recursive: true });
});

test('--check on a symbolic link qpc did not make reports it', (t) => {
  const root = temp();
  const real = path.join(root, 'real');
  writeOutput(nodeOutputFs, real, newSet);
  symlinkSync(real, path.join(root, 'link'));
  t.deepEqual(diffOutput(nodeOutputFs, path.join(root, 'link'), newSet), [{ path: path.join(root, 'link'), change: 'is a symbolic link qpc did not make' }]);
  t.false(existsSync(path.join(root, '.link.qpc')));
  rmSync(root, { recursive: true });
});
