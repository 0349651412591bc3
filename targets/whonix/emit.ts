/**
 * The artifacts of the whonix target (DESIGN §5), in path order: per Whonix
 * Tor gateway its torrc.d and whonix_firewall.d files, per workstation a
 * launcher per bound app, and ports.json. Pure and deterministic: it walks
 * the model's sorted arrays and sorts by path at the end.
 */
import { qubeNamed, type PolicyModel } from '../../compiler/model.js';
import type { Artifact } from '../../compiler/target.js';
import { launcherText } from './launcher.js';
import { APP_NAME, firewallArtifactPath, launcherArtifactPath, launcherDeployPath, portsPath, SOURCE_PATH, torrcArtifactPath } from './names.js';
import { qubeNameSyntax } from '../../compiler/qubes-values.js';
import { portsText } from './ports.js';
import { firewallDeployPath, firewallReload, firewallText, torrcDeployPath, torrcText, torReload } from './torrc.js';

/** A value `check` should have refused reached emit: a bug, not a user error. */
function assertSafe(ok: boolean, what: string): void {
  if (!ok) throw new Error(`whonix target: unchecked ${what} reached emit`);
}

export function emitWhonix(model: PolicyModel): Artifact[] {
  assertSafe(SOURCE_PATH.test(model.source), 'source path');
  const source = model.source;
  const out: Artifact[] = [];

  for (const gw of model.torGateways) {
    // Only Whonix reads these directories; a Tor gateway of another kind gets
    // no files (check refuses it when it would need listeners).
    if (qubeNamed(model, gw.name)?.whonixRole !== 'gateway') continue;
    assertSafe(qubeNameSyntax.test(gw.name), 'gateway name');
    const users = new Map<number, string[]>();
    for (const a of model.socks) {
      if (a.gateway !== gw.name) continue;
      const list = users.get(a.port) ?? [];
      list.push(`${a.qube}/${a.app}`);
      users.set(a.port, list);
    }
    out.push({
      path: torrcArtifactPath(gw.name),
      contents: torrcText(source, gw, users),
      deploy: { qube: gw.name, path: torrcDeployPath, mode: '0644', reload: torReload },
    });
    out.push({
      path: firewallArtifactPath(gw.name),
      contents: firewallText(source, gw),
      deploy: { qube: gw.name, path: firewallDeployPath, mode: '0644', reload: firewallReload },
    });
  }

  for (const a of model.socks) {
    assertSafe(qubeNameSyntax.test(a.qube) && APP_NAME.test(a.app), 'qube or app name');
    out.push({
      path: launcherArtifactPath(a.qube, a.app),
      contents: launcherText(source, a),
      executable: true,
      deploy: { qube: a.qube, path: launcherDeployPath(a.app), mode: '0755' },
    });
  }

  out.push({ path: portsPath, contents: portsText(model) });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
