/**
 * A model of how dom0's Salt applies `qpc.sls`, for the tests that compare
 * the Salt states with provision.sh on the stand-in dom0 (qvm-fake). Salt
 * itself is not packaged for this system, so this follows the documented
 * behaviour of the parts qpc uses (reference qrexec-and-provisioning §3.3):
 *
 * - the `#!yaml` renderer: the file is YAML and nothing else;
 * - order: states in file order, each after its `require`s; a state whose
 *   requisite failed fails without running;
 * - `qvm.vm` (qubes-mgmt-salt-dom0-qvm): `present` (qvm-create when the qube
 *   is missing, label `red` unless given), then `prefs` (`*default*` resets;
 *   booleans as True/False), `service` (enable/disable), `features` (set),
 *   `tags` (add, del: a missing tag is no error), in that fixed order;
 * - `file.managed` with `contents`, `mode`, `makedirs` (`check_cmd` is not
 *   run: Qubes' linter is not on this system);
 * - `cmd.run` and `test.fail_without_changes` with `unless`; `stateful`
 *   reads the last line's `changed=`.
 *
 * Absolute dom0 paths are mapped into the stand-in's directories.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { Dom0 } from './harness.js';

type Args = Record<string, unknown>;
interface State {
  readonly id: string;
  readonly fn: string;
  readonly args: Args;
  readonly require: { kind: string; ref: string }[];
}

export interface SaltRun {
  /** State id → result. */
  readonly results: Map<string, { ok: boolean; changed: boolean; comment: string }>;
  readonly ok: boolean;
}

function statesOf(text: string): State[] {
  if (!text.startsWith('#!yaml\n')) throw new Error('qpc.sls does not start with #!yaml: Salt would render it with Jinja first');
  const doc = (parse(text) ?? {}) as Record<string, Record<string, Args[]>>;
  const out: State[] = [];
  for (const [id, body] of Object.entries(doc)) {
    for (const [fn, list] of Object.entries(body)) {
      const args: Args = {};
      const require: { kind: string; ref: string }[] = [];
      for (const item of list) {
        for (const [k, v] of Object.entries(item)) {
          if (k === 'require') for (const r of v as Record<string, string>[]) for (const [kind, ref] of Object.entries(r)) require.push({ kind, ref });
          else args[k] = v;
        }
      }
      out.push({ id, fn, args, require });
    }
  }
  return out;
}

