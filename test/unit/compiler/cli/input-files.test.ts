/**
 * The real command line on files that are not policies: devices, FIFOs,
 * standard input, huge files, files holding secrets, a lock file that is a
 * symbolic link. Each run must end (a bounded wait, never a hang) with an
 * I/O or policy error, and no output may quote a file that is not a policy.
 */
import test from 'ava';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorFormats } from '../../../../compiler/diagnostics/render.js';
import { MAX_FILE_BYTES } from '../../../../compiler/host.js';

const SECRET = 'hunter2';
const entryPoint = path.resolve('test/e2e/qpc-source.ts');
/** The TypeScript loader, resolved here: the runs start in a temporary directory. */
const tsx = import.meta.resolve('tsx');
const haveMkfifo = spawnSync('mkfifo', ['--version'], { encoding: 'utf8' }).error === undefined;
const tail = 'template deb\nidentity work { network clearnet via sys-firewall }\nqube mail in work { template deb }\n';

/** A bound on one run: a hang shows as a timeout, not as a stuck test. */
const TIMEOUT_MS = 30_000;

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-in-')));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** `use` path from a file in `dir` to an absolute path, through the root. */
function upTo(dir: string, target: string): string {
  return '../'.repeat(dir.split('/').length) + target.replace(/^\//, '');
}

function qpc(dir: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', tsx, entryPoint, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=512', ...opts.env },
  });
}

/** Asserts the run ended by itself, with the exit code and a reason in its output. */
function ended(t: import('ava').ExecutionContext, r: SpawnSyncReturns<string>, code: number, reason: RegExp): void {
  t.is((r.error as NodeJS.ErrnoException | undefined)?.code, undefined, `the run did not end within ${TIMEOUT_MS} ms`);
  t.is(r.signal, null);
  t.is(r.status, code, r.stderr);
  t.regex(r.stdout + r.stderr, reason);
}

test('use of /dev/zero and of a committed symbolic link to it: not a regular file', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.qpol'));
    fs.writeFileSync(path.join(dir, 'a.qpol'), `use "qubes"\nuse "${upTo(dir, '/dev/zero')}"\n${tail}`);
    fs.writeFileSync(path.join(dir, 'b.qpol'), `use "qubes"\nuse "./zero.qpol"\n${tail}`);
    const r = qpc(dir, ['check', '--error-format', 'plain', 'a.qpol', 'b.qpol', '/dev/zero']);
    ended(t, r, 2, /error\[QP2006\]: cannot read `[./]+dev\/zero`: not a regular file/);
    t.regex(r.stderr, /error\[QP2006\]: cannot read `\.\/zero\.qpol`: not a regular file/);
    t.regex(r.stderr, /error\[QP5001\]: cannot read `\/dev\/zero`: not a regular file/);
  } finally {
    cleanup();
  }
});

(haveMkfifo ? test : test.skip)('use of a FIFO nothing writes to, and a FIFO as the entry: not a regular file', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    t.is(spawnSync('mkfifo', [path.join(dir, 'pipe.qpol')]).status, 0);
    fs.writeFileSync(path.join(dir, 'a.qpol'), `use "qubes"\nuse "./pipe.qpol"\n${tail}`);
    const r = qpc(dir, ['check', 'a.qpol', 'pipe.qpol']);
    ended(t, r, 2, /cannot read `\.\/pipe\.qpol`: not a regular file/);
    t.regex(r.stderr, /cannot read `pipe\.qpol`: not a regular file/);
  } finally {
    cleanup();
  }
});

test('use of /dev/stdin (a pipe that stays open): not a regular file', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'a.qpol'), `use "qubes"\nuse "${upTo(dir, '/dev/stdin')}"\n${tail}`);
    // Standard input stays open for the whole run and nothing is written to it: reading it would wait for ever.
    const child = spawn(process.execPath, ['--import', tsx, entryPoint, 'check', 'a.qpol'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    child.stdin.destroy();
    t.is(signal, null, `the run did not end within ${TIMEOUT_MS} ms`);
    t.is(code, 1, stderr);
    t.regex(stderr, /cannot read `[./]+dev\/stdin`: not a regular file/);
  } finally {
    cleanup();
  }
});

