/**
 * The target registry: every target qpc can compile to, in one table
 * (DESIGN §5). `qpc compile --target LIST` selects from it by name; a target
 * pulls in the targets it `requires`. It sits above the targets, which know
 * only the contract (compiler/target.ts) and the model; the public API
 * (compiler/index.ts) takes it as the default set of targets.
 */
import { provisionTarget } from './provision/index.js';
import { qrexecTarget } from './qrexec/index.js';
import type { Target } from '../compiler/target.js';
import { whonixTarget } from './whonix/index.js';
import { xenTarget } from './xen/index.js';

export type { Artifact, Deployment, Target } from '../compiler/target.js';

/** Every target, in the order they are compiled (a target after those it requires). */
export const targets: readonly Target[] = [qrexecTarget, whonixTarget, provisionTarget, xenTarget];

/** A target by name. */
export function targetNamed(name: string): Target | undefined {
  return targets.find((t) => t.name === name);
}
