/**
 * The machine as the plan sees it (docs/plan.md): plain records keyed by
 * name, so that immer can draft them and every patch names what it changes
 * by a readable path (`qubes/vault/prefs/netvm`). Built from the snapshot's
 * MachineState (compiler/snapshot/), or from `internal.GetSystemInfo` for
 * the qrexec part alone; frozen deeply, as immer freezes what it produces.
 */
import { freeze } from 'immer';
import type { MachineState, OwnershipRecord, QubeState } from '../snapshot/read.js';
import type { SystemInfo } from '../qrexec/types.js';

/** One property: its value as `qvm-prefs QUBE PROP` prints it (`''` for none), and whether it is Qubes' default. */
export interface PrefView {
  /** null: Qubes' default whose value the plan does not know (a property reset to its default). */
  readonly value: string | null;
  readonly isDefault: boolean;
}

/** A persistent device assignment: `CLASS BACKEND:DEVID` → its options. */
export interface DeviceView {
  readonly options: Readonly<Record<string, string>>;
}

export interface QubeView {
  readonly class: string;
  readonly label: string | null;
  readonly template: string | null;
  readonly running: boolean;
  readonly prefs: Readonly<Record<string, PrefView>>;
  /** Tag → true (a set whose members are patch paths). */
  readonly tags: Readonly<Record<string, true>>;
  readonly features: Readonly<Record<string, string>>;
  readonly services: Readonly<Record<string, boolean>>;
  /** Keyed `CLASS BACKEND:DEVID` (`pci dom0:00_14.3`). */
  readonly devices: Readonly<Record<string, DeviceView>>;
}

/** The Whonix files of one gateway: `torrc.d/NAME` and `whonix_firewall.d/NAME` → text. */
export type GatewayFiles = Readonly<Record<string, string>>;

/** What the plan compares; `known` says which parts the source recorded. */
export interface MachineView {
  readonly qubes: Readonly<Record<string, QubeView>>;
  readonly globalPrefs: Readonly<Record<string, PrefView>>;
  /** Path under /etc/qubes/policy.d → text. */
  readonly policy: Readonly<Record<string, string>>;
  /** The gateways whose files were read → their files. */
  readonly whonix: Readonly<Record<string, GatewayFiles>>;
  /**
   * Files qpc pushed into qubes, as its ownership record names them (qube →
   * absolute path → true): the snapshot does not read them, the record is
   * what is known of them. A file of a gateway directory the snapshot read
   * is under `whonix` instead.
   */
  readonly pushed: Readonly<Record<string, Readonly<Record<string, true>>>>;
  /** The ownership record provisioning takes stale state back from (docs/snapshot.md). */
  readonly owned: OwnershipRecord;
}

/** Which parts of the machine its source recorded: a snapshot records all; a system info only qubes, classes, tags and default disposables. */
export type Coverage = 'snapshot' | 'system-info';

/** A record with no prototype, so that no key (a feature named `__proto__`) is special. */
export function record<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const r = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) r[k] = v;
  return r;
}

/**
 * qvm-prefs prints an empty VM property (netvm, default_dispvm, template,
 * …) as `None` in its listing and as an empty line for one property; the
 * plan compares what provision.sh compares, the latter.
 */
function prefValue(name: string, value: string): string {
  return value === 'None' && name !== 'kernelopts' ? '' : value;
}

function qubeView(q: QubeState): QubeView {
  return {
    class: q.class,
    label: q.label,
    template: q.template,
    running: q.running,
    prefs: record([...q.prefs].map(([k, p]) => [k, { value: prefValue(k, p.value), isDefault: p.isDefault }] as const)),
    tags: record(q.tags.map((t) => [t, true] as const)),
    // qvm-features lists the services too, as `service.NAME` features: they are the services here.
    features: record([...q.features].filter(([k]) => !k.startsWith('service.'))),
    services: record(q.services),
    devices: record(q.devices.map((d) => [`${d.devclass} ${d.device}`, { options: record(d.options) }] as const)),
  };
}

/** The directories of a Whonix gateway the snapshot records, as absolute paths in the gateway → the snapshot's prefix. */
export const gatewayDirectories: readonly (readonly [string, string])[] = [
  ['/usr/local/etc/torrc.d/', 'torrc.d/'],
  ['/usr/local/etc/whonix_firewall.d/', 'whonix_firewall.d/'],
];

/** The snapshot's name (`torrc.d/50_qpc.conf`) of a file pushed to `path` in a gateway; undefined outside the recorded directories. */
export function gatewayFileKey(path: string): string | undefined {
  for (const [dir, key] of gatewayDirectories) if (path.startsWith(dir) && !path.slice(dir.length).includes('/')) return key + path.slice(dir.length);
  return undefined;
}

/** The files of the record's `file` items that the snapshot did not read: qube → path → true. */
export function pushedOf(owned: OwnershipRecord, whonix: Readonly<Record<string, GatewayFiles>>): Record<string, Record<string, true>> {
  const pushed = record<Record<string, true>>();
  for (const item of owned.items) {
    if (item.kind !== 'file' || (gatewayFileKey(item.path) !== undefined && item.qube in whonix)) continue;
    (pushed[item.qube] ??= record<true>())[item.path] = true;
  }
  return pushed;
}

/** The snapshot's machine as the plan's base state, frozen. */
export function viewOfSnapshot(state: MachineState): MachineView {
  const whonix = record<GatewayFiles>();
  for (const g of state.whonix.values()) {
    whonix[g.name] = record([...[...g.torrc].map(([n, t]) => [`torrc.d/${n}`, t] as const), ...[...g.firewall].map(([n, t]) => [`whonix_firewall.d/${n}`, t] as const)]);
  }
  return freeze(
    {
      qubes: record([...state.qubes.values()].map((q) => [q.name, qubeView(q)] as const)),
      globalPrefs: record([...state.globalPrefs].map(([k, p]) => [k, { value: prefValue(k, p.value), isDefault: p.isDefault }] as const)),
      policy: record(state.policy.map((f) => [f.path, f.text] as const)),
      whonix,
      pushed: pushedOf(state.ownership, whonix),
      owned: { ...state.ownership, items: [...state.ownership.items] },
    },
    true,
  );
}

/**
 * `internal.GetSystemInfo`'s machine as the base state of a plan of the
 * qrexec part alone: each qube's class, tags, `default_dispvm` and
 * `template_for_dispvms`; no policy files, no other property.
 */
export function viewOfSystemInfo(info: SystemInfo): MachineView {
  const qubes = record<QubeView>();
  for (const d of info.domains.values()) {
    const prefs = record<PrefView>();
    if (d.type !== 'AdminVM') prefs.default_dispvm = { value: d.defaultDispvm ?? '', isDefault: d.defaultDispvmIsDefault === true };
    if (d.type === 'AppVM' || d.type === 'StandaloneVM') prefs.template_for_dispvms = { value: d.templateForDispvms ? 'True' : 'False', isDefault: !d.templateForDispvms };
    qubes[d.name] = {
      class: d.type,
      label: null,
      template: null,
      running: d.running === true,
      prefs,
      tags: record(d.tags.map((t) => [t, true] as const)),
      features: record(d.internal !== undefined ? [['internal', d.internal] as const] : []),
      services: record(),
      devices: record(),
    };
  }
  return freeze({ qubes, globalPrefs: record(), policy: record(), whonix: record(), pushed: record(), owned: { status: 'not-recorded', items: [] } }, true);
}
