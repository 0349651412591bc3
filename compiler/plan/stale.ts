/**
 * Stale state (docs/plan.md): what provisioning takes back because an
 * earlier qpc run wrote it, as the machine's ownership record says, and this
 * policy no longer has it. Mirrors provision.sh's own shell functions
 * (targets/provision/ownership.ts: `stale_items`, `prune_qubes`,
 * `prune_policies`; preamble.sh: `prune_files`, `keep_files`): an item is
 * stale when this run does not own the same thing again (a policy file by
 * its name, whatever its sha256); a stale item of a qube the machine does
 * not have is dropped, not acted on.
 */
import type { Draft } from 'immer';
import { sha256 } from '../hash.js';
import { ownedLine, type OwnedItem } from '../snapshot/read.js';
import type { PlanInput } from './input.js';
import { gatewayFileKey, type MachineView } from './state.js';

/** A stale policy file: its name and every sha256 the record gives it (provision.sh merges them). */
export interface StalePolicy {
  readonly kind: 'policy';
  readonly name: string;
  readonly sha256s: readonly string[];
}

export type StaleItem = Exclude<OwnedItem, { readonly kind: 'policy' }> | StalePolicy;

/** Whether the record holds what provisioning takes stale state back from: a copy, or dom0's word that it has none. */
export function recordKnown(view: MachineView): boolean {
  return view.owned.status === 'recorded' || view.owned.status === 'absent';
}

/** The line of the record this run writes for an item, the key `stale_items` compares (a policy file by name alone). */
function ownKey(item: OwnedItem | StaleItem): string {
  return item.kind === 'policy' ? `policy ${item.name}` : ownedLine(item);
}

/**
 * The keys of what this run owns: every tag, feature, service, device and
 * resettable property it sets on a qube of the policy, every policy file it
 * installs, every file it pushes; and (keep_files) the recorded files of a
 * qube the policy does not declare, which stay recorded while the qube exists.
 */
function ownedByRun(base: MachineView, input: PlanInput): Set<string> {
  const { model, provision } = input;
  const keys = new Set<string>();
  const byName = new Map(model.qubes.map((q) => [q.name, q]));
  for (const name of provision.order) {
    const q = byName.get(name);
    if (q === undefined) continue;
    for (const t of q.tags) keys.add(`tag ${name} ${t}`);
    for (const f of q.features) keys.add(`feature ${name} ${f.key}`);
    for (const s of q.services) keys.add(`service ${name} ${s.name}`);
    for (const d of q.devices) if (d.id !== undefined) keys.add(`device ${name} ${d.deviceClass} ${d.id}`);
    for (const p of provision.prefs.get(name) ?? []) if (p.value !== null && provision.resettablePrefs.includes(p.name)) keys.add(`pref ${name} ${p.name}`);
  }
  for (const f of provision.policyFiles) keys.add(`policy ${f.name}`);
  for (const f of provision.deploys) keys.add(`file ${f.qube} ${f.path}`);
  const declared = new Set(model.qubes.filter((q) => q.klass !== 'AdminVM').map((q) => q.name));
  for (const item of base.owned.items) if (item.kind === 'file' && !declared.has(item.qube) && item.qube in base.qubes) keys.add(ownKey(item));
  return keys;
}

/**
 * The record's items this run does not own, once each, in the record's
 * order; a policy file's lines merged into one item with every sha256, after
 * the others (as `stale_items` prints them). Empty without a record.
 */
export function staleItems(base: MachineView, input: PlanInput): StaleItem[] {
  if (!recordKnown(base)) return [];
  const owned = ownedByRun(base, input);
  const out: StaleItem[] = [];
  const policies = new Map<string, string[]>();
  for (const item of base.owned.items) {
    if (owned.has(ownKey(item))) continue;
    if (item.kind === 'policy') {
      const shas = policies.get(item.name) ?? [];
      policies.set(item.name, shas);
      shas.push(item.sha256);
    } else out.push(item);
  }
  for (const [name, sha256s] of policies) out.push({ kind: 'policy', name, sha256s });
  return out;
}

/** Whether a policy file holds bytes qpc installed under its name, so that provision.sh removes it. */
export function installedByQpc(text: string, item: StalePolicy): boolean {
  return item.sha256s.includes(sha256(text));
}

/**
 * Takes the stale items back on the draft of the machine, as provision.sh
 * does after it applied the policy: tags removed, features and services
 * unset, resettable properties reset to Qubes' default (unless at it),
 * devices unassigned, policy files removed while they hold bytes qpc
 * installed, files of the policy's qubes removed. Only in qubes that exist.
 */
export function takeBack(draft: Draft<MachineView>, stale: readonly StaleItem[], input: PlanInput): void {
  const declared = new Set(input.model.qubes.filter((q) => q.klass !== 'AdminVM').map((q) => q.name));
  for (const item of stale) {
    if (item.kind === 'policy') {
      const path = `${item.name}.policy`;
      const text = draft.policy[path];
      if (text !== undefined && installedByQpc(text, item)) delete draft.policy[path];
      continue;
    }
    const q = draft.qubes[item.qube];
    if (q === undefined) continue;
    switch (item.kind) {
      case 'tag':
        if (q.tags[item.tag] === true) delete q.tags[item.tag];
        break;
      case 'feature':
        // qvm-features lists the services as service.NAME features: the plan keeps them as services.
        if (item.key.startsWith('service.')) { if (q.services[item.key.slice(8)] !== undefined) delete q.services[item.key.slice(8)]; }
        else if (q.features[item.key] !== undefined) delete q.features[item.key];
        break;
      case 'service':
        if (q.services[item.name] !== undefined) delete q.services[item.name];
        break;
      case 'pref':
        if (q.prefs[item.property]?.isDefault !== true) q.prefs[item.property] = { value: null, isDefault: true };
        break;
      case 'device': {
        const key = `${item.devclass} ${item.device}`;
        if (q.devices[key] !== undefined) delete q.devices[key];
        break;
      }
      case 'file': {
        if (!declared.has(item.qube)) break;
        const key = gatewayFileKey(item.path);
        const gw = draft.whonix[item.qube];
        if (key !== undefined && gw !== undefined) { if (gw[key] !== undefined) delete gw[key]; }
        else if (draft.pushed[item.qube]?.[item.path] === true) {
          delete draft.pushed[item.qube]![item.path];
          if (Object.keys(draft.pushed[item.qube]!).length === 0) delete draft.pushed[item.qube];
        }
        break;
      }
    }
  }
}

/**
 * What provision.sh leaves of the stale items and says so: a policy file
 * changed since qpc installed it, a file qpc pushed into a qube the policy
 * does not declare (qpc starts no qube it does not configure).
 */
export function leftAlone(base: MachineView, input: PlanInput): string[] {
  if (!recordKnown(base)) return [];
  const out: string[] = [];
  for (const item of staleItems(base, input)) {
    if (item.kind !== 'policy') continue;
    const text = base.policy[`${item.name}.policy`];
    if (text !== undefined && !installedByQpc(text, item)) out.push(`/etc/qubes/policy.d/${item.name}.policy: qpc installed it and the policy no longer has it, but it was changed since; remove it by hand if nobody needs it`);
  }
  const declared = new Set(input.model.qubes.filter((q) => q.klass !== 'AdminVM').map((q) => q.name));
  for (const item of base.owned.items) {
    if (item.kind === 'file' && !declared.has(item.qube) && item.qube in base.qubes) out.push(`${item.qube}:${item.path}: qpc pushed it, but ${item.qube} is not in the policy and qpc does not start it; remove the file in ${item.qube} by hand`);
  }
  return out;
}
