/**
 * The xen target (DESIGN §5): one xl.cfg(5) file and one libvirt domain XML
 * per qube that Qubes runs as a Xen domain, for plain Xen hosts, review and
 * Qubes' per-qube libvirt overrides. Format notes in README.md.
 */
import type { PolicyModel } from '../../compiler/model.js';
import { libvirtPath, xlConfigPath } from '../paths.js';
import type { Artifact, Target } from '../../compiler/target.js';
import { checkXen } from './check.js';
import { bootable, domainQubes, resolveDomain } from './domain.js';
import { libvirtXml } from './emit-libvirt.js';
import { xlConfig } from './emit-xl.js';

function emitXen(model: PolicyModel): readonly Artifact[] {
  const out: Artifact[] = [];
  for (const q of domainQubes(model)) {
    if (!bootable(model, q)) continue; // no kernel named: QP4302
    const d = resolveDomain(model, q);
    out.push({ path: xlConfigPath(q.name), contents: xlConfig(d, model.source) });
    out.push({ path: libvirtPath(q.name), contents: libvirtXml(d, model.source) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export const xenTarget: Target = {
  name: 'xen',
  summary: 'xl.cfg and libvirt XML for every qube Qubes runs as a Xen domain',
  check: checkXen,
  emit: (model) => emitXen(model),
};
