/**
 * What provisioning does to each qube, as data shared by the shell script
 * and the Salt states: the order qubes are created and configured in, and
 * the Qubes properties (spelled as `qvm-prefs` spells them) each one gets.
 */
import { qubeNamed, type ModelQube, type PolicyModel, type QubeClass } from '../../compiler/model.js';

/** A Qubes property and the value `qvm-prefs QUBE PROP` prints for it. */
export interface Pref {
  /** `qvm-prefs` spelling (`provides_network`); Salt uses dashes. */
  readonly name: string;
  /** The value as `qvm-prefs` prints and takes it: `True`/`False`, a number, a name, `''` for none. */
  readonly value: string;
  /** Set in the second pass, after every qube's own flags are set (`default_dispvm`). */
  readonly late?: boolean;
}

/**
 * Which properties a class has (qubes-core-admin `qubes/vm/*.py`; reference
 * §3.2): dom0 (AdminVM) has none of these, `template` exists on AppVM and
 * DispVM only, `template_for_dispvms` on AppVM and StandaloneVM only.
 */
const hasTemplate: ReadonlySet<QubeClass> = new Set(['AppVM', 'DispVM']);
const hasDvmFlag: ReadonlySet<QubeClass> = new Set(['AppVM', 'StandaloneVM']);

/** Python booleans as `qvm-prefs` prints them. */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/**
 * The `default_dispvm` provisioning writes: exactly what the qrexec analysis
 * assumes (the system info, compiler/qrexec/lower.ts), `''` for none, or
 * {@link QUBES_DEFAULT} where the analysis relies on Qubes' own default (a
 * named disposable's template; a disposable template's global default, which
 * its disposables then do not copy). Every
 * qube but dom0 gets it, templates too (TemplateVM has the property), so no
 * qube keeps a disposable from before (a clearnet one in a qube now of a Tor
 * identity) or Qubes' global default where the analysis assumed none.
 */
export function defaultDispvmOf(model: PolicyModel, q: ModelQube): string {
  const info = model.systemInfo.domains.get(q.name);
  if (!info) throw new Error(`provision: qube ${q.name} is missing from the system information`);
  return info.defaultDispvmIsDefault ? QUBES_DEFAULT : (info.defaultDispvm ?? '');
}

/**
 * The value that resets a property to Qubes' own default (`qvm-prefs
 * --default` in provision.sh; the spelling Salt's `qvm.prefs` takes).
 */
export const QUBES_DEFAULT = '*default*';

/**
 * The properties provisioning enforces on a qube, in the order they are set.
 * Flags first (a gateway must provide network before a client names it, a
 * disposable template must be one before a qube names it), then the rest.
 * Booleans are enforced either way (their Qubes default is False, so a
 * `False` the qube already has is left alone); `default_dispvm` is always
 * written (`defaultDispvmOf`); other optional values the model leaves
 * undefined stay at Qubes' defaults.
 */
export function prefsOf(q: ModelQube, model: PolicyModel): Pref[] {
  if (q.klass === 'AdminVM') return [];
  const p: Pref[] = [];
  p.push({ name: 'provides_network', value: pyBool(q.providesNetwork) });
  if (hasDvmFlag.has(q.klass)) p.push({ name: 'template_for_dispvms', value: pyBool(q.templateForDispvms) });
  if (q.template !== undefined && hasTemplate.has(q.klass)) p.push({ name: 'template', value: q.template });
  if (q.label !== undefined) p.push({ name: 'label', value: q.label });
  p.push({ name: 'netvm', value: q.netvm ?? '' });
  if (q.memory !== undefined) p.push({ name: 'memory', value: String(q.memory) });
  if (q.maxmem !== undefined) p.push({ name: 'maxmem', value: String(q.maxmem) });
  if (q.vcpus !== undefined) p.push({ name: 'vcpus', value: String(q.vcpus) });
  if (q.virtMode !== undefined) p.push({ name: 'virt_mode', value: q.virtMode });
  if (q.kernel !== undefined) p.push({ name: 'kernel', value: q.kernel ?? '' });
  if (q.kernelopts !== undefined) p.push({ name: 'kernelopts', value: q.kernelopts });
  p.push({ name: 'autostart', value: pyBool(q.autostart) });
  p.push({ name: 'default_dispvm', value: defaultDispvmOf(model, q), late: true });
  return p;
}

