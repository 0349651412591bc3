/**
 * A reader that stops early (`qpc explain | head -1`): the command line stops
 * writing without a stack trace and exits with its usual code.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allCodes } from '../../../../compiler/diagnostics/codes.js';

const entryPoint = path.resolve('test/e2e/qpc-source.ts');
/** The TypeScript loader, resolved here: the runs start in a temporary directory. */
const tsx = import.meta.resolve('tsx');
const TIMEOUT_MS = 30_000;
const qpc = `"${process.execPath}" --import "${tsx}" "${entryPoint}"`;

/** Runs a shell command line; the exit status of qpc is written to `status` beside it. */
function sh(dir: string, line: string): { stdout: string; stderr: string; status: string } {
  const r = spawnSync('sh', ['-c', line], { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: fs.readFileSync(path.join(dir, 'status'), 'utf8').trim() };
}

test('stdout closed early: no EPIPE trace, exit 0', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-pipe-'));
  try {
    // Far more than a pipe holds, so that writes go on after `head` has gone.
    const codes = Array.from({ length: 20 }, () => allCodes.join(' ')).join(' ');
    const r = sh(dir, `{ ${qpc} explain ${codes}; echo $? > status; } | head -c 1`);
    t.is(r.stdout, 'Q');
    t.is(r.stderr, '');
    t.is(r.status, '0');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stderr closed early: the usual exit code of the check', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-pipe-'));
  try {
    // Thousands of warnings (unused templates) and no error: the check exits 0.
    const lines = ['use "qubes"'];
    for (let i = 0; i < 3000; i++) lines.push(`template unused-${i}`);
    fs.writeFileSync(path.join(dir, 'many.qpol'), lines.join('\n') + '\n');
    const r = sh(dir, `{ ${qpc} check many.qpol 2>&1 >/dev/null; echo $? > status; } | head -c 7`);
    t.is(r.stdout, 'warning');
    t.is(r.stderr, '');
    t.is(r.status, '0');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

(fs.existsSync('/dev/full') ? test : test.skip)('stdout on a full disk: said once on stderr, exit 2', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-pipe-'));
  try {
    const r = sh(dir, `${qpc} explain QP1001 > /dev/full; echo $? > status`);
    t.is(r.stderr, 'qpc: cannot write to standard output: no space left on device\n');
    t.is(r.status, '2');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