test('a file above the size limit is refused before it is read', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'big.qpol'), '#'.repeat(MAX_FILE_BYTES + 1));
    fs.writeFileSync(path.join(dir, 'huge.qpol'), '');
    fs.truncateSync(path.join(dir, 'huge.qpol'), 16 * 1024 ** 3);
    fs.writeFileSync(path.join(dir, 'a.qpol'), `use "qubes"\nuse "./big.qpol"\nuse "./huge.qpol"\n${tail}`);
    const r = qpc(dir, ['check', '--error-format', 'plain', 'a.qpol', 'huge.qpol']);
    ended(t, r, 2, /cannot read `\.\/big\.qpol`: larger than 4 MiB[\s\S]*cannot read `\.\/huge\.qpol`: larger than 4 MiB/);
    t.regex(r.stderr, /cannot read `huge\.qpol`: larger than 4 MiB/);
  } finally {
    cleanup();
  }
});

test('no error format quotes a secret from a file that is not a policy, imported or linked', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'ci.env'), `SECRET=${SECRET}\n`);
    fs.symlinkSync('ci.env', path.join(dir, 'rules.qpol'));
    fs.writeFileSync(path.join(dir, 'a.qpol'), `use "qubes"\nuse "./ci.env"\n${tail}`);
    fs.writeFileSync(path.join(dir, 'b.qpol'), `use "qubes"\nuse "./rules.qpol"\n${tail}`);
    fs.writeFileSync(path.join(dir, 'c.qpol'), `use "qubes"\nuse "${upTo(dir, '/proc/self/environ')}"\n${tail}`);
    for (const f of errorFormats) {
      const r = qpc(dir, ['check', '--error-format', f, 'a.qpol', 'b.qpol', 'c.qpol', 'ci.env'], { env: { QPC_TEST_TOKEN: SECRET } });
      ended(t, r, 2, /not a qpc policy/);
      t.is((r.stdout + r.stderr).match(/not a qpc policy \(/g)?.length, 4, `${f}: one finding per file`);
      t.false((r.stdout + r.stderr).includes(SECRET), `${f}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    cleanup();
  }
});

test('a lock file that is a symbolic link is not read, whatever it leads to', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const policy = `use "qubes"\n${tail}`;
    fs.writeFileSync(path.join(dir, 'ci.env'), `SECRET=${SECRET}\n`);
    fs.writeFileSync(path.join(dir, 'a.qpol'), policy);
    fs.writeFileSync(path.join(dir, 'b.qpol'), policy);
    fs.symlinkSync('/dev/zero', path.join(dir, 'a.qpol.lock'));
    fs.symlinkSync('ci.env', path.join(dir, 'b.qpol.lock'));
    const r = qpc(dir, ['check', '--error-format', 'plain', 'a.qpol', 'b.qpol']);
    for (const entry of ['a.qpol', 'b.qpol']) {
      ended(t, r, 2, new RegExp(`error\\[QP5007\\]: cannot use the lock file \`${entry}\\.lock\`: is a symbolic link`));
      t.true(fs.lstatSync(path.join(dir, `${entry}.lock`)).isSymbolicLink(), 'the link is left as it was');
    }
    t.false(r.stderr.includes(SECRET));
  } finally {
    cleanup();
  }
});

test('qpc fmt of a link to a secret file does not quote it', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'env'), `API_TOKEN=${SECRET}\n`);
    fs.symlinkSync(path.join(dir, 'env'), path.join(dir, 'evil.qpol'));
    for (const args of [['fmt', '--check', 'evil.qpol'], ['fmt', 'evil.qpol'], ['fmt', 'env']]) {
      const r = qpc(dir, args);
      ended(t, r, 2, /not a qpc policy/);
      t.false((r.stdout + r.stderr).includes(SECRET), args.join(' '));
    }
    t.is(fs.readFileSync(path.join(dir, 'env'), 'utf8'), `API_TOKEN=${SECRET}\n`, 'the file is not rewritten');
  } finally {
    cleanup();
  }
});

test('use of an absolute path reads that file, once however it is named', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'lib.qpol'), 'template deb\n');
    const lib = path.join(dir, 'lib.qpol');
    fs.writeFileSync(path.join(dir, 'sub', 'a.qpol'), `use "qubes"\nuse "${lib}"\nuse "../lib.qpol"\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n`);
    // Run from elsewhere: the path must not be taken relative to the importer or to the current directory.
    const r = qpc(os.tmpdir(), ['check', '--error-format', 'plain', path.join(dir, 'sub', 'a.qpol')]);
    ended(t, r, 0, /a\.qpol: ok \(1 identity, 1 qube, 1 template/);
    t.is(r.stderr.match(/^error/gm), null, r.stderr);
  } finally {
    cleanup();
  }
});
