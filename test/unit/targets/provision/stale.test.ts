/**
 * Stale state: provisioning v1 of a policy and then v2 leaves the machine as
 * a fresh provisioning of v2 would (policy files, tags, features, services,
 * properties, files in qubes), for provision.sh and for the Salt states
 * (applied with the Salt model of salt-model.ts), and the two agree with each
 * other. Only what qpc wrote is taken back: a tag, feature or policy file the
 * machine had before stays.
 */
import type { ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PolicyModel } from '../../../../compiler/model.js';
import type { Artifact } from '../../../../compiler/target.js';
import { compileAll, fakeDom0, layOut, modelOfText, root, runScript, serialToolTest, type Dom0 } from './harness.js';
import { applySalt } from './salt-model.js';

const tools = ['sh', 'awk', 'sha256sum', 'timeout', 'mktemp', 'head', 'tr', 'cmp', 'find'];
const toolTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => serialToolTest(title, tools, fn);

const base = readFileSync(path.join(root, 'examples/developer.qpol'), 'utf8');

/** v1: the example with more of everything qpc writes; v2 is the example itself. */
const richer = base
  .replace('  app sshd\n', '  app sshd\n  tag shared\n  feature gui-allow-fullscreen "1"\n  service crond\n  kernelopts "nopat"\n')
  .replace('  app hexchat { socks port 9101 }\n', '  app hexchat { socks port 9101 }\n  app weechat { socks dedicated }\n')
  .replace('# ---------------------------------------------------------------- guarantees', 'qube scratch in dev {\n  template debian-12-xfce\n  tag shared\n}\n\npolicy-file 20-temporary {\n  allow qubes.Filecopy from dev-code to build because "one-off"\n}\n\n# ---------------------------------------------------------------- guarantees');

interface Built {
  model: PolicyModel;
  artifacts: Artifact[];
  out: string;
}

async function build(text: string, dir: string): Promise<Built> {
  const r = await modelOfText(text);
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const { artifacts } = await compileAll(r.model);
  layOut(dir, artifacts);
  return { model: r.model, artifacts, out: dir };
}

/** Everything provisioning manages, as one comparable value. */
function snapshot(dom0: Dom0, opts: { files: boolean }): Record<string, unknown> {
  const read = (f: string): string => readFileSync(f, 'utf8');
  const list = (d: string): string[] => (existsSync(d) ? readdirSync(d).sort() : []);
  const qubes: Record<string, unknown> = {};
  for (const q of list(path.join(dom0.state, 'qubes'))) {
    const d = path.join(dom0.state, 'qubes', q);
    const prefs: Record<string, string> = {};
    // The stand-in marks a property reset to Qubes' default (`.default.P`), but
    // not the same values a qube starts with: compare the values of those.
    for (const p of list(path.join(d, 'prefs'))) if (!/^\.default\.(memory|maxmem|vcpus|virt_mode|kernel|kernelopts)$/.test(p)) prefs[p] = read(path.join(d, 'prefs', p));
    const features: Record<string, string> = {};
    for (const f of list(path.join(d, 'features'))) features[f] = read(path.join(d, 'features', f));
    const files: Record<string, string> = {};
    if (opts.files) {
      const walk = (dir: string, rel: string): void => {
        for (const e of list(dir)) {
          const p = path.join(dir, e);
          if (statSync(p).isDirectory()) walk(p, `${rel}/${e}`);
          else files[`${rel}/${e}`] = `${(statSync(p).mode & 0o777).toString(8)} ${read(p)}`;
        }
      };
      walk(path.join(d, 'root'), '');
    }
    qubes[q] = { prefs, tags: list(path.join(d, 'tags')), features, ...(opts.files ? { files } : {}) };
  }
  const policies: Record<string, string> = {};
  for (const f of list(dom0.policyDir)) policies[f] = read(path.join(dom0.policyDir, f));
  const record = existsSync(path.join(dom0.qpcDir, 'owned'))
    ? read(path.join(dom0.qpcDir, 'owned')).split('\n').filter((l) => l !== '' && !l.startsWith('#') && (opts.files || !l.startsWith('file '))).sort()
    : [];
  return { qubes, policies, record };
}

/** One line per leaf (`qubes.build.tags = [...]`), so a difference shows as the lines that differ. */
function lines(v: unknown, at = ''): string[] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v).flatMap(([k, x]) => lines(x, at === '' ? k : `${at}.${k}`));
  return [`${at} = ${JSON.stringify(v)}`];
}

type Runner = (b: Built, dom0: Dom0, t: ExecutionContext) => void;
const viaScript: Runner = (b, dom0, t) => {
  const r = runScript(b.out, dom0);
  t.is(r.status, 0, r.stderr + r.stdout);
};
const viaSalt: Runner = (b, dom0, t) => {
  const sls = b.artifacts.find((a) => a.path === 'qubes/salt/qpc.sls')!.contents;
  const r = applySalt(sls, dom0);
  const failed = [...r.results].filter(([, v]) => !v.ok).map(([k, v]) => `${k}: ${v.comment}`);
  t.deepEqual(failed, []);
};

