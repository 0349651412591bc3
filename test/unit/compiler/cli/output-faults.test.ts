/**
 * The output directory under faults: a compile killed before any one of its
 * changes to the file system, a compile that runs inside another's, two
 * real compiles at once, a killed real `qpc compile` process, and file
 * systems that refuse. At every point a reader of DIR finds the complete old
 * set or the complete new set (nothing only before the first compile), and
 * the next compile leaves the complete new set and nothing half-done.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile } from '../../../../compiler/index.js';
import { nodeOutputFs, writeOutput, type OutputFs } from '../../../../compiler/cli/output.js';
import { runQpcAsync as qpc } from '../../../helpers/cli.js';
import type { Artifact } from '../../../../compiler/target.js';

function temp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-faults-'));
}

const manifest = (n: string) => ({ path: 'manifest.json', contents: `{ "qpc": "0.1.0", "set": "${n}", "artifacts": [] }\n` });
const oldSet: Artifact[] = [manifest('old'), { path: 'a/b.txt', contents: 'old b\n' }, { path: 'old-only.txt', contents: 'o\n' }];
const newSet: Artifact[] = [manifest('new'), { path: 'a/b.txt', contents: 'new b\n' }, { path: 'a/c/d.txt', contents: 'd\n' }, { path: 'run.sh', contents: '#!/bin/sh\n', executable: true }];

/** What a reader of `dir` finds: each file's text and whether it is executable, or undefined when there is no directory. */
function snapshot(dir: string): Record<string, string> | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else out[`${rel}${name}`] = st.isFile() ? `${(st.mode & 0o100) !== 0 ? 'x' : '-'} ${readFileSync(p, 'utf8')}` : '(not a file)';
    }
  };
  walk(dir, '');
  return out;
}

function expected(set: readonly Artifact[]): Record<string, string> {
  return Object.fromEntries([...set].sort((a, b) => (a.path < b.path ? -1 : 1)).map((a) => [a.path, `${a.executable ? 'x' : '-'} ${a.contents}`]));
}

/** Which of the sets `dir` holds, whole: 'old', 'new', 'none' (no directory) or 'mixed'. */
function holds(dir: string, sets: Record<string, readonly Artifact[]>): string {
  const s = snapshot(dir);
  if (s === undefined) return 'none';
  for (const [name, set] of Object.entries(sets)) if (JSON.stringify(s) === JSON.stringify(expected(set))) return name;
  return `mixed: ${JSON.stringify(s)}`;
}

/**
 * What qpc left beside the output directory `out`, other than `out` and the
 * sets it keeps (the current one and at most the one it replaced, or `most`
 * in all): each must be a complete set of those given.
 */
function leftovers(out: string, sets: Record<string, readonly Artifact[]>, most = 2): string[] {
  const parent = path.dirname(out);
  const base = path.basename(out);
  const bad: string[] = [];
  for (const name of readdirSync(parent)) {
    if (name === base) continue;
    if (name !== `.${base}.qpc`) {
      bad.push(name);
      continue;
    }
    const kept = readdirSync(path.join(parent, name));
    if (kept.length > most) bad.push(`${name} holds ${kept.length} entries: ${kept.join(' ')}`);
    for (const k of kept) {
      const h = holds(path.join(parent, name, k), sets);
      if (!(h in sets)) bad.push(`${name}/${k} is ${h}`);
    }
  }
  return bad;
}

class Killed extends Error {}
const changes = new Set(['mkdir', 'writeFile', 'rename', 'remove', 'symlink']);

/**
 * The file operations of a process killed just before its `n`th change to
 * the file system (counting from 1): neither that change nor anything after
 * it happens, clean-up included. `log` lists the changes made.
 */
