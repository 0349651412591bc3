/**
 * A stand-in dom0 for the plan's tests: the dom0 tools of the provision
 * tests (test/fixtures/qubes-dom0/qvm-fake) seeded with a plan's machine,
 * the machine read back from it after provision.sh ran (with the ownership
 * record provision.sh wrote), and a policy compiled for it.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { freeze } from 'immer';
import { compile, nodeHost, overlayHost } from '../../../../compiler/index.js';
import { pushedOf, record, type MachineView, type QubeView } from '../../../../compiler/plan/state.js';
import { parseOwnership, type OwnershipRecord } from '../../../../compiler/snapshot/read.js';

const tools = ['id', 'qvm-ls', 'qvm-check', 'qvm-create', 'qvm-prefs', 'qubes-prefs', 'qvm-tags', 'qvm-features', 'qvm-service', 'qvm-run', 'qvm-device', 'qubes-policy'];
const gatewayDirs = ['usr/local/etc/torrc.d', 'usr/local/etc/whonix_firewall.d'];

/** A stand-in dom0 holding `view`: prefs, default markers, tags, features, services, devices, running qubes, policy.d and the gateways' files. */
export function seed(dir: string, view: MachineView): { env: NodeJS.ProcessEnv; state: string; policyDir: string } {
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  const policyDir = path.join(dir, 'policy.d');
  mkdirSync(bin, { recursive: true });
  mkdirSync(policyDir, { recursive: true });
  for (const t of tools) symlinkSync(path.resolve('test/fixtures/qubes-dom0/qvm-fake'), path.join(bin, t));
  for (const [name, q] of Object.entries(view.qubes)) {
    const d = path.join(state, 'qubes', name);
    for (const sub of ['prefs', 'tags', 'features', 'root']) mkdirSync(path.join(d, sub), { recursive: true });
    writeFileSync(path.join(d, 'prefs', 'klass'), q.class);
    const prefs: Record<string, { value: string | null; isDefault: boolean }> = { ...q.prefs };
    if (q.label !== null) prefs.label = { value: q.label, isDefault: false };
    if (q.template !== null) prefs.template = { value: q.template, isDefault: false };
    for (const [k, p] of Object.entries(prefs)) {
      writeFileSync(path.join(d, 'prefs', k), p.value ?? '');
      if (p.isDefault) writeFileSync(path.join(d, 'prefs', `.default.${k}`), '');
    }
    for (const t of Object.keys(q.tags)) writeFileSync(path.join(d, 'tags', t), '');
    for (const [k, v] of Object.entries(q.features)) writeFileSync(path.join(d, 'features', k), v);
    for (const [k, on] of Object.entries(q.services)) writeFileSync(path.join(d, 'features', `service.${k}`), on ? '1' : '');
    for (const key of Object.keys(q.devices)) {
      const [c, id] = key.split(' ');
      mkdirSync(path.join(d, 'devices', c!), { recursive: true });
      writeFileSync(path.join(d, 'devices', c!, id!), 'persistent');
      const opts = Object.entries(q.devices[key]!.options).map(([k, v]) => `${k}=${v}\n`).join('');
      if (opts !== '') {
        mkdirSync(path.join(d, 'devices', `${c}.options`), { recursive: true });
        writeFileSync(path.join(d, 'devices', `${c}.options`, id!), opts);
      }
    }
    if (q.running) writeFileSync(path.join(d, 'running'), '');
  }
  for (const [gw, files] of Object.entries(view.whonix)) {
    for (const [key, text] of Object.entries(files)) {
      const file = path.join(state, 'qubes', gw, 'root', 'usr/local/etc', key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  for (const [p, text] of Object.entries(view.policy)) {
    mkdirSync(path.dirname(path.join(policyDir, p)), { recursive: true });
    writeFileSync(path.join(policyDir, p), text);
  }
  mkdirSync(path.join(state, 'global'), { recursive: true });
  for (const [k, p] of Object.entries(view.globalPrefs)) writeFileSync(path.join(state, 'global', k), p.value ?? '');
  writeFileSync(path.join(state, 'log'), '');
  return dom0At(dir);
}

/** The stand-in dom0 `seed` laid out in `dir` (or a copy of it): the environment its tools and scripts run in, its state and its policy directory. */
export function dom0At(dir: string): { env: NodeJS.ProcessEnv; state: string; policyDir: string } {
  const state = path.join(dir, 'state');
  const policyDir = path.join(dir, 'policy.d');
  const env = { ...process.env, PATH: `${path.join(dir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`, QPC_FAKE_STATE: state, QPC_POLICY_DIR: policyDir, QPC_STATE_DIR: path.join(dir, 'var-lib-qpc') };
  return { env, state, policyDir };
}

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : []);

/** The ownership record provision.sh keeps in `stateDir`, as a snapshot would copy it. */
export function recordOf(stateDir: string): OwnershipRecord {
  const file = path.join(stateDir, 'owned');
  if (!existsSync(file)) return { status: 'absent', items: [] };
  const bad: string[] = [];
  const items = parseOwnership(readFileSync(file, 'utf8'), (why) => bad.push(why));
  if (bad.length > 0) throw new Error(`provision.sh wrote a record the reader refuses: ${bad.join('; ')}`);
  return { status: 'recorded', items };
}

/** What the stand-in dom0 holds, as the plan's machine (with the ownership record in `stateDir`, when given). */
export function dump(state: string, policyDir: string, gateways: readonly string[], stateDir?: string): MachineView {
  const qubes = record<QubeView>();
  for (const name of files(path.join(state, 'qubes'))) {
    const d = path.join(state, 'qubes', name);
    const read = (...p: string[]) => readFileSync(path.join(d, ...p), 'utf8');
    const prefNames = files(path.join(d, 'prefs')).filter((p) => p !== 'klass');
    const feats = files(path.join(d, 'features'));
    const devices = record<{ options: Record<string, string> }>();
    for (const c of files(path.join(d, 'devices')).filter((x) => !x.endsWith('.options'))) {
      for (const id of files(path.join(d, 'devices', c))) {
        const o = existsSync(path.join(d, 'devices', `${c}.options`, id)) ? read('devices', `${c}.options`, id) : '';
        devices[`${c} ${id}`] = { options: record(o.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)) };
      }
    }
    qubes[name] = {
      class: read('prefs', 'klass'),
      label: existsSync(path.join(d, 'prefs', 'label')) ? read('prefs', 'label') : null,
      template: existsSync(path.join(d, 'prefs', 'template')) ? read('prefs', 'template') : null,
      running: existsSync(path.join(d, 'running')),
      prefs: record(prefNames.map((p) => [p, { value: read('prefs', p), isDefault: existsSync(path.join(d, 'prefs', `.default.${p}`)) }] as const)),
      tags: record(files(path.join(d, 'tags')).map((t) => [t, true] as const)),
      features: record(feats.filter((f) => !f.startsWith('service.')).map((f) => [f, read('features', f)] as const)),
      services: record(feats.filter((f) => f.startsWith('service.')).map((f) => [f.slice('service.'.length), read('features', f) !== ''] as const)),
      devices,
    };
  }
  const whonix = record<Record<string, string>>();
  for (const gw of gateways) {
    const g = record<string>();
    for (const sub of gatewayDirs) for (const f of files(path.join(state, 'qubes', gw, 'root', sub))) g[`${sub.slice('usr/local/etc/'.length)}/${f}`] = readFileSync(path.join(state, 'qubes', gw, 'root', sub, f), 'utf8');
    whonix[gw] = g;
  }
  const walk = (dir: string, at = ''): [string, string][] => files(dir).flatMap((f) => (existsSync(path.join(dir, f)) && readdirSync(dir, { withFileTypes: true }).find((e) => e.name === f)!.isDirectory() ? walk(path.join(dir, f), `${at}${f}/`) : [[`${at}${f}`, readFileSync(path.join(dir, f), 'utf8')] as [string, string]]));
  const globalPrefs = record(files(path.join(state, 'global')).map((k) => [k, { value: readFileSync(path.join(state, 'global', k), 'utf8'), isDefault: false }] as const));
  const owned: OwnershipRecord = stateDir === undefined ? { status: 'not-recorded', items: [] } : recordOf(stateDir);
  return freeze({ qubes, globalPrefs, policy: record(walk(policyDir)), whonix, pushed: pushedOf(owned, whonix), owned }, true);
}

/** Compiles `text` as plan-test.qpol into `out` (every artifact and manifest.json). */
export async function compileInto(text: string, out: string): Promise<void> {
  const entry = 'plan-test.qpol';
  const r = await compile(entry, { host: overlayHost(new Map([[entry, text]]), nodeHost), targets: ['provision'] });
  if (!r.artifacts) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  for (const a of r.artifacts) {
    const file = path.join(out, a.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, a.contents);
    if (a.executable) chmodSync(file, 0o755);
  }
}