async function scenario(t: ExecutionContext, v1Text: string, v2Text: string, first: Runner, second: Runner, files: boolean): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-stale-'));
  try {
    const v1 = await build(v1Text, path.join(tmp, 'v1'));
    const v2 = await build(v2Text, path.join(tmp, 'v2'));
    const upgraded = fakeDom0(path.join(tmp, 'upgraded'), v1.model);
    first(v1, upgraded, t);
    second(v2, upgraded, t);
    const fresh = fakeDom0(path.join(tmp, 'fresh'), v1.model);
    second(v2, fresh, t);
    const got = snapshot(upgraded, { files }) as { qubes: Record<string, unknown> };
    const want = snapshot(fresh, { files }) as { qubes: Record<string, unknown> };
    // A qube only v1 declares stays (qpc never deletes a qube), without what qpc wrote on it.
    for (const q of Object.keys(got.qubes)) {
      if (q in want.qubes) continue;
      const extra = got.qubes[q] as { tags: string[]; features: Record<string, string> };
      t.deepEqual(extra.tags, [], `${q}, which v2 no longer declares, keeps no tag qpc added`);
      t.deepEqual(extra.features, {}, `${q} keeps no feature qpc set`);
      delete got.qubes[q];
    }
    t.deepEqual(lines(got), lines(want));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

toolTest('provision.sh: v1 then v2 leaves the machine as a fresh v2 (policy files, tags, features, services, properties, files in qubes)', async (t) => {
  await scenario(t, richer, base, viaScript, viaScript, true);
});

toolTest('provision.sh: v2 then v1 leaves the machine as a fresh v1', async (t) => {
  await scenario(t, base, richer, viaScript, viaScript, true);
});

toolTest('Salt: v1 then v2 leaves the machine as a fresh v2', async (t) => {
  await scenario(t, richer, base, viaSalt, viaSalt, false);
});

toolTest('Salt after provision.sh: v1 by provision.sh, then v2 by Salt, leaves dom0 as a fresh v2 by Salt', async (t) => {
  await scenario(t, richer, base, viaScript, viaSalt, false);
});

toolTest('Salt and provision.sh give the same end state in dom0 from the same machine', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-stale-'));
  try {
    for (const [name, text] of [['richer', richer], ['example', base]] as const) {
      const b = await build(text, path.join(tmp, name));
      const a = fakeDom0(path.join(tmp, `${name}-script`), b.model);
      const s = fakeDom0(path.join(tmp, `${name}-salt`), b.model);
      viaScript(b, a, t);
      viaSalt(b, s, t);
      t.deepEqual(lines(snapshot(s, { files: false })), lines(snapshot(a, { files: false })), name);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('only what qpc wrote is taken back: a tag, feature and policy file the machine had before stay', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-stale-'));
  try {
    const v2 = await build(base, path.join(tmp, 'v2'));
    // v1 asks for a tag and a feature on sys-net that sys-net already has, and
    // installs 20-temporary over a file of that name that was there before.
    const v1 = await build(richer.replace('amend sys-net {\n', 'amend sys-net {\n  tag shared\n  feature gui-allow-fullscreen "1"\n'), path.join(tmp, 'v1'));
    for (const [name, runner] of [['script', viaScript], ['salt', viaSalt]] as const) {
      const dom0 = fakeDom0(path.join(tmp, name), v1.model);
      const sysNet = path.join(dom0.state, 'qubes', 'sys-net');
      writeFileSync(path.join(sysNet, 'tags', 'shared'), '');
      writeFileSync(path.join(sysNet, 'features', 'gui-allow-fullscreen'), '1');
      writeFileSync(path.join(dom0.policyDir, '20-temporary.policy'), 'qubes.Filecopy * dev-code build allow\n');
      runner(v1, dom0, t);
      runner(v2, dom0, t);
      t.true(existsSync(path.join(sysNet, 'tags', 'shared')), 'a tag sys-net had before qpc stays');
      t.true(existsSync(path.join(sysNet, 'features', 'gui-allow-fullscreen')), 'a feature sys-net had before qpc stays');
      t.false(existsSync(path.join(dom0.state, 'qubes', 'build', 'tags', 'shared')), 'the tag qpc added to build goes');
      t.false(existsSync(path.join(dom0.policyDir, '20-temporary.policy')), 'the policy file qpc installed (over the old one) goes');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('a policy file qpc installed and someone changed since is left, and said so', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-stale-'));
  try {
    const v1 = await build(richer, path.join(tmp, 'v1'));
    const v2 = await build(base, path.join(tmp, 'v2'));
    const dom0 = fakeDom0(path.join(tmp, 'dom0'), v1.model);
    viaScript(v1, dom0, t);
    const file = path.join(dom0.policyDir, '20-temporary.policy');
    writeFileSync(file, readFileSync(file, 'utf8') + 'qubes.Filecopy * build dev-code deny\n');
    const r = runScript(v2.out, dom0);
    t.is(r.status, 0, r.stderr);
    t.true(existsSync(file));
    t.regex(r.stdout, /left .*20-temporary\.policy: qpc installed it .* changed since/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
