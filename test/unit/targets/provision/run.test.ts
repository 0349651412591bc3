/**
 * provision.sh run end to end with `sh` (and dash) against stand-in dom0
 * tools (test/fixtures/qubes-dom0/qvm-fake), for every example, with the
 * inputs `qpc compile` would pass (the qrexec and whonix targets' output once
 * they exist, hand-made artifacts otherwise).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PolicyModel } from '../../../../compiler/model.js';
import { prefsOf } from '../../../../targets/provision/plan.js';
import type { Artifact } from '../../../../targets/types.js';
import { haveTool, missingTools } from '../../../helpers/tools.js';
import { compileAll, examples, fakeDom0, layOut, modelOf, runScript, sha256, type Dom0 } from './harness.js';

/**
 * toolTest, but serial: each run forks hundreds of stand-in processes, and
 * ava's inactivity timeout fires when many run at once on a busy machine.
 */
function toolTest(title: string, tools: readonly string[], fn: (t: ExecutionContext) => Promise<void> | void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return test.serial(title, fn);
  if (process.env.CI === 'true') return test(title, (t) => t.fail(`needs ${missing.join(', ')}, which .ci/run installs`));
  process.stderr.write(`SKIPPED: ${title} (needs ${missing.join(', ')})\n`);
  test.skip(title, fn);
}

const readLog = (d: Dom0): string[] => readFileSync(path.join(d.state, 'log'), 'utf8').split('\n').filter((l) => l !== '');
const mutations = (log: string[]): string[] => log.filter((l) => l.startsWith('MUTATE ') || l.startsWith('START '));
const qdir = (d: Dom0, q: string): string => path.join(d.state, 'qubes', q);
const pref = (d: Dom0, q: string, p: string): string | undefined => {
  const f = path.join(qdir(d, q), 'prefs', p);
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};

async function setUp(file: string, opts: { qubesPolicy?: boolean } = {}): Promise<{ model: PolicyModel; artifacts: Artifact[]; out: string; dom0: Dom0; tmp: string }> {
  const model = modelOf(`examples/${file}`);
  const { artifacts } = await compileAll(model);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  const out = path.join(tmp, 'out');
  layOut(out, artifacts);
  return { model, artifacts, out, dom0: fakeDom0(path.join(tmp, 'dom0'), model, opts), tmp };
}

/** The fake dom0 holds exactly what the model says. */
function assertConfigured(t: ExecutionContext, model: PolicyModel, artifacts: readonly Artifact[], dom0: Dom0): void {
  for (const q of model.qubes) {
    t.true(existsSync(qdir(dom0, q.name)), `${q.name} exists`);
    if (q.klass === 'AdminVM') continue;
    t.is(pref(dom0, q.name, 'klass'), q.klass, `${q.name} class`);
    for (const p of prefsOf(q)) t.is(pref(dom0, q.name, p.name), p.value, `${q.name} ${p.name}`);
    for (const tag of q.tags) t.true(existsSync(path.join(qdir(dom0, q.name), 'tags', tag)), `${q.name} tag ${tag}`);
    for (const f of q.features) t.is(readFileSync(path.join(qdir(dom0, q.name), 'features', f.key), 'utf8'), f.value);
  }
  for (const a of artifacts) {
    const m = /^qubes\/policy\.d\/(.+\.policy)$/.exec(a.path);
    if (m) t.is(readFileSync(path.join(dom0.policyDir, m[1]), 'utf8'), a.contents, `policy ${m[1]} installed`);
    if (a.deploy) {
      const f = path.join(qdir(dom0, a.deploy.qube), 'root', a.deploy.path);
      t.is(readFileSync(f, 'utf8'), a.contents, `${a.path} pushed`);
      t.is((statSync(f).mode & 0o7777).toString(8), parseInt(a.deploy.mode, 8).toString(8), `${a.path} mode`);
    }
  }
}