/** The qubes a qube needs to exist (and be configured) first: its template and its netvm. */
export function dependenciesOf(q: ModelQube): string[] {
  const deps: string[] = [];
  if (q.template !== undefined) deps.push(q.template);
  if (q.netvm) deps.push(q.netvm);
  return deps.filter((d) => d !== q.name);
}

/**
 * The model's qubes in an order where every qube comes after its template and
 * its netvm (templates before qubes, gateways before clients, a named
 * disposable after its disposable template), ties by name so the order does
 * not depend on the source. `default_dispvm` is not an edge: it is set in a
 * second pass, once every disposable template carries its flag (a disposable
 * template's default is often itself).
 */
export function provisioningOrder(model: PolicyModel): ModelQube[] {
  const done = new Set<string>();
  const out: ModelQube[] = [];
  const visiting = new Set<string>();
  // Depth-first over dependencies in name order; the checker has refused
  // netvm loops (QP3001) and templates have no template or netvm of their own.
  const visit = (q: ModelQube): void => {
    if (done.has(q.name)) return;
    if (visiting.has(q.name)) throw new Error(`dependency loop through qube ${q.name}`);
    visiting.add(q.name);
    for (const d of [...dependenciesOf(q)].sort()) {
      const dq = qubeNamed(model, d);
      if (dq) visit(dq);
    }
    visiting.delete(q.name);
    done.add(q.name);
    out.push(q);
  };
  for (const q of model.qubes) visit(q);
  return out;
}

/** Every identity tag of the model: tags provisioning removes from qubes that no longer belong to that identity. */
export function identityTags(model: PolicyModel): string[] {
  return [...new Set(model.identities.map((i) => i.tag))].sort();
}

/**
 * A qube's TemplateVM: its template, or its template's template for a qube
 * based on a disposable template (a named disposable). Undefined when the
 * chain ends elsewhere.
 */
export function templateVmOf(model: PolicyModel, q: ModelQube): ModelQube | undefined {
  const seen = new Set<string>([q.name]);
  let name = q.template;
  while (name !== undefined && !seen.has(name)) {
    seen.add(name);
    const t = qubeNamed(model, name);
    if (!t || t.klass === 'TemplateVM') return t;
    name = t.template;
  }
  return undefined;
}

/**
 * Whonix's own marker features (reference whonix-and-tor §6.2): a Whonix
 * template requests `whonix-gw=1` or `whonix-ws=1` from dom0 itself
 * (qubes-whonix's post-install hook, `qvm-features-request`), and the Qubes
 * Whonix add-on stores it as `1`. The policy's `whonix gateway|workstation`
 * is only a declaration; this is what the machine says.
 */
export const whonixMarkerFeature = { gateway: 'whonix-gw', workstation: 'whonix-ws' } as const;

/** A template whose Whonix marker provisioning verifies before it changes anything. */
export interface WhonixMarker {
  readonly template: string;
  readonly role: 'gateway' | 'workstation';
  readonly feature: string;
}

/**
 * The templates whose Whonix role the proof relies on: every template
 * declared `whonix gateway` that a Tor gateway is based on, and every
 * template declared `whonix workstation` that a qube of a Tor identity is
 * based on (through its disposable template, for a named disposable).
 * Sorted by template, then role.
 */
export function whonixMarkers(model: PolicyModel): WhonixMarker[] {
  const tor = new Set(model.identities.filter((i) => i.mode === 'tor').map((i) => i.name));
  const found = new Map<string, WhonixMarker>();
  const add = (template: string, role: 'gateway' | 'workstation'): void => {
    found.set(`${template} ${role}`, { template, role, feature: whonixMarkerFeature[role] });
  };
  for (const q of model.qubes) {
    const t = templateVmOf(model, q);
    if (!t) continue;
    if (q.torGateway && t.whonixRole === 'gateway') add(t.name, 'gateway');
    if (q.identity !== undefined && tor.has(q.identity) && t.whonixRole === 'workstation') add(t.name, 'workstation');
  }
  return [...found.values()].sort((a, b) => (a.template !== b.template ? (a.template < b.template ? -1 : 1) : a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
}
