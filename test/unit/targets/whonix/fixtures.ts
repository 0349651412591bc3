/**
 * Models for the whonix target tests: every example, and a small in-memory
 * policy that needs listeners Whonix does not pre-bind.
 */
import { readdirSync } from 'node:fs';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import type { PolicyModel } from '../../../../compiler/model.js';
import { runPipeline } from '../../../../compiler/pipeline.js';
import type { GoldenSource } from '../../../helpers/golden.js';

/**
 * Checks a policy and returns its model; throws when the policy has errors.
 * (The pipeline directly, as `check` runs it, so these tests do not depend
 * on the other targets of the registry.)
 */
export function modelOf(entry: string, files: ReadonlyMap<string, string> = new Map()): PolicyModel {
  const r = runPipeline(entry, overlayHost(files, nodeHost), 'all');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.model || errors.length > 0) throw new Error(`${entry} has errors: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return r.model;
}

export const exampleFiles: readonly string[] = readdirSync('examples')
  .filter((f) => f.endsWith('.qpol'))
  .sort()
  .map((f) => `examples/${f}`);

export const extraPath = 'whonix-extra.qpol';

/**
 * Two workstations on sys-whonix: flag sets outside Whonix's four custom
 * groups (so qpc adds listeners), the same set in two qubes (one listener
 * shared: Tor separates qubes by client address), `socks auth` apps, a
 * pinned Whonix port, and Tor Browser and Thunderbird, which have launch
 * methods of their own, in every binding mode.
 */
export const extraPolicy = `use "qubes"
use "whonix"

template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }

identity anon {
  network tor via sys-whonix
  label red
}

qube anon-a in anon {
  template whonix-workstation-18
  app irssi { socks dedicated isolate client-protocol }
  app links { socks dedicated isolate client-protocol dest-addr }
  app wget2 { socks dedicated isolate client-protocol dest-port dest-addr }
  app git { socks auth }
  app mutt { socks auth }
  app hexchat { socks port 9101 }
  app curl.bin { socks dedicated }
  app torbrowser { socks auth }
  app thunderbird { socks auth }
}

qube anon-b in anon {
  template whonix-workstation-18
  app irssi { socks dedicated isolate client-protocol }
  app ssh { socks dedicated isolate dest-addr }
  app thunderbird { socks dedicated isolate dest-addr }
  app torbrowser { socks port 9150 }
}
`;

export function extraModel(): PolicyModel {
  return modelOf(extraPath, new Map([[extraPath, extraPolicy]]));
}

/** Every case: name (for golden directories), source and model. */
export function allCases(): { readonly name: string; readonly source: GoldenSource; readonly model: PolicyModel }[] {
  return [
    ...exampleFiles.map((f) => ({ name: f.replace(/^examples\//, 'examples-').replace(/\.qpol$/, ''), source: { example: f }, model: modelOf(f) })),
    { name: 'extra-listeners', source: { text: extraPolicy }, model: extraModel() },
  ];
}