for (const file of examples) {
  for (const shell of ['sh', 'dash']) {
    toolTest(`end to end (${shell}): examples/${file} first run configures everything, second run changes nothing`, [shell, 'awk', 'sha256sum'], async (t) => {
      const { model, artifacts, out, dom0, tmp } = await setUp(file);
      try {
        const first = runScript(out, dom0, [], shell);
        t.is(first.status, 0, first.stderr + first.stdout);
        assertConfigured(t, model, artifacts, dom0);
        const log1 = readLog(dom0);
        // Every qube qpc creates is created, each exactly once.
        for (const q of model.qubes.filter((x) => !x.preexisting)) {
          t.is(log1.filter((l) => l.startsWith('MUTATE qvm-create ') && l.endsWith(` ${q.name}`)).length, 1, `${q.name} created once`);
        }
        // No qube is started before its netvm is final: at its first qvm-run
        // its netvm is the model's, and no netvm change comes after.
        const starts = log1.filter((l) => l.startsWith('START '));
        for (const s of starts) {
          const [, name, nv] = /^START (\S+) netvm=(.*)$/.exec(s) ?? [];
          const q = model.qubes.find((x) => x.name === name);
          t.truthy(q, s);
          t.is(nv, q?.netvm ?? '', `${name} started with its final netvm`);
        }
        const firstStart = log1.findIndex((l) => l.startsWith('START '));
        if (firstStart >= 0) {
          t.deepEqual(log1.slice(firstStart).filter((l) => / netvm /.test(l) && l.startsWith('MUTATE qvm-prefs')), [], 'no netvm change after a qube started');
          t.deepEqual(log1.slice(firstStart).filter((l) => l.startsWith('MUTATE qvm-create')), [], 'no qube created after a qube started');
        }
        // Reload commands ran, once each per qube.
        for (const a of artifacts) {
          for (const argv of a.deploy?.reload ?? []) {
            t.true(log1.some((l) => l.startsWith(`MUTATE qvm-run ${a.deploy?.qube} exec ${argv[0]}`)), `${a.path}: reload ${argv[0]}`);
          }
        }
        const execs = log1.filter((l) => / exec /.test(l));
        t.is(new Set(execs).size, execs.length, 'each reload command runs once');

        writeFileSync(path.join(dom0.state, 'log'), '');
        const second = runScript(out, dom0, [], shell);
        t.is(second.status, 0, second.stderr);
        t.deepEqual(mutations(readLog(dom0)), [], 'the second run changes nothing');
        t.true(readLog(dom0).length > 0, 'the second run did read the state');
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  toolTest(`end to end: examples/${file} with one byte of an artifact changed aborts before any change`, ['sh', 'awk', 'sha256sum'], async (t) => {
    const { artifacts, out, dom0, tmp } = await setUp(file);
    try {
      const victims = artifacts.filter((a) => a.path.startsWith('qubes/policy.d/') || a.deploy);
      t.true(victims.length > 0);
      for (const v of [victims[0], victims[victims.length - 1]]) {
        const f = path.join(out, v.path);
        const original = readFileSync(f);
        const tampered = Buffer.from(original);
        tampered[0] = tampered[0] ^ 1;
        writeFileSync(f, tampered);
        writeFileSync(path.join(dom0.state, 'log'), '');
        const r = runScript(out, dom0);
        t.not(r.status, 0);
        t.regex(r.stderr, /sha256 of .* does not match manifest\.json/);
        t.deepEqual(mutations(readLog(dom0)), [], `no change with ${v.path} tampered`);
        t.deepEqual(readLog(dom0), [], 'not even a read of dom0 state');
        writeFileSync(f, original);
      }
      // A manifest that disagrees (or a missing file) stops it too.
      const manifestFile = path.join(out, 'manifest.json');
      const m = readFileSync(manifestFile, 'utf8');
      writeFileSync(manifestFile, m.replace(sha256(victims[0].contents), sha256(victims[0].contents + 'x')));
      const r2 = runScript(out, dom0);
      t.not(r2.status, 0);
      t.regex(r2.stderr, /disagree/);
      writeFileSync(manifestFile, m);
      rmSync(path.join(out, victims[0].path));
      const r3 = runScript(out, dom0);
      t.not(r3.status, 0);
      t.regex(r3.stderr, /missing artifact/);
      t.deepEqual(mutations(readLog(dom0)), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  toolTest(`end to end: examples/${file} --dry-run changes nothing and starts no qube`, ['sh', 'awk', 'sha256sum'], async (t) => {
    const { out, dom0, tmp, model } = await setUp(file);
    try {
      const r = runScript(out, dom0, ['--dry-run']);
      t.is(r.status, 0, r.stderr);
      t.deepEqual(mutations(readLog(dom0)), []);
      t.regex(r.stdout, /would create/);
      for (const q of model.qubes.filter((x) => !x.preexisting)) t.false(existsSync(qdir(dom0, q.name)));
      t.regex(r.stdout, /dry run: nothing was changed/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  toolTest(`end to end: examples/${file} without qubes-policy installs policy files by rename`, ['sh', 'awk', 'sha256sum'], async (t) => {
    const { model, artifacts, out, dom0, tmp } = await setUp(file, { qubesPolicy: false });
    try {
      const r = runScript(out, dom0);
      t.is(r.status, 0, r.stderr);
      t.regex(r.stdout, /renamed into place/);
      assertConfigured(t, model, artifacts, dom0);
      t.false(readLog(dom0).some((l) => l.includes('qubes-policy')));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

toolTest('end to end: a missing preexisting qube stops the run before any change', ['sh', 'awk', 'sha256sum'], async (t) => {
  const { out, dom0, tmp } = await setUp(examples[0]);
  try {
    rmSync(qdir(dom0, 'sys-firewall'), { recursive: true });
    const r = runScript(out, dom0);
    t.not(r.status, 0);
    t.regex(r.stderr, /qube sys-firewall does not exist/);
    t.deepEqual(mutations(readLog(dom0)), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('end to end: a qube moved out of an identity loses that identity tag; drift is repaired', ['sh', 'awk', 'sha256sum'], async (t) => {
  const { model, artifacts, out, dom0, tmp } = await setUp('journalist.qpol');
  try {
    t.is(runScript(out, dom0).status, 0);
    writeFileSync(path.join(qdir(dom0, 'work-web'), 'tags', 'identity-vault'), '');
    writeFileSync(path.join(qdir(dom0, 'work-web'), 'tags', 'user-tag'), '');
    writeFileSync(path.join(qdir(dom0, 'source-web'), 'prefs', 'netvm'), 'sys-firewall');
    writeFileSync(path.join(dom0.state, 'log'), '');
    const r = runScript(out, dom0);
    t.is(r.status, 0, r.stderr);
    const log = mutations(readLog(dom0));
    t.deepEqual(log, ['MUTATE qvm-prefs source-web netvm sys-whonix', 'MUTATE qvm-tags work-web del identity-vault']);
    t.true(existsSync(path.join(qdir(dom0, 'work-web'), 'tags', 'user-tag')), 'tags of no identity stay');
    assertConfigured(t, model, artifacts, dom0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('dash is available for the dash runs', (t) => {
  if (!haveTool('dash')) t.log('dash is not installed: the dash runs are skipped');
  t.pass();
});