function killedAt(n: number, base: OutputFs = nodeOutputFs): { fs: OutputFs; log: string[] } {
  const log: string[] = [];
  let dead = false;
  const fs = Object.fromEntries(
    Object.entries(base).map(([k, f]) => [
      k,
      (...args: unknown[]) => {
        if (dead) throw new Killed('killed');
        if (changes.has(k)) {
          if (log.length + 1 === n) {
            dead = true;
            throw new Killed('killed');
          }
          log.push(k);
        }
        return (f as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as OutputFs;
  return { fs, log };
}

/** The directory as each scenario finds it before the compile that is killed. */
const scenarios = {
  /** Nothing there yet. */
  first: (_out: string) => {},
  /** A set that qpc wrote before. */
  replace: (out: string) => writeOutput(nodeOutputFs, out, oldSet),
  /** A plain directory holding a set, as an earlier qpc left it. */
  earlier: (out: string) => {
    for (const a of oldSet) {
      mkdirSync(path.dirname(path.join(out, a.path)), { recursive: true });
      writeFileSync(path.join(out, a.path), a.contents);
    }
  },
};

for (const [name, setup] of Object.entries(scenarios)) {
  test(`a compile killed before any one of its changes (${name}): DIR is old or new, and the next compile cleans up`, (t) => {
    const root = temp();
    // How many changes a compile makes, counted on a compile that is not killed.
    const probe = path.join(root, 'probe', 'out');
    mkdirSync(path.dirname(probe));
    setup(probe);
    const whole = killedAt(Number.POSITIVE_INFINITY);
    writeOutput(whole.fs, probe, newSet);
    t.true(whole.log.length > 4, whole.log.join(' '));
    for (let n = 1; n <= whole.log.length + 1; n++) {
      const dir = path.join(root, String(n));
      mkdirSync(dir);
      const out = path.join(dir, 'out');
      setup(out);
      const killed = killedAt(n);
      try {
        writeOutput(killed.fs, out, newSet);
      } catch (e) {
        if (!(e instanceof Killed) && !(e instanceof Error && /killed/.test(e.message))) throw e;
      }
      const at = `killed before change ${n} (after ${killed.log.join(' ') || 'nothing'})`;
      const seen = holds(out, { old: oldSet, new: newSet });
      // Only converting a plain directory into qpc's layout takes two renames.
      const allowed = name === 'first' ? ['none', 'new'] : name === 'replace' ? ['old', 'new'] : ['old', 'new', 'none'];
      t.true(allowed.includes(seen), `${at}: DIR is ${seen}`);
      writeOutput(nodeOutputFs, out, newSet);
      t.is(holds(out, { new: newSet }), 'new', `${at}, then a compile: DIR holds the new set`);
      t.deepEqual(leftovers(out, { old: oldSet, new: newSet }), [], `${at}, then a compile: nothing stray is left`);
      // The compile after that keeps only the set it replaced.
      writeOutput(nodeOutputFs, out, newSet);
      t.deepEqual(leftovers(out, { new: newSet }), [], `${at}, then two compiles`);
    }
    rmSync(root, { recursive: true });
  });
}

test('a compile that runs while another is between any two steps: DIR is always whole, and a later compile cleans up', (t) => {
  const root = temp();
  const whole = killedAt(Number.POSITIVE_INFINITY);
  const probe = path.join(root, 'probe');
  writeOutput(whole.fs, probe, newSet);
  writeOutput(whole.fs, probe, newSet);
  const steps = whole.log.length / 2;
  for (let n = 1; n <= steps; n++) {
    const dir = path.join(root, String(n));
    mkdirSync(dir);
    const out = path.join(dir, 'out');
    writeOutput(nodeOutputFs, out, oldSet);
    let count = 0;
    const seen: string[] = [];
    // The other compile is another process: another process id, running until it returns.
    const other = 2 ** 22 + 17;
    let otherRunning = false;
    const alive = (pid: number) => (pid === other ? otherRunning : nodeOutputFs.alive(pid));
    const inner: OutputFs = { ...nodeOutputFs, alive };
    const outer: OutputFs = Object.fromEntries(
      Object.entries({ ...nodeOutputFs, alive }).map(([k, f]) => [
        k,
        (...args: unknown[]) => {
          if (changes.has(k) && ++count === n) {
            otherRunning = true;
            try {
              writeOutput(inner, out, newSet, other);
            } catch (e) {
              seen.push(`the inner compile failed: ${(e as Error).message}`);
            }
            otherRunning = false;
            seen.push(holds(out, { old: oldSet, new: newSet }));
          }
          return (f as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as OutputFs;
    try {
      writeOutput(outer, out, oldSet);
    } catch (e) {
      seen.push(`the outer compile failed: ${(e as Error).message}`);
    }
    seen.push(holds(out, { old: oldSet, new: newSet }));
    t.deepEqual(seen.filter((s) => s !== 'old' && s !== 'new'), [], `the other compile ran before change ${n}: ${seen.join(', ')}`);
    writeOutput(nodeOutputFs, out, newSet);
    t.is(holds(out, { new: newSet }), 'new');
    t.deepEqual(leftovers(out, { old: oldSet, new: newSet }), [], `the other compile ran before change ${n}`);
  }
  rmSync(root, { recursive: true });
});

test('an earlier qpc\'s half-done swap (`.DIR.qpc-old-PID` of a process that is gone) is cleaned up', (t) => {
  const root = temp();
  const out = path.join(root, 'out');
  const gone = 2 ** 22 + 23;
  for (const leftover of [`.out.qpc-old-${gone}`, `.out.qpc-new-${gone}`]) {
    mkdirSync(path.join(root, leftover, 'a'), { recursive: true });
    writeFileSync(path.join(root, leftover, 'a/b.txt'), 'left\n');
  }
  writeFileSync(path.join(root, '.out.qpc-notes'), 'not a set: kept\n');
  // With DIR missing, the set moved aside is the only one left: a compile that fails keeps it.
  const full: OutputFs = {
    ...nodeOutputFs,
    writeFile: () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    },
  };
  t.throws(() => writeOutput(full, out, newSet), { message: /no space left on device/ });
  t.is(readFileSync(path.join(root, `.out.qpc-old-${gone}`, 'a/b.txt'), 'utf8'), 'left\n');
  writeOutput(nodeOutputFs, out, newSet);
  t.is(holds(out, { new: newSet }), 'new');
  t.deepEqual(readdirSync(root).sort(), ['.out.qpc', '.out.qpc-notes', 'out']);
  rmSync(root, { recursive: true });
});

const cli = ['--import', 'tsx', path.resolve('test/e2e/qpc-source.ts')];
const child = path.resolve('test/unit/compiler/cli/output-kill-child.ts');

/** The journalist example's artifacts, all targets and only xen. */
async function journalist(): Promise<{ full: readonly Artifact[]; xen: readonly Artifact[] }> {
  const full = (await compile('examples/journalist.qpol')).artifacts;
  const xen = (await compile('examples/journalist.qpol', { targets: ['xen'] })).artifacts;
  if (!full || !xen) throw new Error('the example does not compile');
  return { full, xen };
}

test('a real `qpc compile` killed with SIGKILL before its first change, while writing, and at the swap: the next compile recovers', async (t) => {
  const { full, xen } = await journalist();
  const sets = { old: xen, new: full };
  const root = temp();
  const compileInto = (out: string, ...more: string[]) => spawnSync(process.execPath, [...cli, 'compile', 'examples/journalist.qpol', '-o', out, '--frozen', ...more], { encoding: 'utf8', timeout: 120_000 });
  // The changes a whole compile makes, as the child process logs them.
  const probe = path.join(root, 'probe');
  t.is(compileInto(probe, '--target', 'xen').status, 0);
  const logged = spawnSync(process.execPath, ['--import', 'tsx', child, '0', 'compile', 'examples/journalist.qpol', '-o', probe, '--frozen'], { encoding: 'utf8', timeout: 120_000 });
  t.is(logged.status, 0, logged.stderr);
  const log = logged.stdout.trim().split('\n');
  const renames = log.flatMap((op, i) => (op === 'rename' ? [i + 1] : []));
  t.true(renames.length >= 1, log.join(' '));
  const swap = renames[renames.length - 1];
  const writes = log.flatMap((op, i) => (op === 'writeFile' ? [i + 1] : []));
  // Before the first change, in the middle of the writes, before the link is made, and at the swap.
  const points = [...new Set([1, writes[Math.floor(writes.length / 2)], log.indexOf('symlink') + 1, swap])].filter((n) => n >= 1 && n <= log.length);
  t.true(points.includes(swap));
  for (const n of points) {
    const out = path.join(root, `at-${n}`, 'out');
    mkdirSync(path.dirname(out));
    t.is(compileInto(out, '--target', 'xen').status, 0);
    const killed = spawnSync(process.execPath, ['--import', 'tsx', child, String(n), 'compile', 'examples/journalist.qpol', '-o', out, '--frozen'], { encoding: 'utf8', timeout: 120_000 });
    t.is(killed.signal, 'SIGKILL', `the child is killed before change ${n} (${log[n - 1]}): ${killed.stderr}`);
    const seen = holds(out, sets);
    t.true(seen === 'old' || seen === 'new', `killed before change ${n} (${log[n - 1]}): DIR is ${seen}`);
    const again = compileInto(out);
    t.is(again.status, 0, again.stderr);
    t.is(holds(out, sets), 'new');
    t.deepEqual(leftovers(out, sets), [], `killed before change ${n}, then a compile`);
  }
  rmSync(root, { recursive: true });
});

test('two real compiles into one directory at once leave one complete set', async (t) => {
  const { full, xen } = await journalist();
  const sets = { xen, full };
  const root = temp();
  const out = path.join(root, 'out');
  const run = (...more: string[]) =>
    new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [...cli, 'compile', 'examples/journalist.qpol', '-o', out, '--frozen', ...more], { stdio: 'ignore' });
      p.on('exit', (code) => resolve(code));
    });
  for (let round = 0; round < 2; round++) {
    const codes = await Promise.all([run('--target', 'xen'), run()]);
    t.deepEqual(codes, [0, 0]);
    const seen = holds(out, sets);
    t.true(seen === 'xen' || seen === 'full', `DIR is ${seen}`);
    // Each kept what the other was still writing; nothing is half-written.
    t.deepEqual(leftovers(out, sets, 3), []);
  }
  t.is(await run(), 0);
  t.is(holds(out, sets), 'full');
  t.deepEqual(leftovers(out, sets), [], 'a compile on its own keeps two sets at most');
  rmSync(root, { recursive: true });
});

test('a file system that refuses is named in the message, without the machine\'s paths', async (t) => {
  const root = temp();
  const out = path.join(root, 'out');
  for (const [code, words] of [['EROFS', 'read-only file system'], ['EACCES', 'permission denied'], ['ENOSPC', 'no space left on device']] as const) {
    const refusing: OutputFs = {
      ...nodeOutputFs,
      mkdir: (p) => {
        throw Object.assign(new Error(`${code}: something, mkdir '${p}'`), { code, path: p });
      },
    };
    const r = await qpc(['compile', 'examples/journalist.qpol', '-o', out, '--frozen', '--error-format', 'plain'], { output: refusing });
    t.is(r.code, 2);
    t.regex(r.stderr, new RegExp(`QP5009.*: ${words}`));
    t.false(r.stderr.includes('something'), `the system's own message, which names the machine's paths, is not shown: ${r.stderr}`);
  }
  t.false(existsSync(out));
  rmSync(root, { recursive: true });
});

(process.platform === 'linux' && existsSync('/proc/self') ? test : test.skip)('`-o` under /proc fails at once with QP5009 instead of spinning', (t) => {
  // Directly under /proc, and below a directory of /proc that does not exist (where a recursive mkdir spins).
  for (const out of ['/proc/nope', '/proc/nope/deeper/out']) {
    const r = spawnSync(process.execPath, [...cli, 'compile', 'examples/journalist.qpol', '-o', out, '--frozen', '--error-format', 'plain'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    t.is(r.signal, null, `${out}: it finished by itself`);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, new RegExp(`QP5009\\]: cannot write the output directory \`${out}\`: no such file`));
  }
});

test('`-o` beside missing directories creates them; beside a file it refuses', async (t) => {
  const root = temp();
  const deep = path.join(root, 'x', 'y', 'out');
  const r = await qpc(['compile', 'examples/journalist.qpol', '-o', deep, '--frozen', '--target', 'xen']);
  t.is(r.code, 0, r.stderr);
  t.true(existsSync(path.join(deep, 'manifest.json')));
  writeFileSync(path.join(root, 'file'), 'x\n');
  const bad = await qpc(['compile', 'examples/journalist.qpol', '-o', path.join(root, 'file', 'out'), '--frozen', '--error-format', 'plain']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /QP5009.*not a directory/);
  t.is(readlinkSync(deep).startsWith('.out.qpc/'), true);
  rmSync(root, { recursive: true });
});
