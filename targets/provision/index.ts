/**
 * The `provision` target (DESIGN §5): `qubes/provision.sh` (an idempotent,
 * verifying POSIX sh script for dom0) and `qubes/salt/qpc.sls` + `qpc.top`
 * (the same configuration as Salt states), `qubes/snapshot.sh` (the
 * snapshot script, which provision.sh runs to compare the machine with the
 * one a plan was made on), and per qube with reload
 * commands the script that runs them there (`qubes/reload/QUBE.sh`). It
 * installs what the `qrexec` and `whonix` targets emit, which `qpc compile`
 * passes in as `inputs`.
 */
import type { Artifact, Target } from '../../compiler/target.js';
import { collectText } from '../../compiler/snapshot/collect-text.js';
import { provisionScriptPath, saltStatePath, saltTopPath, snapshotScriptPath } from '../paths.js';
import { checkProvision } from './check.js';
import { collectInputs } from './inputs.js';
import { withReloadScripts } from './reload.js';
import { saltStates, saltTop } from './salt.js';
import { provisionScript } from './script.js';

export const provisionTarget: Target = {
  name: 'provision',
  summary: 'dom0 provisioning: qubes/provision.sh (qvm-* commands, policy install, Whonix files) and Salt states',
  requires: ['qrexec', 'whonix'],
  check: checkProvision,
  emit(model, inputs): readonly Artifact[] {
    const { inputs: collected, scripts } = withReloadScripts(collectInputs(model, inputs));
    return [
      ...scripts,
      { path: provisionScriptPath, contents: provisionScript(model, collected), executable: true },
      // What provision.sh --plan records the machine with, to compare it with the plan's snapshot.
      { path: snapshotScriptPath, contents: collectText, executable: true },
      { path: saltStatePath, contents: saltStates(model, collected) },
      { path: saltTopPath, contents: saltTop(model) },
    ];
  },
};
