/**
 * provision.sh run end to end with `sh` (and dash) against stand-in dom0
 * tools (test/fixtures/qubes-dom0/qvm-fake), for every example, with the
 * inputs `qpc compile` would pass (the qrexec and whonix targets' output once
 * they exist, hand-made artifacts otherwise).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PolicyModel } from '../../../../compiler/model.js';
import { prefsOf } from '../../../../targets/provision/plan.js';
import type { Artifact } from '../../../../compiler/target.js';
import { compileAll, examples, fakeDom0, layOut, modelOf, modelOfText, runScript, serialToolTest, sha256, whonixMarker, type Dom0 } from './harness.js';
import { root as repoRoot } from './harness.js';

const toolTest = serialToolTest;

const readLog = (d: Dom0): string[] => readFileSync(path.join(d.state, 'log'), 'utf8').split('\n').filter((l) => l !== '');
const mutations = (log: string[]): string[] => log.filter((l) => l.startsWith('MUTATE ') || l.startsWith('START '));
const qdir = (d: Dom0, q: string): string => path.join(d.state, 'qubes', q);
const pref = (d: Dom0, q: string, p: string): string | undefined => {
  const f = path.join(qdir(d, q), 'prefs', p);
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};

type Setup = { model: PolicyModel; artifacts: Artifact[]; out: string; dom0: Dom0; tmp: string };

async function setUp(file: string, opts: { qubesPolicy?: boolean; whonixMarkers?: boolean } = {}): Promise<Setup> {
  return setUpModel(modelOf(`examples/${file}`), opts);
}

async function setUpModel(model: PolicyModel, opts: { qubesPolicy?: boolean; whonixMarkers?: boolean } = {}): Promise<Setup> {
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
    for (const p of prefsOf(q, model)) t.is(pref(dom0, q.name, p.name), p.value, `${q.name} ${p.name}`);
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
        // Each qube's reload script ran, and it holds every reload command of its files.
        for (const a of artifacts) {
          const reloads = a.deploy?.reload ?? [];
          if (reloads.length === 0) continue;
          const qube = a.deploy!.qube;
          t.true(log1.includes(`MUTATE qvm-run ${qube} exec sh /usr/local/lib/qpc/reload.sh`), `${a.path}: ${qube} ran its reload script`);
          const script = artifacts.find((x) => x.path === `qubes/reload/${qube}.sh`)?.contents ?? '';
          for (const argv of reloads) t.true(script.includes(argv[0] === 'sh' ? argv[2] : argv.join(' ')), `${a.path}: the reload script runs ${argv[0]}`);
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

// ---- default_dispvm: provisioning writes what the qrexec analysis assumes

for (const file of examples) {
  toolTest(`end to end: examples/${file} leaves every qube but dom0 with the default_dispvm the system info assumes`, ['sh', 'awk', 'sha256sum'], async (t) => {
    const { model, out, dom0, tmp } = await setUp(file);
    try {
      const r = runScript(out, dom0);
      t.is(r.status, 0, r.stderr + r.stdout);
      for (const q of model.qubes) {
        const info = model.systemInfo.domains.get(q.name);
        t.truthy(info, `${q.name} is in the system info`);
        if (q.klass === 'AdminVM' || !info) continue;
        // The fake dom0 starts every qube with Qubes' global default (default-dvm).
        t.is(pref(dom0, q.name, 'default_dispvm'), info.defaultDispvm ?? '', `${q.name}: default_dispvm as the system info says`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

const textBase = `use "qubes"
use "whonix"
settings { qubes 4.2
  whonix 18
  policy-file 30-qpc }
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
`;

async function textModel(extra: string): Promise<PolicyModel> {
  const r = await modelOfText(textBase + extra);
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.model;
}

/** Adds a qube to the fake dom0 by hand (one that exists from before qpc). */
function addQube(d: Dom0, name: string, prefs: Record<string, string>): void {
  for (const sub of ['prefs', 'tags', 'features', 'root']) mkdirSync(path.join(qdir(d, name), sub), { recursive: true });
  for (const [k, v] of Object.entries(prefs)) writeFileSync(path.join(qdir(d, name), 'prefs', k), v);
}

