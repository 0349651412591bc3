/**
 * What provision.sh exchanges with the qubes it runs commands in: a reload
 * that fails is retried by the next run (the sha256 marker beside a pushed
 * file is written only after the reloads succeeded), and a compromised qube
 * neither reaches dom0's terminal (escape sequences, unbounded output) nor
 * reads the script's standard input; and an output directory holding a
 * symbolic link is refused before anything changes.
 */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../../helpers/tools.js';
import { compileAll, fakeDom0, layOut, modelOf, serialToolTest, type Dom0 } from './harness.js';

const tools = ['sh', 'awk', 'sha256sum', 'timeout', 'mktemp', 'head', 'tr'];
const toolTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => serialToolTest(title, tools, fn);

async function setUp(example = 'developer'): Promise<{ out: string; dom0: Dom0; tmp: string }> {
  const model = modelOf(`examples/${example}.qpol`);
  const { artifacts } = await compileAll(model);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-io-'));
  const out = path.join(tmp, 'out');
  layOut(out, artifacts);
  return { out, dom0: fakeDom0(path.join(tmp, 'dom0'), model), tmp };
}

function provision(out: string, dom0: Dom0, extra: NodeJS.ProcessEnv = {}, input?: string, args: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PATH: `${dom0.bin}${path.delimiter}${process.env.PATH ?? ''}`, QPC_FAKE_STATE: dom0.state, QPC_POLICY_DIR: dom0.policyDir, QPC_STATE_DIR: dom0.qpcDir, ...extra };
  return run('sh', [path.join(out, 'qubes/provision.sh'), ...args], { env, cwd: '/', input });
}

const reloadsIn = (dom0: Dom0, qube: string): string[] =>
  readFileSync(path.join(dom0.state, 'log'), 'utf8').split('\n').filter((l) => l.startsWith(`MUTATE qvm-run ${qube} exec`));

toolTest('a reload that failed is retried by the next run, until it succeeds', async (t) => {
  const { out, dom0, tmp } = await setUp();
  try {
    const failing = provision(out, dom0, { QPC_FAKE_EXEC_FAIL: '*reload.sh*' });
    t.not(failing.status, 0, 'the failed reload stops the run');
    t.regex(failing.stderr, /reload command in sys-whonix failed/);
    writeFileSync(path.join(dom0.state, 'log'), '');
    const retry = provision(out, dom0);
    t.is(retry.status, 0, retry.stderr + retry.stdout);
    t.true(reloadsIn(dom0, 'sys-whonix').some((l) => l.includes('/usr/local/lib/qpc/reload.sh')), 'the next run reloads Tor again');
    writeFileSync(path.join(dom0.state, 'log'), '');
    const settled = provision(out, dom0);
    t.is(settled.status, 0, settled.stderr);
    t.deepEqual(reloadsIn(dom0, 'sys-whonix'), [], 'once a reload succeeded, the next run has nothing to redo');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest("a qube's output reaches dom0's terminal bounded and without control characters", async (t) => {
  const { out, dom0, tmp } = await setUp();
  try {
    const hostile = path.join(tmp, 'hostile');
    writeFileSync(hostile, '\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\x9b' + 'A'.repeat(2 * 1024 * 1024));
    const r = provision(out, dom0, { QPC_FAKE_EXEC_OUTPUT: hostile });
    t.is(r.status, 0, r.stderr);
    // eslint-disable-next-line no-control-regex
    t.false(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(r.stdout + r.stderr), 'no control character from the qube is printed');
    t.true(r.stdout.length < 256 * 1024, `the qubes' output is bounded (${r.stdout.length} bytes printed)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest("no command in a qube reads provision.sh's standard input", async (t) => {
  const { out, dom0, tmp } = await setUp();
  try {
    const seen = path.join(tmp, 'stdin-seen');
    writeFileSync(seen, '');
    const r = provision(out, dom0, { QPC_FAKE_EXEC_STDIN: seen }, 'typed at the dom0 terminal\n');
    t.is(r.status, 0, r.stderr);
    t.is(readFileSync(seen, 'utf8'), '');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('an output directory with a symbolic link is refused before any change, even to identical bytes', async (t) => {
  const { out, dom0, tmp } = await setUp();
  try {
    const policy = path.join(out, 'qubes/policy.d/30-qpc.policy');
    const outside = path.join(tmp, 'elsewhere.policy');
    writeFileSync(outside, readFileSync(policy));
    rmSync(policy);
    symlinkSync(outside, policy);
    const r = provision(out, dom0);
    t.not(r.status, 0);
    t.regex(r.stderr, /symbolic link/);
    t.deepEqual(readFileSync(path.join(dom0.state, 'log'), 'utf8').split('\n').filter((l) => l.startsWith('MUTATE') || l.startsWith('START')), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest("a change qubesd refuses on a running qube (virt_mode) is found before any change: a dry run warns, a real run stops", async (t) => {
  const { out, dom0, tmp } = await setUp('journalist');
  try {
    // journalist's sys-net runs as HVM; the stand-in's starts as PVH, and running.
    writeFileSync(path.join(dom0.state, 'qubes', 'sys-net', 'running'), '');
    const mutations = (): string[] => readFileSync(path.join(dom0.state, 'log'), 'utf8').split('\n').filter((l) => l.startsWith('MUTATE'));
    const dry = provision(out, dom0, {}, undefined, ['--dry-run']);
    t.is(dry.status, 0, dry.stderr);
    t.regex(dry.stdout, /warning: sys-net is running, and qubesd refuses to change its virt_mode \('pvh' -> 'hvm'\)/);
    const real = provision(out, dom0);
    t.not(real.status, 0);
    t.regex(real.stderr, /sys-net is running.*virt_mode.*nothing was changed/);
    t.deepEqual(mutations(), [], 'nothing changed before the stop');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
