/**
 * `whonix/ports.json`: every bound app with its gateway, port, isolation
 * flags and launch method, for review and for configuring an app by hand.
 */
import type { PolicyModel } from '../../compiler/model.js';
import { launcherDeployPath } from './names.js';
import { launchMethod, socksCredentials } from './launcher.js';
import { torIsolationFlags } from './torrc.js';

/** JSON with object keys sorted at every level, two-space indent, final newline. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map((k) => [k, sort(o[k])]),
    );
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}

/** The map, keyed `qube/app`. */
export function portsText(model: PolicyModel): string {
  const apps: Record<string, unknown> = {};
  for (const a of model.socks) {
    const method = launchMethod(a.app);
    apps[`${a.qube}/${a.app}`] = {
      qube: a.qube,
      app: a.app,
      gateway: a.gateway,
      port: a.port,
      mode: a.mode,
      isolate: [...a.isolate],
      torFlags: a.isolate.map((f) => torIsolationFlags[f]),
      launcher: launcherDeployPath(a.app),
      method,
      // Only torsocks sends qpc's credentials; Tor Browser sends its own.
      ...(a.mode === 'auth' && method === 'torsocks' ? { socksCredentials: socksCredentials(a.qube, a.app) } : {}),
    };
  }
  return canonicalJson({ version: 1, source: model.source, apps });
}
