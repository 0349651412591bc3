/**
 * `qpc plan` (DESIGN §5, docs/plan.md): what provisioning would change on a
 * recorded machine. The desired machine is produced from the recorded one
 * with immer's `produceWithPatches` (the recipe is desired.ts); the patches
 * are the plan, and this module only groups them per qube and per file, in
 * provisioning order, with the values before and after, and marks the
 * changes that weaken isolation.
 */
import { enablePatches, produceWithPatches, type Patch } from 'immer';
import { sha256 } from '../hash.js';
import { applyPolicy, gatewayFileKey, type PlanInput } from './desired.js';
import { leftAlone, recordKnown, staleItems, type StaleItem } from './stale.js';
import { unifiedDiff } from './diff.js';
import type { Coverage, MachineView, PrefView, QubeView } from './state.js';
import type { MachineState } from '../snapshot/read.js';

enablePatches();

/** Where the machine's state came from. */
export interface MachineSource {
  readonly coverage: Coverage;
  /** The snapshot's `state.sha256` (the hash provision.sh's drift check compares); absent for a system info. */
  readonly stateHash?: string;
  readonly date?: string;
  readonly release?: string;
  /** Gateways whose Whonix files the snapshot did not read, with the reason (`GW: not running`). */
  readonly skippedGateways?: readonly string[];
  /** The snapshot's `files.sha256`, which a plan file carries so provision.sh can name what changed since (not in the JSON form). */
  readonly manifest?: string;
  /** The snapshot script ran with `--start-gateways`: provision.sh --plan records the machine so again. */
  readonly startedGateways?: boolean;
}

/** Where a snapshot's machine came from, as the plan and its plan file carry it. */
export function sourceOfSnapshot(s: MachineState): MachineSource {
  return { coverage: 'snapshot', stateHash: s.stateHash, date: s.date, release: s.release, skippedGateways: s.skippedGateways, manifest: s.manifest, startedGateways: s.startedGateways };
}

/** A property's value before and after: null before when the machine did not record it (or the qube is new). */
export interface PrefChange {
  readonly name: string;
  readonly old: PrefView | null;
  readonly new: PrefView;
}

export interface ValueChange<T> {
  readonly name: string;
  /** null: not set before. */
  readonly old: T | null;
  /** null: unset. */
  readonly new: T | null;
}

export interface DeviceChange {
  /** `CLASS BACKEND:DEVID`. */
  readonly device: string;
  /** unassign: qpc assigned it, as its ownership record says, and the policy no longer has it. */
  readonly action: 'assign' | 'reassign' | 'unassign';
  readonly options: Readonly<Record<string, string>>;
}

export interface QubePlan {
  readonly name: string;
  readonly action: 'create' | 'change';
  readonly class: string;
  readonly template: string | null;
  readonly label: string | null;
  readonly prefs: readonly PrefChange[];
  readonly tagsAdded: readonly string[];
  readonly tagsRemoved: readonly string[];
  readonly features: readonly ValueChange<string>[];
  readonly services: readonly ValueChange<boolean>[];
  readonly devices: readonly DeviceChange[];
  /** Changes that weaken isolation (a netvm moved off a Tor gateway). */
  readonly weakens: readonly string[];
  /** What provisioning needs first (a running qube whose template, virt_mode or kernel changes). */
  readonly notes: readonly string[];
  /** The changes that take back what an earlier qpc run wrote, as its ownership record says (`tag anon-vm`, `feature K`, `service S`, `pref memory`, `device CLASS ID`). */
  readonly stale: readonly string[];
}

/** A file qpc pushed into a qube, as its ownership record names it, that provisioning removes. */
export interface QubeFilePlan {
  readonly qube: string;
  readonly path: string;
  readonly action: 'remove';
  readonly reason: string;
}

/** The ownership record the plan read, and what provisioning leaves of its stale items. */
export interface RecordPlan {
  /** As the snapshot holds it (docs/snapshot.md): `recorded`, `absent` (an empty record), `unread`, `not-recorded`. */
  readonly status: 'recorded' | 'absent' | 'unread' | 'not-recorded';
  readonly reason?: string;
  /** The record's items. */
  readonly items: number;
  /** Those this policy no longer has: provisioning takes them back (where they are still on the machine) and drops them from the record. */
  readonly stale: number;
  /** What provisioning leaves of them, and says so. */
  readonly left: readonly string[];
}

