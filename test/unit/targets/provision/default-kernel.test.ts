/**
 * `settings { kernel "VERSION" }` is Qubes' global `default_kernel`:
 * provision.sh sets it with `qubes-prefs` (run against the stand-in dom0
 * tools), the Salt states set it with a `cmd.run` that the ownership prune
 * waits for, and without the setting neither touches it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { parse } from 'yaml';
import type { PolicyModel } from '../../../../compiler/model.js';
import { compileAll, fakeDom0, layOut, modelOfText, runScript, serialToolTest } from './harness.js';

/** A small policy with the given `settings` line (empty: none). */
function text(settings: string): string {
  return [
    'use "qubes"',
    settings,
    'template debian-12-xfce',
    'amend sys-net { template debian-12-xfce }',
    'amend sys-firewall { template debian-12-xfce }',
    'identity work { network clearnet via sys-firewall; label blue }',
    'qube work-web in work { template debian-12-xfce }',
    '',
  ].join('\n');
}

async function modelWith(settings: string): Promise<PolicyModel> {
  const r = await modelOfText(text(settings));
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  return r.model;
}

const byPath = (arts: readonly { path: string; contents: string }[], p: string): string => arts.find((a) => a.path === p)!.contents;

/** Runs provision.sh twice in a fresh stand-in dom0: the global value after the first run, and each run's qubes-prefs mutations. */
async function provision(t: ExecutionContext, model: PolicyModel): Promise<{ value?: string; first: string[]; second: string[]; script: string }> {
  const { artifacts } = await compileAll(model);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const out = path.join(tmp, 'out');
    layOut(out, artifacts);
    const dom0 = fakeDom0(path.join(tmp, 'dom0'), model);
    const log = () => readFileSync(path.join(dom0.state, 'log'), 'utf8').split('\n').filter((l) => l.startsWith('MUTATE qubes-prefs'));
    const r1 = runScript(out, dom0);
    t.is(r1.status, 0, r1.stderr + r1.stdout);
    const first = log();
    let value: string | undefined;
    try {
      value = readFileSync(path.join(dom0.state, 'global', 'default_kernel'), 'utf8');
    } catch {
      value = undefined;
    }
    const r2 = runScript(out, dom0);
    t.is(r2.status, 0, r2.stderr + r2.stdout);
    return { value, first, second: log().slice(first.length), script: byPath(artifacts, 'qubes/provision.sh') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

serialToolTest('provision.sh sets default_kernel from the settings once, and a second run leaves it', ['sh', 'awk', 'sha256sum'], async (t) => {
  const run = await provision(t, await modelWith('settings { kernel "6.6.63-1.fc37" }'));
  t.is(run.value, '6.6.63-1.fc37');
  t.deepEqual(run.first, ['MUTATE qubes-prefs default_kernel 6.6.63-1.fc37']);
  t.deepEqual(run.second, []);
  t.regex(run.script, /^global_pref default_kernel '6\.6\.63-1\.fc37'$/m);
});

serialToolTest('`kernel none` sets the empty default_kernel (qubes boot their own kernel)', ['sh', 'awk', 'sha256sum'], async (t) => {
  const run = await provision(t, await modelWith('settings { kernel none }'));
  t.is(run.value, '');
  t.deepEqual(run.first, ['MUTATE qubes-prefs default_kernel ']);
  t.deepEqual(run.second, []);
});

serialToolTest('without the setting, provision.sh leaves default_kernel to the machine', ['sh', 'awk', 'sha256sum'], async (t) => {
  const run = await provision(t, await modelWith(''));
  t.is(run.value, undefined);
  t.deepEqual(run.first.filter((l) => l.includes('default_kernel')), []);
  t.notRegex(run.script, /default_kernel/);
});

type Sls = Record<string, Record<string, Record<string, unknown>[]>>;

test('the Salt states set default_kernel with qubes-prefs, after the claim and before the prune', async (t) => {
  const { artifacts } = await compileAll(await modelWith('settings { kernel "6.6.63-1.fc37" }'));
  const sls = parse(byPath(artifacts, 'qubes/salt/qpc.sls')) as Sls;
  const state = sls['qpc-global:default_kernel']?.['cmd.run'];
  t.truthy(state, Object.keys(sls).join(' '));
  t.deepEqual(state, [
    { name: "qubes-prefs default_kernel '6.6.63-1.fc37'" },
    { unless: `[ "$(qubes-prefs default_kernel)" = '6.6.63-1.fc37' ]` },
    { require: [{ cmd: 'qpc-own:claim' }] },
  ]);
  const prune = sls['qpc-own:prune']!['cmd.run']!.find((x) => 'require' in x)!['require'] as unknown[];
  t.true(prune.some((r) => JSON.stringify(r) === JSON.stringify({ cmd: 'qpc-global:default_kernel' })), JSON.stringify(prune));

  const none = parse(byPath((await compileAll(await modelWith('settings { kernel none }'))).artifacts, 'qubes/salt/qpc.sls')) as Sls;
  t.deepEqual(none['qpc-global:default_kernel']?.['cmd.run']?.[0], { name: "qubes-prefs default_kernel ''" });
  const unset = parse(byPath((await compileAll(await modelWith(''))).artifacts, 'qubes/salt/qpc.sls')) as Sls;
  t.false('qpc-global:default_kernel' in unset);
  t.false(JSON.stringify(unset).includes('default_kernel'));
});
