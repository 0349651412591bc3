/**
 * Models for the qrexec target's tests: the examples on each Qubes release
 * they check on, and small in-memory policies.
 */
import { readFileSync } from 'node:fs';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import type { PolicyModel } from '../../../../compiler/model.js';
import { runPipeline } from '../../../../compiler/pipeline.js';
import type { QrexecRule, QubesRelease } from '../../../../compiler/qrexec/types.js';

export const examples = ['developer', 'journalist', 'personas'] as const;
export const releases: readonly QubesRelease[] = ['4.2', '4.3'];

/** The model of a policy text (at `file`), or the error codes when it does not check. */
export function modelOf(text: string, file = 'test.qpol'): PolicyModel | string[] {
  const r = runPipeline(file, overlayHost(new Map([[file, text]]), nodeHost));
  return r.model ?? r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`);
}

/**
 * An example's model for a release: the example as written, with its
 * `settings { qubes … }` line switched to the release. Error codes when the
 * example does not check on that release.
 */
export function exampleModel(name: string, release: QubesRelease): PolicyModel | string[] {
  const file = `examples/${name}.qpol`;
  const text = readFileSync(file, 'utf8');
  const switched = text.replace(/^(\s*qubes\s+)4\.[0-9]+/m, `$1${release}`);
  if (!switched.includes(`qubes ${release}`)) throw new Error(`${file} has no settings line to switch`);
  return modelOf(switched, file);
}

/** Narrows `modelOf`'s result for tests that need a model. */
export function must(m: PolicyModel | string[]): PolicyModel {
  if (Array.isArray(m)) throw new Error(`the policy does not check:\n${m.join('\n')}`);
  return m;
}

/** A copy of the model with one rule of our files replaced (for hostile-value tests). */
export function withRule(model: PolicyModel, fileIndex: number, ruleIndex: number, change: (r: QrexecRule) => QrexecRule): PolicyModel {
  const policyFiles = model.policyFiles.map((f, i) => (i !== fileIndex ? f : { ...f, rules: f.rules.map((r, j) => (j === ruleIndex ? change(r) : r)) }));
  return { ...model, policyFiles };
}

/**
 * A policy that names no label for some qubes (for `qubes RELEASE`): it
 * compiles for the qrexec target alone, since the provision target refuses
 * to create a qube without a label.
 */
export const unlabelledPolicy = `use "qubes"
settings { qubes RELEASE }
template debian-12-xfce
identity work { network clearnet via sys-firewall }
qube work-web in work { template debian-12-xfce }
disposable work-dvm in work { template debian-12-xfce }
standalone box in work { }
allow qubes.Filecopy from work-web to box
ask qubes.OpenURL from work-web to @dispvm
`;
