/**
 * `compile`: check, then run the selected targets over the model (DESIGN §5).
 * Pure: returns the artifacts and `manifest.json`; the command line writes
 * them. Nothing is produced when the check or a target's own check reports
 * an error (fail closed, DESIGN §7). The target checks are the ones `check`
 * runs (`checkTargets`), so a default compile refuses exactly what `check`
 * reports.
 */
import * as path from 'node:path';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { checkTargets, type StageResult as CheckResult } from './pipeline.js';
import { sha256 } from './hash.js';
import { version } from './version.js';
import type { Artifact, Target } from './target.js';
import { manifestPath } from '../targets/paths.js';

export interface CompileResult extends CheckResult {
  /** Every artifact in path order, `manifest.json` included; absent when anything reported an error. */
  readonly artifacts?: readonly Artifact[];
}

/** The targets to run: the named ones (all when none) and those they require, in registry order. */
export function selectTargets(registry: readonly Target[], names: readonly string[] | undefined): readonly Target[] | string {
  if (names === undefined || names.length === 0) return registry;
  const wanted = new Set<string>();
  const add = (name: string): string | undefined => {
    const t = registry.find((x) => x.name === name);
    if (!t) return `unknown target \`${name}\`; expected ${registry.map((x) => x.name).join(', ')}`;
    if (wanted.has(name)) return undefined;
    wanted.add(name);
    for (const r of t.requires ?? []) {
      const e = add(r);
      if (e) return e;
    }
    return undefined;
  };
  for (const n of names) {
    const e = add(n);
    if (e) return e;
  }
  return registry.filter((t) => wanted.has(t.name));
}

/** A relative, `/`-separated path without `.`/`..` segments or empty parts. */
function safeArtifactPath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * `manifest.json`: every artifact with its sha256, the sources with theirs,
 * and qpc's version. One entry per line, so that `provision.sh` can read it
 * with sed in dom0 (which has no JSON tool it may rely on).
 */
export function manifestText(sources: readonly { path: string; sha256: string }[], artifacts: readonly Artifact[]): string {
  const entry = (e: { path: string; sha256: string }) => `    { "path": ${JSON.stringify(e.path)}, "sha256": "${e.sha256}" }`;
  const list = (xs: readonly { path: string; sha256: string }[]) => (xs.length === 0 ? '[]' : `[\n${xs.map(entry).join(',\n')}\n  ]`);
  const arts = artifacts.map((a) => ({ path: a.path, sha256: sha256(a.contents) }));
  return `{\n  "qpc": ${JSON.stringify(version)},\n  "sources": ${list(sources)},\n  "artifacts": ${list(arts)}\n}\n`;
}

/** Source files as the manifest names them: the policy's own relative to the entry's folder, the standard library's as `policies/…`. */
function manifestSources(r: CheckResult, entry: string): { path: string; sha256: string }[] {
  const std = new Set(r.program?.files.filter((f) => f.std).map((f) => f.source.path) ?? []);
  const base = path.dirname(entry);
  return [...r.sources.values()]
    .map((s) => ({ path: std.has(s.path) ? s.path : path.relative(base, s.path).split(path.sep).join('/'), sha256: sha256(s.text) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Runs the targets over a policy checked without target checks: the selected
 * targets' checks, then, without an error, their emitters. `registry` is the
 * target table (targets/index.ts); `names` selects from it.
 */
export function compileChecked(r: CheckResult, entry: string, registry: readonly Target[], names?: readonly string[]): CompileResult {
  if (hasErrors(r.diagnostics) || !r.model) return r;
  const selected = selectTargets(registry, names);
  if (typeof selected === 'string') return { ...r, diagnostics: [...r.diagnostics, diag('QP5002', undefined, { message: selected }, { help: 'run `qpc --help` for usage' })] };
  const model = r.model;
  const found: Diagnostic[] = checkTargets(model, selected);
  const diagnostics = sortDiagnostics([...r.diagnostics, ...found]);
  if (hasErrors(found)) return { ...r, diagnostics };
  const byTarget = new Map<string, readonly Artifact[]>();
  const all: Artifact[] = [];
  const owner = new Map<string, string>();
  for (const t of selected) {
    const inputs = (t.requires ?? []).flatMap((n) => byTarget.get(n) ?? []);
    const out = t.emit(model, inputs);
    byTarget.set(t.name, out);
    for (const a of out) {
      // Both are bugs of a target, not of the policy: refuse rather than write something odd.
      if (!safeArtifactPath(a.path) || a.path === manifestPath) throw new Error(`target \`${t.name}\` emitted an invalid artifact path \`${a.path}\``);
      const prev = owner.get(a.path);
      if (prev !== undefined) throw new Error(`targets \`${prev}\` and \`${t.name}\` both emit \`${a.path}\``);
      owner.set(a.path, t.name);
      all.push(a);
    }
  }
  all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest: Artifact = { path: manifestPath, contents: manifestText(manifestSources(r, entry), all) };
  const artifacts = [...all, manifest].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...r, diagnostics, artifacts };
}