export interface FilePlan {
  /** Under /etc/qubes/policy.d, or `torrc.d/NAME` / `whonix_firewall.d/NAME` in a gateway. */
  readonly path: string;
  readonly action: 'add' | 'change' | 'remove';
  /** The unified diff from the machine's file to the policy's. */
  readonly diff: string;
  /** Why a file is removed. */
  readonly reason?: string;
  readonly weakens: readonly string[];
}

export interface GatewayPlan {
  readonly gateway: string;
  readonly files: readonly FilePlan[];
}

export interface Plan {
  readonly machine: MachineSource;
  /** Whether provisioning would change anything. */
  readonly changes: boolean;
  /** immer's patches from the machine to the desired machine: the plan itself, the rest is grouped from them. */
  readonly patches: readonly Patch[];
  /** The qubes with changes, in provisioning order. */
  readonly qubes: readonly QubePlan[];
  /** Qubes of the policy already as it says. */
  readonly unchangedQubes: number;
  readonly globalPrefs: readonly PrefChange[];
  readonly policyFiles: readonly FilePlan[];
  /** Files of /etc/qubes/policy.d provisioning leaves alone: stock files the policy models, and every other file not qpc's. */
  readonly untouchedPolicyFiles: { readonly stock: readonly string[]; readonly other: readonly string[] };
  readonly whonix: readonly GatewayPlan[];
  /** Files the ownership record says qpc pushed into qubes, outside the directories the snapshot reads, that provisioning removes. */
  readonly qubeFiles: readonly QubeFilePlan[];
  readonly record: RecordPlan;
  /** Qubes the machine has and the policy does not declare: reported, never touched. */
  readonly unmanagedQubes: readonly string[];
  /** What makes provision.sh stop before it changes anything. */
  readonly blockers: readonly string[];
  /** What the machine's record does not hold, so the plan cannot say whether it changes. */
  readonly unknown: readonly string[];
  /**
   * The qubes `provision.sh --plan FILE --only-changes` visits: every qube the
   * plan changes or takes something back from, every qube holding a stale
   * record item (also one already gone, so the record drops it as a full run
   * does), and every qube with files the snapshot does not record (provision.sh
   * reads them in the qube). Sorted.
   */
  readonly visit: readonly string[];
  /** The desired machine (frozen). */
  readonly desired: MachineView;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The rules of a policy file whose action is `deny` (fifth column), each with its words joined by one space. */
export function denyLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('!')) continue;
    const words = t.split(/\s+/);
    if (words[4] === 'deny') out.push(words.join(' '));
  }
  return out;
}

/** The number of deny rules of a policy file. */
export function denyRules(text: string): number {
  return denyLines(text).length;
}