toolTest('end to end: a qube moved from a clearnet identity to a Tor one loses its clearnet default disposable', ['sh', 'awk', 'sha256sum'], async (t) => {
  // No `disposable` in the Tor identity: the analysis assumes default_dispvm None.
  const model = await textModel(`identity anon { network tor via sys-whonix; label red }\nqube anon-web in anon { template whonix-workstation-18 }\n`);
  t.is(model.systemInfo.domains.get('anon-web')?.defaultDispvm, null);
  const { out, dom0, tmp } = await setUpModel(model);
  try {
    const common = { provides_network: 'False', autostart: 'False', memory: '400', maxmem: '4000', vcpus: '2', virt_mode: 'pvh', kernel: '6.6', kernelopts: '' };
    addQube(dom0, 'clear-dvm', { ...common, klass: 'AppVM', template: 'debian-12-xfce', template_for_dispvms: 'True', netvm: 'sys-firewall', default_dispvm: 'clear-dvm', label: 'red' });
    addQube(dom0, 'anon-web', { ...common, klass: 'AppVM', template: 'whonix-workstation-18', template_for_dispvms: 'False', netvm: 'sys-firewall', default_dispvm: 'clear-dvm', label: 'blue' });
    const r = runScript(out, dom0);
    t.is(r.status, 0, r.stderr + r.stdout);
    t.is(pref(dom0, 'anon-web', 'default_dispvm'), '', 'no clearnet disposable left behind');
    t.true(mutations(readLog(dom0)).includes('MUTATE qvm-prefs anon-web default_dispvm '));
    writeFileSync(path.join(dom0.state, 'log'), '');
    t.is(runScript(out, dom0).status, 0);
    t.deepEqual(mutations(readLog(dom0)), [], 'the second run changes nothing');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ---- the Whonix templates: Whonix's own marker, not the policy's word

toolTest('end to end: the Whonix marker features are read before any change, also in a dry run', ['sh', 'awk', 'sha256sum'], async (t) => {
  const { out, dom0, tmp } = await setUp('journalist.qpol');
  try {
    for (const args of [['--dry-run'], []]) {
      writeFileSync(path.join(dom0.state, 'log'), '');
      const r = runScript(out, dom0, args);
      t.is(r.status, 0, r.stderr + r.stdout);
      const log = readLog(dom0);
      const firstChange = log.findIndex((l) => l.startsWith('MUTATE ') || l.startsWith('START '));
      for (const read of ['READ qvm-features whonix-gateway-18 whonix-gw', 'READ qvm-features whonix-workstation-18 whonix-ws']) {
        const at = log.indexOf(read);
        t.true(at >= 0, `${args.join(' ')}: ${read}`);
        if (firstChange >= 0) t.true(at < firstChange, `${read} comes before the first change`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('end to end: a Whonix template without Whonix\'s marker feature stops the run before any change, also in a dry run', ['sh', 'awk', 'sha256sum'], async (t) => {
  const { out, dom0, tmp } = await setUp('journalist.qpol');
  try {
    for (const [template, feature] of [['whonix-gateway-18', whonixMarker.gateway], ['whonix-workstation-18', whonixMarker.workstation]]) {
      const f = path.join(qdir(dom0, template), 'features', feature);
      for (const value of [undefined, '', '0', 'True']) {
        if (value === undefined) rmSync(f);
        else writeFileSync(f, value);
        for (const args of [[], ['--dry-run']]) {
          writeFileSync(path.join(dom0.state, 'log'), '');
          const r = runScript(out, dom0, args);
          t.not(r.status, 0, `${template} ${feature}=${String(value)} ${args.join(' ')}`);
          t.regex(r.stderr, new RegExp(`template ${template} .*${feature}=1.*nothing was changed`));
          t.deepEqual(mutations(readLog(dom0)), [], 'nothing changed');
          t.false(readLog(dom0).some((l) => l.startsWith('READ qvm-prefs')), 'stopped before the qubes are even looked at');
        }
      }
      writeFileSync(f, '1');
    }
    t.is(runScript(out, dom0).status, 0, 'with both markers back it runs');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

toolTest('end to end: `whonix gateway` on a template of ours does not make it a Tor gateway on the machine', ['sh', 'awk', 'sha256sum'], async (t) => {
  const model = await textModel(
    'template my-gw { whonix gateway }\n' +
      'gateway my-tor { tor; template my-gw; netvm sys-firewall; label black }\n' +
      'identity anon { network tor via my-tor; label red }\n' +
      'qube anon-web in anon { template whonix-workstation-18 }\n',
  );
  t.true(model.qubes.find((q) => q.name === 'my-tor')?.torGateway, 'qpc takes the declaration at its word');
  const { out, dom0, tmp } = await setUpModel(model, { whonixMarkers: false });
  try {
    // The real Whonix templates carry their markers; my-gw, a plain template, does not.
    writeFileSync(path.join(qdir(dom0, 'whonix-gateway-18'), 'features', whonixMarker.gateway), '1');
    writeFileSync(path.join(qdir(dom0, 'whonix-workstation-18'), 'features', whonixMarker.workstation), '1');
    const r = runScript(out, dom0);
    t.not(r.status, 0);
    t.regex(r.stderr, /template my-gw .*whonix-gw=1/);
    t.deepEqual(mutations(readLog(dom0)), []);
    t.false(existsSync(qdir(dom0, 'my-tor')), 'the gateway was not created');
    // Once the template is what it claims (Whonix set its marker), provisioning goes ahead.
    writeFileSync(path.join(qdir(dom0, 'my-gw'), 'features', whonixMarker.gateway), '1');
    const ok = runScript(out, dom0);
    t.is(ok.status, 0, ok.stderr + ok.stdout);
    t.is(pref(dom0, 'my-tor', 'provides_network'), 'True');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ---- stock files: what the policy says dom0 already has is checked on the machine

/** A stand-in for a file a dom0 already has (the Global Config tool's, say). */
const stockFixture = path.join(repoRoot, 'test/fixtures/qubes-dom0/policy.d/50-config-filecopy.policy');

/** A policy that models the stand-in with a `stock sha256` block. */
function stockPolicy(digest: string): string {
  return [
    'use "qubes"',
    'template debian-12-xfce',
    'amend sys-net { template debian-12-xfce }',
    'amend sys-firewall { template debian-12-xfce }',
    'identity work { network clearnet via sys-firewall; label blue }',
    'qube work-web in work { template debian-12-xfce }',
    `policy-file 50-config-filecopy stock sha256 "${digest}" {`,
    '  deny qubes.Filecopy from @anyvm to @adminvm',
    '  ask  qubes.Filecopy from @anyvm to @anyvm',
    '}',
    '',
  ].join('\n');
}

toolTest('end to end: a stock policy file must be in dom0 with its sha256, checked before any change and in a dry run', ['sh', 'awk', 'sha256sum'], async (t) => {
  const stock = readFileSync(stockFixture, 'utf8');
  const checked = await modelOfText(stockPolicy(sha256(stock)));
  t.truthy(checked.model, checked.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const model = checked.model!;
  t.deepEqual(model.verifiedStock.map((f) => [f.name, f.sha256]), [['50-config-filecopy', sha256(stock)]]);
  const { artifacts } = await compileAll(model);
  t.false(artifacts.some((a) => a.path.includes('50-config-filecopy')), 'a stock file is never emitted');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const out = path.join(tmp, 'out');
    layOut(out, artifacts);
    const dom0 = fakeDom0(path.join(tmp, 'dom0'), model);
    const installed = path.join(dom0.policyDir, '50-config-filecopy.policy');
    const ours = path.join(dom0.policyDir, '30-qpc.policy');
    const refused = (args: string[], why: RegExp, what: string): void => {
      writeFileSync(path.join(dom0.state, 'log'), '');
      const r = runScript(out, dom0, args);
      t.not(r.status, 0, what);
      t.regex(r.stderr, why, what);
      t.regex(r.stderr, /nothing was changed/, what);
      t.deepEqual(mutations(readLog(dom0)), [], `${what}: no change`);
      t.false(readLog(dom0).some((l) => l.startsWith('READ qvm-prefs')), `${what}: stopped before the qubes are looked at`);
      t.false(existsSync(ours), `${what}: our policy file is not installed`);
    };
    for (const args of [[], ['--dry-run']]) {
      const mode = args.length > 0 ? 'dry run' : 'run';
      rmSync(installed, { force: true });
      refused(args, /stock policy file \S*\/50-config-filecopy\.policy is missing/, `${mode}, file missing`);
      writeFileSync(installed, stock.replace('ask', 'allow'));
      refused(args, new RegExp(`stock policy file \\S*/50-config-filecopy\\.policy has sha256 ${sha256(stock.replace('ask', 'allow'))}, not ${sha256(stock)} as the policy says`), `${mode}, file changed`);
    }
    // The file the policy was checked with: provisioning goes ahead and leaves it as it is.
    writeFileSync(installed, stock);
    writeFileSync(path.join(dom0.state, 'log'), '');
    const dry = runScript(out, dom0, ['--dry-run']);
    t.is(dry.status, 0, dry.stderr + dry.stdout);
    t.deepEqual(mutations(readLog(dom0)), []);
    const first = runScript(out, dom0);
    t.is(first.status, 0, first.stderr + first.stdout);
    t.true(existsSync(ours), 'our policy file is installed');
    t.is(readFileSync(installed, 'utf8'), stock, 'the stock file is left as it is');
    writeFileSync(path.join(dom0.state, 'log'), '');
    t.is(runScript(out, dom0).status, 0);
    t.deepEqual(mutations(readLog(dom0)), [], 'the second run changes nothing');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
