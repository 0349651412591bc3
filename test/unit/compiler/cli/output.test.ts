/**
 * The output directory of `qpc compile` and in-place rewrites: `DIR` is a
 * link to a complete set in `.DIR.qpc/`, swapped by one rename; the set it
 * replaces is kept until the compile after; a directory that is not qpc's
 * is never replaced; `diffOutput` says how a directory differs from the
 * artifacts; `replaceFile` keeps a file's mode and links. (Crashes between
 * steps and concurrent compiles: output-faults.test.ts; links: output-links.)
 */
import test from 'ava';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffOutput, nodeOutputFs, outputTextChanges, replaceFile, writeOutput } from '../../../../compiler/cli/output.js';
import type { Artifact } from '../../../../compiler/target.js';

function temp(t: { teardown(fn: () => void): void }): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qpc-output-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const manifest = (n: number): Artifact => ({ path: 'manifest.json', contents: `{ "qpc": "0.1.0", "artifacts": [${n}] }\n` });
const set = (n: number): Artifact[] => [manifest(n), { path: 'qubes/provision.sh', contents: `#!/bin/sh\necho ${n}\n`, executable: true }, { path: 'qubes/policy/30-qpc.policy', contents: `# ${n}\n` }];

const mode = (p: string) => statSync(p).mode & 0o777;
const store = (root: string, base = 'out') => readdirSync(path.join(root, `.${base}.qpc`)).sort();

test('a first compile makes the missing directories, a set in `.DIR.qpc/` and `DIR` a link to it', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'a', 'b', 'out');
  writeOutput(nodeOutputFs, dir, set(1));
  t.true(lstatSync(dir).isSymbolicLink());
  const target = readlinkSync(dir);
  t.regex(target, new RegExp(`^\\.out\\.qpc/${process.pid}-[0-9a-f]{12}$`), 'a relative link, so the tree can move');
  t.is(readFileSync(path.join(dir, 'qubes/provision.sh'), 'utf8'), '#!/bin/sh\necho 1\n');
  t.is(readFileSync(path.join(dir, 'qubes/policy/30-qpc.policy'), 'utf8'), '# 1\n');
  t.deepEqual(store(path.dirname(dir)), [path.basename(target)]);
});

test('artifact modes are exactly 0755 and 0644, whatever the umask', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'out');
  const old = process.umask(0o077);
  try {
    writeOutput(nodeOutputFs, dir, set(1));
  } finally {
    process.umask(old);
  }
  t.is(mode(path.join(dir, 'qubes/provision.sh')), 0o755);
  t.is(mode(path.join(dir, 'manifest.json')), 0o644);
});

test('a compile replaces the set; the one it replaced stays until the compile after', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'out');
  writeOutput(nodeOutputFs, dir, set(1));
  const first = path.basename(readlinkSync(dir));
  writeOutput(nodeOutputFs, dir, set(2));
  const second = path.basename(readlinkSync(dir));
  t.not(second, first);
  t.is(readFileSync(path.join(dir, 'qubes/provision.sh'), 'utf8'), '#!/bin/sh\necho 2\n');
  t.deepEqual(store(root), [first, second].sort(), 'a provision.sh still running in the old set finds it whole');
  writeOutput(nodeOutputFs, dir, set(3));
  const third = path.basename(readlinkSync(dir));
  t.deepEqual(store(root), [second, third].sort());
});

test('a file the new set does not have is gone from DIR', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'out');
  writeOutput(nodeOutputFs, dir, [...set(1), { path: 'xen/old.cfg', contents: 'x\n' }]);
  writeOutput(nodeOutputFs, dir, set(2));
  t.deepEqual(nodeOutputFs.list(dir + '/.'), ['manifest.json', 'qubes/policy/30-qpc.policy', 'qubes/provision.sh']);
});

