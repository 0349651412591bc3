/** What a plan is made from: the policy's model, and what the provision target does beyond it (compiler/index.ts computes it from the target). */
import type { PolicyModel } from '../model.js';

/** One property provision.sh enforces on a qube, in its order; `value` null: reset to Qubes' default. */
export interface DesiredPref {
  readonly name: string;
  readonly value: string | null;
}

/**
 * What provisioning does beyond the model, as the provision target computes
 * it (the public API passes it in: the plan does not import targets): the
 * order qubes are provisioned in, the properties of each, the identity
 * tags it takes off qubes of other identities, and the artifacts it
 * installs.
 */
export interface ProvisionFacts {
  /** Every qube of the model, templates before the qubes based on them, gateways before their clients. */
  readonly order: readonly string[];
  readonly prefs: ReadonlyMap<string, readonly DesiredPref[]>;
  readonly identityTags: readonly string[];
  /** `NAME` (installed as `/etc/qubes/policy.d/NAME.policy`) → text. */
  readonly policyFiles: readonly { readonly name: string; readonly text: string }[];
  /** Files pushed into qubes: the qube, the absolute path inside it, the text. */
  readonly deploys: readonly { readonly qube: string; readonly path: string; readonly text: string }[];
  /** The Whonix templates whose marker feature (`whonix-gw=1`, `whonix-ws=1`) provision.sh verifies before it changes anything. */
  readonly whonixMarkers: readonly { readonly template: string; readonly feature: string; readonly role: string }[];
  /** The properties provisioning records and resets to Qubes' default when the policy stops setting them. */
  readonly resettablePrefs: readonly string[];
}

export interface PlanInput {
  readonly model: PolicyModel;
  readonly provision: ProvisionFacts;
}
