/**
 * Standard input: `qpc check -` (shown as `<stdin>`, relative `use` paths
 * from the current directory, no lock file read or written), and the 4 MiB
 * bound of `check -`, `fmt -` and `query --requests -`, in-process and in a
 * real process fed an endless input.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_FILE_BYTES, overlayHost, nodeHost } from '../../../../compiler/host.js';
import { readBounded } from '../../../../compiler/cli/stdin.js';
import { runQpc } from '../../../helpers/cli.js';

const entryPoint = path.resolve('test/e2e/qpc-source.ts');
const tsx = import.meta.resolve('tsx');
const TIMEOUT_MS = 30_000;
/** A policy with a SOCKS binding: checking it from a file would write its lock file. */
const policy = 'use "qubes"\nuse "whonix"\nidentity anon { network tor via sys-whonix; label red }\nqube chat in anon {\n  template whonix-workstation-18\n  app gajim { socks dedicated }\n}\n';
const tooBig = '#'.repeat(MAX_FILE_BYTES + 1);

test('check - reads the policy from standard input, as <stdin>', (t) => {
  const r = runQpc(['check', '-'], { stdin: policy });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^<stdin>: ok \(1 identity, 1 qube, 0 templates, 0 rules, 1 SOCKS binding\)/);
  const bad = runQpc(['check', '-'], { stdin: 'use "qubes"\nqube a in nowhere\n' });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--> <stdin>:2:/);
  t.regex(bad.stderr, /qube a in nowhere/, 'the text is quoted, as fmt - quotes it');
});

test('check -: no lock file is read or written', (t) => {
  // A lock file the pipeline would read, if it read one: it is damaged, so reading it is an error.
  const host = overlayHost(new Map([['<stdin>.lock', 'not a lock file\n']]), nodeHost);
  const r = runQpc(['check', '-'], { stdin: policy, host });
  t.is(r.code, 0, r.stderr);
  t.is(r.written.size, 0, 'no lock file is written for standard input');
  const frozen = runQpc(['check', '--frozen', '-'], { stdin: policy, host });
  t.is(frozen.code, 0, frozen.stderr);
});

test('check -: relative `use` paths resolve from the current directory', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-stdin-'));
  try {
    fs.writeFileSync(path.join(dir, 'lib.qpol'), 'template deb\n');
    const text = 'use "qubes"\nuse "./lib.qpol"\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n';
    const r = spawnSync(process.execPath, ['--import', tsx, entryPoint, 'check', '-'], { cwd: dir, input: text, encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL' });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^<stdin>: ok \(1 identity, 1 qube, 1 template/);
    t.deepEqual(fs.readdirSync(dir), ['lib.qpol'], 'no lock file beside it');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('more than 4 MiB on standard input is refused with an I/O error', (t) => {
  for (const argv of [['check', '-'], ['fmt', '-'], ['fmt', '--check', '-'], ['query', 'examples/journalist.qpol', '--requests', '-']]) {
    const r = runQpc(argv, { stdin: tooBig });
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, /error\[QP5001\]: cannot read `<stdin>`: larger than 4 MiB, the most qpc reads/, argv.join(' '));
    t.is(r.stdout, '');
  }
  t.is(runQpc(['fmt', '-'], { stdin: '#'.repeat(MAX_FILE_BYTES) + '\n' }).code, 2);
  t.is(runQpc(['fmt', '-'], { stdin: '#'.repeat(MAX_FILE_BYTES - 1) + '\n' }).code, 0);
});

test('the reader stops at the bound: it does not read all of a larger input', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-stdin-'));
  try {
    const f = path.join(dir, 'big');
    fs.writeFileSync(f, 'x'.repeat(200));
    const fd = fs.openSync(f, 'r');
    try {
      t.throws(() => readBounded(fd, 100), { message: /larger than 4 MiB/ });
      t.is(fs.readSync(fd, Buffer.alloc(200), 0, 200, null), 99, 'exactly one byte past the bound was read');
    } finally {
      fs.closeSync(fd);
    }
    t.is(readBounded(fs.openSync(f, 'r'), 200), 'x'.repeat(200));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

(fs.existsSync('/dev/zero') ? test : test.skip)('an endless standard input (/dev/zero) ends with the I/O error, in bounded time and memory', (t) => {
  for (const argv of [['check', '-'], ['fmt', '-'], ['query', 'examples/journalist.qpol', '--requests', '-']]) {
    const zero = fs.openSync('/dev/zero', 'r');
    try {
      const r = spawnSync(process.execPath, ['--import', tsx, entryPoint, '--error-format', 'plain', ...argv], {
        stdio: [zero, 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: TIMEOUT_MS,
        killSignal: 'SIGKILL',
        env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
      });
      t.is(r.signal, null, `${argv.join(' ')}: it ended by itself`);
      t.is(r.status, 2, r.stderr);
      t.regex(r.stderr, /QP5001.*<stdin>.*larger than 4 MiB/);
    } finally {
      fs.closeSync(zero);
    }
  }
});
