/**
 * Shared by the provision tests: the models of the examples, the input
 * artifacts (the real qrexec/whonix targets' output when those targets exist,
 * hand-made ones otherwise), a complete output directory with manifest.json,
 * and a fake dom0 (test/fixtures/qubes-dom0/qvm-fake) to run provision.sh in.
 */
import { manifestText } from '../../../../compiler/compile.js';
import { sha256 } from '../../../../compiler/hash.js';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from '../../../../compiler/index.js';
import type { PolicyModel } from '../../../../compiler/model.js';
import type { Artifact, Target } from '../../../../compiler/target.js';
import { provisionTarget } from '../../../../targets/provision/index.js';
import test, { type ExecutionContext } from 'ava';
import { missingTools, run } from '../../../helpers/tools.js';

/**
 * toolTest, but serial: each run forks hundreds of stand-in processes, and
 * ava's inactivity timeout fires when many run at once on a busy machine.
 */
export function serialToolTest(title: string, tools: readonly string[], fn: (t: ExecutionContext) => Promise<void> | void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return test.serial(title, fn);
  if (process.env.CI === 'true') return test(title, (t) => t.fail(`needs ${missing.join(', ')}, which .ci/run installs`));
  process.stderr.write(`SKIPPED: ${title} (needs ${missing.join(', ')})\n`);
  test.skip(title, fn);
}

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const examples = readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.qpol'))
  .sort();

export function modelOf(file: string): PolicyModel {
  const r = check(path.join(root, file));
  if (!r.model) throw new Error(`${file} does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.model;
}

/** A model from in-memory policy text (the standard library is read from disk). */
export async function modelOfText(text: string): Promise<{ model?: PolicyModel; diagnostics: readonly { code: string; message: string }[] }> {
  const { overlayHost } = await import('../../../../compiler/host.js');
  const entry = path.join(root, 'test-input.qpol');
  const r = check(entry, { host: overlayHost(new Map([[entry, text]])) });
  return { model: r.model, diagnostics: r.diagnostics };
}

/** The qrexec and whonix targets, when they exist in the tree. */
export async function realInputTargets(): Promise<Target[] | undefined> {
  const files = ['targets/qrexec/index.ts', 'targets/whonix/index.ts'];
  if (!files.every((f) => existsSync(path.join(root, f)))) return undefined;
  const qrexec = (await import('../../../../targets/qrexec/index.js' as string)) as { qrexecTarget: Target };
  const whonix = (await import('../../../../targets/whonix/index.js' as string)) as { whonixTarget: Target };
  return [qrexec.qrexecTarget, whonix.whonixTarget];
}

/**
 * Hand-made stand-ins for the qrexec and whonix artifacts, shaped as those
 * targets' contract says (types.ts, paths.ts): a policy file per model policy
 * file, and per Tor gateway a torrc and a firewall file with reload commands,
 * per Tor workstation a launcher.
 */
export function handMadeInputs(model: PolicyModel): Artifact[] {
  const out: Artifact[] = [];
  for (const f of model.policyFiles) {
    out.push({ path: `qubes/policy.d/${f.name}.policy`, contents: `# hand-made test policy ${f.name}\nqubes.Filecopy * @anyvm @anyvm deny\n` });
  }
  for (const g of model.torGateways) {
    const reload = [['systemctl', 'reload', 'tor@default'], ['whonix_firewall']];
    out.push({
      path: `whonix/${g.name}/torrc.d/50_qpc.conf`,
      contents: `# hand-made torrc for ${g.name}\n`,
      deploy: { qube: g.name, path: '/usr/local/etc/torrc.d/50_qpc.conf', mode: '0644', reload: [reload[0]] },
    });
    out.push({
      path: `whonix/${g.name}/whonix_firewall.d/50_qpc.conf`,
      contents: `INTERNAL_OPEN_PORTS+=" 9230 "\n`,
      deploy: { qube: g.name, path: '/usr/local/etc/whonix_firewall.d/50_qpc.conf', mode: '0644', reload },
    });
  }
  for (const s of model.socks) {
    const { qube, app } = s;
    out.push({
      path: `whonix/${qube}/${app}`,
      contents: `#!/bin/sh\nexec torsocks ${app} "$@"\n`,
      deploy: { qube, path: `/usr/local/bin/qpc-${app}`, mode: '0755' },
    });
  }
  return out;
}

/** The input artifacts for a model: real when the targets exist. */
export async function inputsFor(model: PolicyModel): Promise<{ inputs: Artifact[]; real: boolean }> {
  const targets = await realInputTargets();
  if (!targets) return { inputs: handMadeInputs(model), real: false };
  const inputs: Artifact[] = [];
  for (const t of targets) inputs.push(...t.emit(model, inputs));
  return { inputs, real: true };
}