const article = (word: string): string => (/^[AEIOU]/.test(word) ? 'an' : 'a');
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Tor gateways on either side: the model's, and the machine's qubes tagged `anon-gateway` (Qubes' Whonix add-on tags sys-whonix so). */
function torGateways(base: MachineView, input: PlanInput): Set<string> {
  const s = new Set(input.model.torGateways.map((g) => g.name));
  for (const [name, q] of Object.entries(base.qubes)) if (q.tags['anon-gateway'] === true) s.add(name);
  return s;
}

/**
 * The plan for `input` on the machine `base`. Pure: `base` is frozen and
 * stays as it was; the desired machine is a new frozen state sharing every
 * part that does not change.
 */
export function makePlan(base: MachineView, input: PlanInput, machine: MachineSource): Plan {
  const [desired, patches] = produceWithPatches(base, (d) => applyPolicy(d, input, machine.coverage));
  const { model, provision } = input;

  // What each patch touches, by its path.
  const touched = new Map<string, Map<string, Set<string>>>();
  const created = new Set<string>();
  const globals = new Set<string>();
  const policy = new Set<string>();
  const gateways = new Map<string, Set<string>>();
  const qubeFiles: QubeFilePlan[] = [];
  for (const p of patches) {
    const [root, a, b, c] = p.path.map(String);
    if (root === 'qubes' && a !== undefined) {
      if (b === undefined) { created.add(a); continue; }
      const facets = touched.get(a) ?? new Map<string, Set<string>>();
      touched.set(a, facets);
      const keys = facets.get(b) ?? new Set<string>();
      facets.set(b, keys);
      if (c !== undefined) keys.add(c);
    } else if (root === 'globalPrefs' && a !== undefined) globals.add(a);
    else if (root === 'policy' && a !== undefined) policy.add(a);
    else if (root === 'whonix' && a !== undefined) {
      const files = gateways.get(a) ?? new Set<string>();
      gateways.set(a, files);
      for (const f of b === undefined ? Object.keys(desired.whonix[a] ?? {}) : [b]) files.add(f);
    } else if (root === 'pushed' && a !== undefined) {
      for (const f of b === undefined ? Object.keys(base.pushed[a] ?? {}) : [b]) qubeFiles.push({ qube: a, path: f, action: 'remove', reason: 'qpc pushed it, as its ownership record says, and the policy no longer has it' });
    }
  }
  qubeFiles.sort((x, y) => compare(x.qube, y.qube) || compare(x.path, y.path));
  const known = recordKnown(base);
  const stale = staleItems(base, input);
  const staleOf = new Map<string, StaleItem[]>();
  for (const item of stale) if (item.kind !== 'policy') staleOf.set(item.qube, [...(staleOf.get(item.qube) ?? []), item]);

  const tor = torGateways(base, input);
  const inPolicy = new Set(model.qubes.map((q) => q.name));
  const qubes: QubePlan[] = [];
  let unchangedQubes = 0;
  // The policy's qubes in provisioning order; then the qubes it does not declare on which provisioning
  // takes back what an earlier run wrote (prune_qubes acts on any qube that exists).
  const ordered = new Set(provision.order);
  const others = Object.keys(base.qubes).filter((q) => !ordered.has(q) && touched.has(q)).sort(compare);
  for (const name of [...provision.order, ...others]) {
    const now = desired.qubes[name];
    if (now === undefined) continue;
    const was: QubeView | undefined = base.qubes[name];
    const facets = touched.get(name);
    if (!created.has(name) && facets === undefined) { if (inPolicy.has(name)) unchangedQubes++; continue; }
    const keys = (f: string): string[] => (created.has(name) ? Object.keys((now as unknown as Record<string, Record<string, unknown>>)[f] ?? {}) : [...(facets?.get(f) ?? [])]);
    // Properties in the order provision.sh sets them.
    const order = (provision.prefs.get(name) ?? []).map((p) => p.name);
    const prefNames = keys('prefs').sort((x, y) => order.indexOf(x) - order.indexOf(y));
    const prefs: PrefChange[] = prefNames.map((p) => ({ name: p, old: was?.prefs[p] ?? null, new: now.prefs[p]! }));
    const weakens: string[] = [];
    const notes: string[] = [];
    for (const p of prefs) {
      const old = p.old?.value ?? '';
      const nu = p.new.value ?? '';
      if (p.name === 'netvm' && was !== undefined && tor.has(old) && nu !== '' && !tor.has(nu)) weakens.push(`netvm leaves the Tor gateway ${old} for ${nu}, which is not one`);
      if (was?.running && ['template', 'virt_mode', 'kernel'].includes(p.name)) notes.push(`${name} is running, and qubesd refuses to change its ${p.name} while it runs: shut it down (qvm-shutdown --wait ${name}) before provisioning`);
    }
    const tags = keys('tags').sort(compare);
    const features = keys('features').sort(compare).map((k) => ({ name: k, old: was?.features[k] ?? null, new: now.features[k] ?? null }));
    const services = keys('services').sort(compare).map((k) => ({ name: k, old: was?.services[k] ?? null, new: now.services[k] ?? null }));
    const devices = keys('devices').sort(compare).map((k): DeviceChange => ({ device: k, action: was?.devices[k] === undefined ? 'assign' : now.devices[k] === undefined ? 'unassign' : 'reassign', options: now.devices[k]?.options ?? was?.devices[k]?.options ?? {} }));
    // The identity tags provision.sh takes off first (untag_stale): not the record's take-backs.
    const policyQube = model.qubes.find((q) => q.name === name);
    const untagged = new Set(policyQube === undefined || policyQube.klass === 'AdminVM' ? [] : provision.identityTags.filter((t) => !policyQube.tags.includes(t)));
    const labelChanged = !created.has(name) && facets?.has('label');
    const templateChanged = !created.has(name) && facets?.has('template');
    if (labelChanged && !prefs.some((p) => p.name === 'label')) prefs.push({ name: 'label', old: was?.label == null ? null : { value: was.label, isDefault: false }, new: { value: now.label, isDefault: false } });
    if (templateChanged && !prefs.some((p) => p.name === 'template')) prefs.push({ name: 'template', old: was?.template == null ? null : { value: was.template, isDefault: false }, new: { value: now.template, isDefault: false } });
    qubes.push({
      name,
      action: created.has(name) ? 'create' : 'change',
      class: now.class,
      template: now.template,
      label: now.label,
      prefs,
      tagsAdded: tags.filter((t) => now.tags[t] === true && was?.tags[t] !== true),
      tagsRemoved: tags.filter((t) => now.tags[t] !== true),
      features,
      services,
      devices,
      weakens,
      notes,
      stale: staleChanges((staleOf.get(name) ?? []).filter((i) => !(i.kind === 'tag' && untagged.has(i.tag))), facets),
    });
  }

  const globalPrefs: PrefChange[] = [...globals].sort(compare).map((g) => ({ name: g, old: base.globalPrefs[g] ?? null, new: desired.globalPrefs[g]! }));

  // A deny rule is lost when no file the policy installs has it any more (a renamed file keeps its rules;
  // the same rule in a file of someone else's, later in dom0's order, may not decide what it decided).
  const kept = new Set(provision.policyFiles.flatMap((f) => denyLines(f.text)));
  const policyFiles: FilePlan[] = [...policy].sort(compare).map((path): FilePlan => {
    const before = base.policy[path];
    const after = desired.policy[path];
    const weakens: string[] = [];
    const had = before === undefined ? [] : denyLines(before);
    const lost = new Set(had.filter((l) => !kept.has(l))).size;
    if (after === undefined && lost > 0) weakens.push(`removes a file that holds ${plural(lost, 'deny rule')} no file of the new policy has`);
    else if (lost > 0) weakens.push(`drops ${plural(lost, 'deny rule')} no file of the new policy has`);
    const moved = after === undefined && had.length > 0 && lost === 0 ? `; its ${plural(had.length, 'deny rule')} ${had.length === 1 ? 'is' : 'are'} in another file of the policy` : '';
    return {
      path,
      action: before === undefined ? 'add' : after === undefined ? 'remove' : 'change',
      diff: unifiedDiff(path, before, after),
      ...(after === undefined ? { reason: `qpc installed it, as ${known ? 'its ownership record' : 'its first line'} says, and the policy no longer has it${moved}` } : {}),
      weakens,
    };
  });
  const stockNames = new Set(model.completePolicy.filter((r) => r.origin.stock).map((r) => `${r.origin.policyFile}.policy`));
  const ours = new Set(provision.policyFiles.map((f) => `${f.name}.policy`));
  // A stale file of qpc's that someone changed since is left too, but it is not someone else's: `record.left` names it.
  const edited = new Set(stale.flatMap((i) => (i.kind === 'policy' && base.policy[`${i.name}.policy`] !== undefined && desired.policy[`${i.name}.policy`] !== undefined ? [`${i.name}.policy`] : [])));
  const left = Object.keys(base.policy).filter((p) => !policy.has(p) && !ours.has(p) && !edited.has(p)).sort(compare);
  const untouchedPolicyFiles = { stock: left.filter((p) => stockNames.has(p)), other: left.filter((p) => !stockNames.has(p)) };

  const whonix: GatewayPlan[] = [...gateways].sort(([a], [b]) => compare(a, b)).map(([gateway, files]) => ({
    gateway,
    files: [...files].sort(compare).map((path): FilePlan => {
      const before = base.whonix[gateway]?.[path];
      const after = desired.whonix[gateway]?.[path];
      return {
        path,
        action: before === undefined ? 'add' : after === undefined ? 'remove' : 'change',
        diff: unifiedDiff(path, before, after),
        ...(after === undefined ? { reason: `qpc pushed it, as ${known ? 'its ownership record' : 'its first line'} says, and the policy no longer has it` } : {}),
        weakens: [],
      };
    }),
  }));

  const unmanagedQubes = Object.keys(base.qubes).filter((q) => !inPolicy.has(q)).sort(compare);

  const blockers: string[] = [];
  for (const q of model.qubes) {
    const had = base.qubes[q.name];
    if (had === undefined && q.preexisting) blockers.push(`qube ${q.name} does not exist; the policy expects an installed ${q.klass} of that name`);
    else if (had !== undefined && had.class !== q.klass) blockers.push(`qube ${q.name} is ${article(had.class)} ${had.class}; the policy declares ${article(q.klass)} ${q.klass}`);
  }
  if (machine.coverage === 'snapshot') {
    if (base.owned.status === 'unread' && base.owned.reason === 'not a regular file') blockers.push('the ownership record /var/lib/qpc/owned is not a regular file: provision.sh refuses to run');
    for (const m of provision.whonixMarkers) {
      const found = base.qubes[m.template]?.features[m.feature];
      if (base.qubes[m.template] !== undefined && found !== '1') blockers.push(`template ${m.template} does not carry Whonix's marker feature ${m.feature}=1 (${found === undefined ? 'not set' : `it is '${found}'`}): the policy declares it a Whonix ${m.role} template`);
    }
    for (const f of model.verifiedStock) {
      const text = base.policy[`${f.name}.policy`];
      if (text === undefined) blockers.push(`stock policy file ${f.name}.policy is missing, but the policy models it and its checks count on its rules`);
      else if (sha256(text) !== f.sha256) blockers.push(`stock policy file ${f.name}.policy has sha256 ${sha256(text)}, not ${f.sha256} as the policy says`);
    }
  }

  const unknown: string[] = [];
  if (machine.coverage === 'system-info') {
    unknown.push('a system info records qubes, their classes, tags and default disposables only: properties, features, services, devices, global properties, policy files and Whonix files are not compared');
  } else {
    const skipped = new Map((machine.skippedGateways ?? []).map((l) => [l.split(':')[0]!, l] as const));
    const unread = new Set<string>();
    const inside: string[] = [];
    for (const f of provision.deploys) {
      const existing = f.qube in base.qubes;
      if (!existing) continue;
      const key = gatewayFileKey(f.path);
      if (key === undefined) inside.push(`${f.qube}:${f.path}`);
      else if (base.whonix[f.qube] === undefined && !unread.has(f.qube)) {
        unread.add(f.qube);
        unknown.push(`${f.qube}: its Whonix files were not read (${skipped.get(f.qube)?.slice(f.qube.length + 2) ?? 'not recorded'}); provision.sh pushes them unless the gateway has them`);
      }
    }
    if (inside.length > 0) unknown.push(`files inside qubes other than a Whonix gateway's torrc.d and whonix_firewall.d are not recorded; provision.sh pushes each unless the qube has it: ${inside.join(', ')}`);
    if (!known) {
      const why = base.owned.status !== 'unread' ? 'the snapshot does not hold it (a snapshot older than the record)' : base.owned.reason === 'not readable' ? 'the snapshot script could not read it (not readable; run it as root)' : `the snapshot script did not read it (${base.owned.reason ?? 'unread'})`;
      unknown.push(`tags, features, services, properties, devices and files an earlier qpc run wrote and this policy no longer has: provision.sh takes them back from its record /var/lib/qpc/owned, and ${why} (policy and Whonix files are told by their first line)`);
    }
  }
  const record: RecordPlan = {
    status: base.owned.status,
    ...(base.owned.reason !== undefined ? { reason: base.owned.reason } : {}),
    items: base.owned.items.length,
    stale: stale.length,
    left: leftAlone(base, input),
  };

  const visit = new Set<string>([...qubes.map((q) => q.name), ...whonix.map((g) => g.gateway), ...qubeFiles.map((f) => f.qube)]);
  for (const item of stale) if (item.kind !== 'policy') visit.add(item.qube);
  for (const f of provision.deploys) {
    if (gatewayFileKey(f.path) === undefined || base.whonix[f.qube] === undefined) visit.add(f.qube);
  }

  const changes = patches.length > 0;
  return { machine, changes, patches, qubes, unchangedQubes, globalPrefs, policyFiles, untouchedPolicyFiles, whonix, qubeFiles, record, unmanagedQubes, blockers, unknown, visit: [...visit].sort(compare), desired };
}

/** The stale items of one qube the plan changes, as `KIND NAME` (`tag anon-vm`); those already gone are not changes. */
function staleChanges(items: readonly StaleItem[], facets: ReadonlyMap<string, ReadonlySet<string>> | undefined): string[] {
  const has = (facet: string, key: string): boolean => facets?.get(facet)?.has(key) === true;
  const out: string[] = [];
  for (const item of items) {
    switch (item.kind) {
      case 'tag': if (has('tags', item.tag)) out.push(`tag ${item.tag}`); break;
      case 'feature':
        if (item.key.startsWith('service.') ? has('services', item.key.slice(8)) : has('features', item.key)) out.push(`feature ${item.key}`);
        break;
      case 'service': if (has('services', item.name)) out.push(`service ${item.name}`); break;
      case 'pref': if (has('prefs', item.property)) out.push(`pref ${item.property}`); break;
      case 'device': if (has('devices', `${item.devclass} ${item.device}`)) out.push(`device ${item.devclass} ${item.device}`); break;
      default: break;
    }
  }
  return out;
}
