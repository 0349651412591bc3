/**
 * The artifacts of other targets that provisioning installs: qrexec policy
 * files (dom0 `/etc/qubes/policy.d`) and files pushed into qubes (`deploy`).
 * They come from our own targets, so a value outside the allow-lists here is
 * a bug in qpc: emit throws (QP9001) instead of writing it into a script.
 */
import { sha256 } from '../../compiler/hash.js';
import type { PolicyModel } from '../../compiler/model.js';
import type { Artifact } from '../../compiler/target.js';
import { qubeNameSyntax } from '../../compiler/qubes-values.js';

export interface PolicyInput {
  /** `30-qpc`: the name `qubes-policy --replace` takes (`.policy` appended by qubesd). */
  readonly name: string;
  /** Relative path in the output directory. */
  readonly path: string;
  readonly contents: string;
  readonly sha256: string;
}

export interface DeployInput {
  readonly path: string;
  readonly sha256: string;
  readonly qube: string;
  /** Absolute path in the qube. */
  readonly target: string;
  /** Octal mode as written (`0644`). */
  readonly mode: string;
  /** The mode as `stat -c %a` prints it (`644`). */
  readonly statMode: string;
  readonly reload: readonly (readonly string[])[];
}

export interface Inputs {
  readonly policies: readonly PolicyInput[];
  readonly deploys: readonly DeployInput[];
}

/** Relative artifact paths: plain segments, no `..`. */
const relativePathPattern = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*(?:\/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*)*$/;
/** Absolute paths inside a qube: the same, rooted. */
const qubePathPattern = /^(?:\/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*)+$/;
/** Policy Admin API names (`^[\w-]+$`) within the daemon's filename charset `[0-9a-z_.-]` (reference §1.1). */
const policyNamePattern = /^[0-9a-z_-]+$/;
/** Plain file modes; no setuid, setgid or sticky bit. */
const modePattern = /^0?[0-7]{3}$/;
/**
 * One argv word of a reload command. These are programs of our own targets
 * (the whonix target passes `sh -c SCRIPT`), not user values: printable ASCII,
 * tabs and newlines, nothing else; the script quotes them mechanically.
 */
const argvWordPattern = /^[\x20-\x7e\t\n]+$/;

function bug(message: string): never {
  throw new Error(`provision: ${message}`);
}

/** Sorts and validates the input artifacts the provision target installs. */
export function collectInputs(model: PolicyModel, inputs: readonly Artifact[]): Inputs {
  const qubes = new Set(model.qubes.map((q) => q.name));
  const policies: PolicyInput[] = [];
  const deploys: DeployInput[] = [];
  const sorted = [...inputs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const a of sorted) {
    if (!relativePathPattern.test(a.path) || a.path.split('/').some((s) => s === '.' || s === '..')) bug(`unsafe artifact path ${JSON.stringify(a.path)}`);
    if (a.path.startsWith('qubes/policy.d/')) {
      const m = /^qubes\/policy\.d\/([^/]+)\.policy$/.exec(a.path);
      if (!m || !policyNamePattern.test(m[1])) bug(`policy artifact ${a.path} is not qubes/policy.d/NAME.policy with NAME in [0-9a-z_-]`);
      policies.push({ name: m[1], path: a.path, contents: a.contents, sha256: sha256(a.contents) });
      continue;
    }
    const d = a.deploy;
    if (!d) continue;
    if (!qubeNameSyntax.test(d.qube) || !qubes.has(d.qube)) bug(`artifact ${a.path} is deployed to ${JSON.stringify(d.qube)}, which is not a qube of the policy`);
    if (!qubePathPattern.test(d.path) || d.path.split('/').some((s) => s === '.' || s === '..')) bug(`unsafe path ${JSON.stringify(d.path)} in qube ${d.qube}`);
    if (!modePattern.test(d.mode)) bug(`unsafe mode ${JSON.stringify(d.mode)} for ${a.path}`);
    for (const argv of d.reload ?? []) {
      if (argv.length === 0 || !argv.every((w) => argvWordPattern.test(w))) bug(`unsafe reload command ${JSON.stringify(argv)} for ${a.path}`);
    }
    deploys.push({
      path: a.path,
      sha256: sha256(a.contents),
      qube: d.qube,
      target: d.path,
      mode: d.mode,
      statMode: parseInt(d.mode, 8).toString(8),
      reload: d.reload ?? [],
    });
  }
  deploys.sort((a, b) => (a.qube !== b.qube ? (a.qube < b.qube ? -1 : 1) : a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const seen = new Set<string>();
  for (const d of deploys) {
    const key = `${d.qube}:${d.target}`;
    if (seen.has(key)) bug(`two artifacts are deployed to ${key}`);
    seen.add(key);
  }
  return { policies, deploys };
}

/** The reload commands of one qube's files, each once, in first-seen order. */
export function reloadsOf(deploys: readonly DeployInput[]): (readonly string[])[] {
  const seen = new Set<string>();
  const out: (readonly string[])[] = [];
  for (const d of deploys) {
    for (const argv of d.reload) {
      const key = JSON.stringify(argv);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(argv);
    }
  }
  return out;
}