test('an empty directory, or one an earlier qpc wrote in place, becomes the link', (t) => {
  const root = temp(t);
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  writeOutput(nodeOutputFs, empty, set(1));
  t.true(lstatSync(empty).isSymbolicLink());
  const plain = path.join(root, 'out');
  mkdirSync(plain);
  writeFileSync(path.join(plain, 'manifest.json'), manifest(0).contents);
  writeFileSync(path.join(plain, 'stale.txt'), 'old\n');
  writeOutput(nodeOutputFs, plain, set(1));
  t.true(lstatSync(plain).isSymbolicLink());
  t.deepEqual(nodeOutputFs.list(plain + '/.'), ['manifest.json', 'qubes/policy/30-qpc.policy', 'qubes/provision.sh']);
  const aside = store(root).filter((n) => n.endsWith('.old'));
  t.is(aside.length, 1, 'the plain directory is kept as the replaced set');
  t.is(readFileSync(path.join(root, '.out.qpc', aside[0]!, 'stale.txt'), 'utf8'), 'old\n');
});

test('a directory that is not a qpc output is refused and left as it was', (t) => {
  const root = temp(t);
  const cases: [string, () => void, RegExp][] = [
    ['home', () => writeFileSync(path.join(root, 'home', 'notes.txt'), 'mine\n'), /it is not empty and has no manifest\.json: not a qpc output directory/],
    ['other', () => writeFileSync(path.join(root, 'other', 'manifest.json'), '{"name":"another tool"}'), /its manifest\.json was not written by qpc/],
    ['broken', () => writeFileSync(path.join(root, 'broken', 'manifest.json'), '{'), /its manifest\.json was not written by qpc/],
  ];
  for (const [name, fill, reason] of cases) {
    mkdirSync(path.join(root, name));
    fill();
    const before = nodeOutputFs.list(path.join(root, name));
    t.throws(() => writeOutput(nodeOutputFs, path.join(root, name), set(1)), { message: new RegExp(`^refusing to replace it: ${reason.source}`) }, name);
    t.true(lstatSync(path.join(root, name)).isDirectory(), name);
    t.deepEqual(nodeOutputFs.list(path.join(root, name)), before, name);
  }
  writeFileSync(path.join(root, 'file'), 'x');
  t.throws(() => writeOutput(nodeOutputFs, path.join(root, 'file'), set(1)), { message: 'refusing to replace it: it is a file' });
  t.throws(() => writeOutput(nodeOutputFs, path.parse(root).root, set(1)), { message: /root directory/ });
});

test('an artifact path that leaves the set is refused; DIR and the store keep what they had', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'out');
  writeOutput(nodeOutputFs, dir, set(1));
  const linked = readlinkSync(dir);
  for (const bad of ['../escape', 'a/../../b', 'a//b', './a', '/abs', 'a/']) {
    t.throws(() => writeOutput(nodeOutputFs, dir, [manifest(2), { path: bad, contents: 'x' }]), { message: /leaves the output directory/ }, bad);
    t.is(readlinkSync(dir), linked, bad);
  }
  t.deepEqual(store(root), [path.basename(linked)], 'no half-written set is left');
  t.deepEqual(readdirSync(root).sort(), ['.out.qpc', 'out']);
});

test('diff: a missing directory, then nothing, then each kind of difference once', (t) => {
  const root = temp(t);
  const dir = path.join(root, 'out');
  t.deepEqual(diffOutput(nodeOutputFs, dir, set(1)), [{ path: dir, change: 'does not exist' }]);
  t.deepEqual(outputTextChanges(nodeOutputFs, dir, set(1)).map((c) => [c.path, c.before, c.after]), set(1).map((a) => [`${dir}/${a.path}`, undefined, a.contents]));
  writeOutput(nodeOutputFs, dir, set(1));
  t.deepEqual(diffOutput(nodeOutputFs, dir, set(1)), []);
  t.deepEqual(diffOutput(nodeOutputFs, dir + '/', set(1)), []);
  const real = path.join(root, '.out.qpc', path.basename(readlinkSync(dir)));
  writeFileSync(path.join(real, 'qubes/policy/30-qpc.policy'), '# edited\n');
  chmodSync(path.join(real, 'qubes/provision.sh'), 0o644);
  writeFileSync(path.join(real, 'extra.txt'), 'extra\n');
  const wanted = [...set(1), { path: 'xen/new.cfg', contents: 'new\n' }];
  t.deepEqual(diffOutput(nodeOutputFs, dir + '/', wanted), [
    { path: `${dir}/qubes/provision.sh`, change: 'should be executable' },
    { path: `${dir}/qubes/policy/30-qpc.policy`, change: 'differs from what qpc would write' },
    { path: `${dir}/xen/new.cfg`, change: 'is missing' },
    { path: `${dir}/extra.txt`, change: 'is not an artifact qpc writes' },
  ]);
  t.deepEqual(outputTextChanges(nodeOutputFs, dir, wanted), [
    { path: `${dir}/qubes/policy/30-qpc.policy`, before: '# edited\n', after: '# 1\n' },
    { path: `${dir}/xen/new.cfg`, after: 'new\n' },
    { path: `${dir}/extra.txt`, before: 'extra\n' },
  ]);
});

