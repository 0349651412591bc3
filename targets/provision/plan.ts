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
 * The properties provisioning enforces on a qube, in the order they are set.
 * Flags first (a gateway must provide network before a client names it, a
 * disposable template must be one before a qube names it), then the rest.
 * Booleans are enforced either way (their Qubes default is False, so a
 * `False` the qube already has is left alone); optional values the model
 * leaves undefined stay at Qubes' defaults.
 */
export function prefsOf(q: ModelQube): Pref[] {
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
  if (q.defaultDispvm !== undefined) p.push({ name: 'default_dispvm', value: q.defaultDispvm ?? '', late: true });
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