/** Applies `qpc.sls` (its text) to the stand-in dom0. */
export function applySalt(sls: string, dom0: Dom0): SaltRun {
  const states = statesOf(sls);
  const env = { ...process.env, PATH: `${dom0.bin}${path.delimiter}${process.env.PATH ?? ''}`, QPC_FAKE_STATE: dom0.state, QPC_POLICY_DIR: dom0.policyDir, QPC_STATE_DIR: dom0.qpcDir };
  const mapPath = (p: string): string =>
    p.replace(/\/etc\/qubes\/policy\.d(?=\/|$)/g, dom0.policyDir).replace(/\/var\/lib\/qpc(?=\/|$)/g, dom0.qpcDir);
  const sh = (cmd: string): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync('sh', ['-c', mapPath(cmd)], { env, encoding: 'utf8', cwd: '/' });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const must = (cmd: string[]): string => {
    const r = spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
    return r.stdout ?? '';
  };
  const ok = (cmd: string[]): boolean => spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8' }).status === 0;
  const results = new Map<string, { ok: boolean; changed: boolean; comment: string }>();

  const run = (s: State): { ok: boolean; changed: boolean; comment: string } => {
    if (typeof s.args.unless === 'string' && sh(s.args.unless).status === 0) return { ok: true, changed: false, comment: 'unless' };
    switch (s.fn) {
      case 'test.fail_without_changes':
        return { ok: false, changed: false, comment: String(s.args.name ?? s.id) };
      case 'cmd.run': {
        const r = sh(String(s.args.name ?? s.id));
        let changed = true;
        if (s.args.stateful === true) {
          const last = r.stdout.split('\n').filter((l) => l.trim() !== '').pop() ?? '';
          changed = r.stdout.trim() !== '' && !/^changed=no\b/.test(last);
        }
        return { ok: r.status === 0, changed, comment: r.stdout + r.stderr };
      }
      case 'file.managed': {
        const file = mapPath(String(s.args.name ?? s.id));
        const contents = String(s.args.contents ?? '');
        if (s.args.makedirs === true) mkdirSync(path.dirname(file), { recursive: true });
        const same = existsSync(file) && readFileSync(file, 'utf8') === contents;
        if (!same) writeFileSync(file, contents);
        if (typeof s.args.mode === 'string') chmodSync(file, parseInt(s.args.mode, 8));
        return { ok: true, changed: !same, comment: '' };
      }
      case 'qvm.vm':
        return qvmVm(s);
      default:
        throw new Error(`the Salt model does not know ${s.fn} (state ${s.id})`);
    }
  };

  const qvmVm = (s: State): { ok: boolean; changed: boolean; comment: string } => {
    const name = String(s.args.name ?? s.id);
    let changed = false;
    const list = (v: unknown): Record<string, unknown>[] => (v as Record<string, unknown>[] | undefined) ?? [];
    try {
      if (s.args.present !== undefined && !ok(['qvm-check', name])) {
        const p = Object.assign({}, ...list(s.args.present)) as Record<string, string>;
        must(['qvm-create', '--class', p.class ?? 'AppVM', '--label', p.label ?? 'red', ...(p.template ? ['--template', p.template] : []), name]);
        changed = true;
      }
      for (const item of list(s.args.prefs)) {
        const [k, v] = Object.entries(item)[0];
        const prop = k.replace(/-/g, '_');
        if (v === '*default*') {
          must(['qvm-prefs', '--default', name, prop]);
          continue;
        }
        const value = v === true ? 'True' : v === false ? 'False' : String(v);
        if (must(['qvm-prefs', name, prop]).replace(/\n$/, '') !== value) {
          must(['qvm-prefs', name, prop, value]);
          changed = true;
        }
      }
      for (const item of list(s.args.service)) {
        for (const [action, names] of Object.entries(item)) for (const n of names as string[]) must(['qvm-service', name, n, action === 'enable' ? 'on' : 'off']);
      }
      for (const item of list(s.args.features)) {
        for (const kv of (item.set as Record<string, string>[] | undefined) ?? []) for (const [k, v] of Object.entries(kv)) must(['qvm-features', name, k, v]);
      }
      for (const item of list(s.args.tags)) {
        for (const t of (item.add as string[] | undefined) ?? []) if (!ok(['qvm-tags', name, 'list', t])) must(['qvm-tags', name, 'add', t]);
        for (const t of (item.del as string[] | undefined) ?? []) if (ok(['qvm-tags', name, 'list', t])) must(['qvm-tags', name, 'del', t]);
      }
    } catch (e) {
      return { ok: false, changed, comment: (e as Error).message };
    }
    return { ok: true, changed, comment: '' };
  };

  const byRef = (kind: string, ref: string): State | undefined =>
    states.find((x) => x.fn.split('.')[0] === kind && (x.id === ref || x.args.name === ref));
  const visit = (s: State, stack: Set<string>): { ok: boolean } => {
    const done = results.get(s.id);
    if (done) return done;
    if (stack.has(s.id)) throw new Error(`requisite loop through ${s.id}`);
    stack.add(s.id);
    for (const r of s.require) {
      const dep = byRef(r.kind, r.ref);
      if (!dep) throw new Error(`${s.id} requires ${r.kind}: ${r.ref}, which no state declares`);
      if (!visit(dep, stack).ok) {
        const failed = { ok: false, changed: false, comment: `requisite ${r.ref} failed` };
        results.set(s.id, failed);
        return failed;
      }
    }
    const res = run(s);
    results.set(s.id, res);
    return res;
  };
  for (const s of states) visit(s, new Set());
  return { results, ok: [...results.values()].every((r) => r.ok) };
}