test('diff: a file where a directory should be, or where an artifact should be', (t) => {
  const root = temp(t);
  writeFileSync(path.join(root, 'out'), 'x');
  t.deepEqual(diffOutput(nodeOutputFs, path.join(root, 'out'), set(1)), [{ path: path.join(root, 'out'), change: 'is not a directory' }]);
  const dir = path.join(root, 'dir');
  writeOutput(nodeOutputFs, dir, set(1));
  const real = path.join(root, '.dir.qpc', path.basename(readlinkSync(dir)));
  rmSync(path.join(real, 'manifest.json'));
  mkdirSync(path.join(real, 'manifest.json'));
  t.deepEqual(diffOutput(nodeOutputFs, dir, set(1)), [{ path: `${dir}/manifest.json`, change: 'is missing' }]);
  const exec = { ...set(1)[2]!, executable: true };
  t.deepEqual(diffOutput(nodeOutputFs, dir, [manifest(1), set(1)[1]!, exec]).slice(1), [{ path: `${dir}/qubes/policy/30-qpc.policy`, change: 'should be executable' }]);
});

test('replaceFile writes a new file, and rewrites one keeping its mode, leaving no temporary file', (t) => {
  const root = temp(t);
  const p = path.join(root, 'p.qpol');
  replaceFile(p, 'one\n');
  t.is(readFileSync(p, 'utf8'), 'one\n');
  chmodSync(p, 0o640);
  replaceFile(p, 'two ü\n');
  t.is(readFileSync(p, 'utf8'), 'two ü\n');
  t.is(mode(p), 0o640);
  t.deepEqual(readdirSync(root), ['p.qpol']);
});

test('replaceFile through a link writes the file it names and keeps the link', (t) => {
  const root = temp(t);
  mkdirSync(path.join(root, 'real'));
  writeFileSync(path.join(root, 'real', 'p.qpol'), 'old\n');
  symlinkSync('real/p.qpol', path.join(root, 'a'));
  symlinkSync('a', path.join(root, 'b'));
  replaceFile(path.join(root, 'b'), 'new\n');
  t.is(readlinkSync(path.join(root, 'b')), 'a');
  t.is(readlinkSync(path.join(root, 'a')), 'real/p.qpol');
  t.is(readFileSync(path.join(root, 'real', 'p.qpol'), 'utf8'), 'new\n');
  t.deepEqual(readdirSync(path.join(root, 'real')), ['p.qpol']);
});

test('replaceFile refuses a read-only file and what is not a regular file, changing nothing', (t) => {
  const root = temp(t);
  const ro = path.join(root, 'ro.qpol');
  writeFileSync(ro, 'keep\n');
  chmodSync(ro, 0o444);
  t.throws(() => replaceFile(ro, 'x'), { message: 'it is read-only (mode 0444); qpc does not change a file\'s mode' });
  t.is(readFileSync(ro, 'utf8'), 'keep\n');
  t.is(mode(ro), 0o444);
  mkdirSync(path.join(root, 'd'));
  t.throws(() => replaceFile(path.join(root, 'd'), 'x'), { message: 'it is not a regular file' });
  t.deepEqual(readdirSync(root).sort(), ['d', 'ro.qpol']);
});