export { sha256 };

/** manifest.json as `qpc compile` writes it. */
export function manifest(artifacts: readonly Artifact[]): string {
  const sorted = [...artifacts].sort((a, b) => (a.path < b.path ? -1 : 1));
  return manifestText([{ path: 'x.qpol', sha256: '0'.repeat(64) }], sorted);
}

/** Writes the artifacts and manifest.json into `dir`. */
export function layOut(dir: string, artifacts: readonly Artifact[]): void {
  for (const a of artifacts) {
    const file = path.join(dir, a.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, a.contents);
    if (a.executable) chmodSync(file, 0o755);
  }
  writeFileSync(path.join(dir, 'manifest.json'), manifest(artifacts));
}

export interface Dom0 {
  readonly bin: string;
  readonly state: string;
  readonly policyDir: string;
  /** dom0's /var/lib/qpc: the ownership record. */
  readonly qpcDir: string;
}

const fakeTools = ['id', 'qvm-check', 'qvm-create', 'qvm-prefs', 'qubes-prefs', 'qvm-tags', 'qvm-features', 'qvm-service', 'qvm-run'];

/**
 * The marker feature Whonix's own templates request from dom0 (`qvm-features-request
 * whonix-gw=1` / `whonix-ws=1` in qubes-whonix's post-install hook, stored as `1`
 * by the Qubes Whonix add-on), by the role a template is declared with.
 */
export const whonixMarker = { gateway: 'whonix-gw', workstation: 'whonix-ws' } as const;

/**
 * A fake dom0 in `dir`: the model's preexisting qubes exist, with some values
 * unlike the model's (every qube but dom0 starts with Qubes' global default
 * disposable, `default-dvm`). Templates declared `whonix gateway|workstation`
 * carry Whonix's marker feature, as a real Whonix template does, unless
 * `whonixMarkers` is false.
 */
export function fakeDom0(dir: string, model: PolicyModel, opts: { qubesPolicy?: boolean; whonixMarkers?: boolean } = {}): Dom0 {
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  const policyDir = path.join(dir, 'policy.d');
  const qpcDir = path.join(dir, 'var-lib-qpc');
  mkdirSync(bin, { recursive: true });
  mkdirSync(policyDir, { recursive: true });
  const fake = path.join(root, 'test/fixtures/qubes-dom0/qvm-fake');
  for (const t of [...fakeTools, ...(opts.qubesPolicy === false ? [] : ['qubes-policy'])]) symlinkSync(fake, path.join(bin, t));
  for (const q of model.qubes.filter((x) => x.preexisting)) {
    const dirOf = path.join(state, 'qubes', q.name);
    for (const sub of ['prefs', 'tags', 'features', 'root']) mkdirSync(path.join(dirOf, sub), { recursive: true });
    const prefs: Record<string, string> = { klass: q.klass };
    if (q.klass !== 'AdminVM') {
      Object.assign(prefs, { provides_network: 'False', netvm: '', autostart: 'False', default_dispvm: 'default-dvm', label: 'red', memory: '400', maxmem: '4000', vcpus: '2', virt_mode: 'pvh', kernel: '6.6', kernelopts: '' });
      if (q.klass === 'AppVM' || q.klass === 'StandaloneVM') prefs.template_for_dispvms = 'False';
      if (q.klass === 'AppVM' || q.klass === 'DispVM') prefs.template = q.template ?? 'debian-12-xfce';
      // Gateways already provide network on a stock install.
      if (q.providesNetwork) prefs.provides_network = 'True';
    }
    for (const [k, v] of Object.entries(prefs)) writeFileSync(path.join(dirOf, 'prefs', k), v);
    if (q.klass === 'TemplateVM' && q.whonixRole && opts.whonixMarkers !== false) writeFileSync(path.join(dirOf, 'features', whonixMarker[q.whonixRole]), '1');
  }
  writeFileSync(path.join(state, 'log'), '');
  return { bin, state, policyDir, qpcDir };
}

/** Runs provision.sh with `sh` in the fake dom0. */
export function runScript(out: string, dom0: Dom0, args: string[] = [], shell = 'sh'): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PATH: `${dom0.bin}${path.delimiter}${process.env.PATH ?? ''}`, QPC_FAKE_STATE: dom0.state, QPC_POLICY_DIR: dom0.policyDir, QPC_STATE_DIR: dom0.qpcDir };
  return run(shell, [path.join(out, 'qubes/provision.sh'), ...args], { env, cwd: '/' });
}

/** Everything a compile would write for the provision target and its inputs. */
export async function compileAll(model: PolicyModel): Promise<{ artifacts: Artifact[]; real: boolean }> {
  const { inputs, real } = await inputsFor(model);
  return { artifacts: [...inputs, ...provisionTarget.emit(model, inputs)], real };
}
