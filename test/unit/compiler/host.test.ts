/**
 * The file system host reads only regular files, and at most
 * MAX_FILE_BYTES of them: a device, a FIFO or a huge file never hangs qpc or
 * fills its memory. Symbolic links are followed, except where the caller asks
 * for the file itself (the lock file).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ioReason, MAX_FILE_BYTES, nodeHost, overlayHost } from '../../../compiler/host.js';

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-host-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The reason nodeHost gives for not reading `p`, or undefined when it reads it. */
function refusal(p: string, options?: { noFollow?: boolean }): string | undefined {
  try {
    nodeHost.readFile(p, options);
    return undefined;
  } catch (e) {
    return ioReason(e);
  }
}

const haveMkfifo = spawnSync('mkfifo', ['--version'], { encoding: 'utf8' }).error === undefined;

test('a regular file is read whole, and a symbolic link to one is followed', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'a.qpol'), 'template t\n');
    fs.symlinkSync('a.qpol', path.join(dir, 'link.qpol'));
    t.is(nodeHost.readFile(path.join(dir, 'a.qpol')), 'template t\n');
    t.is(nodeHost.readFile(path.join(dir, 'link.qpol')), 'template t\n');
    t.is(nodeHost.realPath!(path.join(dir, 'link.qpol')), fs.realpathSync(path.join(dir, 'a.qpol')));
  } finally {
    cleanup();
  }
});

test('devices are not read: /dev/zero and a symbolic link to it', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.qpol'));
    t.is(refusal('/dev/zero'), 'not a regular file');
    t.is(refusal(path.join(dir, 'zero.qpol')), 'not a regular file');
    t.is(refusal('/dev/null'), 'not a regular file');
  } finally {
    cleanup();
  }
});

(haveMkfifo ? test : test.skip)('a FIFO is not opened for reading, whether or not anything writes to it', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const fifo = path.join(dir, 'pipe.qpol');
    t.is(spawnSync('mkfifo', [fifo]).status, 0);
    t.is(refusal(fifo), 'not a regular file');
  } finally {
    cleanup();
  }
});

test('a directory is refused as before', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    t.is(refusal(dir), 'is a directory');
  } finally {
    cleanup();
  }
});

test('a file larger than the limit is refused, whether it says so or only turns out so', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const limit = path.join(dir, 'limit.qpol');
    fs.writeFileSync(limit, '#'.repeat(MAX_FILE_BYTES));
    t.is(nodeHost.readFile(limit).length, MAX_FILE_BYTES);
    const big = path.join(dir, 'big.qpol');
    fs.writeFileSync(big, '#'.repeat(MAX_FILE_BYTES + 1));
    t.regex(refusal(big) ?? '', /^larger than 4 MiB/);
    // A sparse file of 8 GiB: refused from its size, without reading it.
    const sparse = path.join(dir, 'sparse.qpol');
    fs.writeFileSync(sparse, '');
    fs.truncateSync(sparse, 8 * 1024 ** 3);
    t.regex(refusal(sparse) ?? '', /^larger than 4 MiB/);
  } finally {
    cleanup();
  }
});

test('a file that reports no size, as /proc files do, is still read', (t) => {
  // The limit counts the bytes read, not the size the file reports.
  if (!fs.existsSync('/proc/self/status')) return t.pass();
  t.regex(nodeHost.readFile('/proc/self/status'), /^Name:/);
});

test('with noFollow, a symbolic link is refused, even one to a regular file', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'real.lock'), '{}');
    fs.symlinkSync('real.lock', path.join(dir, 'p.qpol.lock'));
    t.is(refusal(path.join(dir, 'p.qpol.lock'), { noFollow: true }), 'is a symbolic link');
    t.is(refusal(path.join(dir, 'real.lock'), { noFollow: true }), undefined);
    t.is(refusal(path.join(dir, 'missing.lock'), { noFollow: true }), 'no such file');
  } finally {
    cleanup();
  }
});

test('an overlay passes options and real paths through to the host beneath', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'real.lock'), '{}');
    fs.symlinkSync('real.lock', path.join(dir, 'p.qpol.lock'));
    const host = overlayHost(new Map([['open.qpol', 'template t\n']]), nodeHost);
    t.throws(() => host.readFile(path.join(dir, 'p.qpol.lock'), { noFollow: true }), { message: /symbolic link/ });
    t.is(host.realPath!('open.qpol'), 'open.qpol');
    t.is(host.realPath!(path.join(dir, 'p.qpol.lock')), fs.realpathSync(path.join(dir, 'real.lock')));
  } finally {
    cleanup();
  }
});

test('I/O reasons do not name the path', (t) => {
  t.is(ioReason(Object.assign(new Error("ENXIO: no such device or address, open '/some/where'"), { code: 'ENXIO' })), 'not a regular file');
  t.false(ioReason(Object.assign(new Error("EIO: i/o error, read '/some/where'"), { code: 'EIO' })).includes('/some/where'));
});
