/**
 * Reads the directory `qpc snapshot`'s script writes (docs/snapshot.md) into
 * a deeply read-only MachineState. Every read goes through the CompilerHost;
 * missing or malformed pieces give diagnostics (QP5001) and the rest is read.
 */
import { ioReason, type CompilerHost } from '../host.js';
import { sha256 } from '../hash.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DomainInfo, SystemInfo } from '../qrexec/types.js';

/** The snapshot format this qpc writes and reads (the first line of `version`: `qpc-snapshot 1`). */
export const SNAPSHOT_FORMAT = 1;

/** The device classes the snapshot lists (`qvm-device CLASS list`). */
export const DEVICE_CLASSES: readonly string[] = ['pci', 'usb', 'block', 'mic'];

/** One line of `qvm-prefs` or `qubes-prefs`. */
export interface Pref {
  readonly value: string;
  /** `D` in qvm-prefs: Qubes' default, not set on the qube. */
  readonly isDefault: boolean;
}

/** One line of `qvm-device CLASS list`'s USED BY column: the device assigned to a qube. */
export interface DeviceAssignment {
  /** pci, usb, block, mic. */
  readonly devclass: string;
  /** `BACKEND:DEVID`. */
  readonly device: string;
  readonly description: string;
  /** The assignment's options (`no-strict-reset`, `permissive`, ...), as qvm-device prints them. */
  readonly options: ReadonlyMap<string, string>;
}

/** One qube as the snapshot recorded it (docs/snapshot.md). */
export interface QubeState {
  readonly name: string;
  readonly class: string;
  readonly running: boolean;
  readonly label: string | null;
  readonly template: string | null;
  readonly netvm: string | null;
  readonly providesNetwork: boolean;
  readonly templateForDispvms: boolean;
  readonly defaultDispvm: string | null;
  readonly prefs: ReadonlyMap<string, Pref>;
  readonly tags: readonly string[];
  readonly features: ReadonlyMap<string, string>;
  readonly services: ReadonlyMap<string, boolean>;
  readonly devices: readonly DeviceAssignment[];
}

/** A file of /etc/qubes/policy.d, with the sha256 of the manifest. */
export interface SnapshotFile {
  readonly path: string;
  readonly text: string;
  readonly sha256: string;
}

/** The user configuration read from one running Whonix gateway. */
export interface WhonixGateway {
  readonly name: string;
  /** File name → text, from /usr/local/etc/torrc.d. */
  readonly torrc: ReadonlyMap<string, string>;
  /** File name → text, from /usr/local/etc/whonix_firewall.d. */
  readonly firewall: ReadonlyMap<string, string>;
}

/**
 * One line of the ownership record dom0 keeps (`/var/lib/qpc/owned`): what
 * an earlier qpc provisioning run wrote on the machine. Names only, never
 * values.
 */
export type OwnedItem =
  | { readonly kind: 'policy'; readonly name: string; readonly sha256: string }
  | { readonly kind: 'tag'; readonly qube: string; readonly tag: string }
  | { readonly kind: 'feature'; readonly qube: string; readonly key: string }
  | { readonly kind: 'service'; readonly qube: string; readonly name: string }
  | { readonly kind: 'pref'; readonly qube: string; readonly property: string }
  | { readonly kind: 'file'; readonly qube: string; readonly path: string }
  | { readonly kind: 'device'; readonly qube: string; readonly devclass: string; readonly device: string };

/**
 * The ownership record as the snapshot holds it. `recorded`: its items (in
 * the record's order, each once); `absent`: dom0 has none (no qpc run has
 * changed the machine), an empty record; `unread`: dom0 has one the script
 * could not read (`reason`); `not-recorded`: the snapshot predates the
 * record.
 */
export interface OwnershipRecord {
  readonly status: 'recorded' | 'absent' | 'unread' | 'not-recorded';
  readonly reason?: string;
  readonly items: readonly OwnedItem[];
}

const qubeName = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const plainName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** The shapes of the record's lines: each field a name, as provisioning's allow-lists let through. */
const itemShapes: Readonly<Record<string, readonly RegExp[]>> = {
  policy: [/^[0-9a-z_-]+$/, /^[0-9a-f]{64}$/],
  tag: [qubeName, /^[A-Za-z0-9_-]+$/],
  feature: [qubeName, plainName],
  service: [qubeName, plainName],
  pref: [qubeName, /^[a-z_]+$/],
  file: [qubeName, /^\/[A-Za-z0-9._@+/-]*$/],
  device: [qubeName, /^[a-z]+$/, /^[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z0-9_][A-Za-z0-9_.+:-]*$/],
};

/**
 * The lines of an ownership record as typed items. Comments (`#`) and blank
 * lines are skipped, as provisioning skips them; a line of another shape is
 * `bad` and left out. Never trusts the text: every field must be a name.
 */
export function parseOwnership(text: string, bad: (why: string) => void): OwnedItem[] {
  const items: OwnedItem[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const w = line.split(' ');
    // Own keys only: a line `toString …` is no kind.
    const shape = Object.hasOwn(itemShapes, w[0]!) ? itemShapes[w[0]!] : undefined;
    if (shape === undefined || w.length !== shape.length + 1 || shape.some((re, k) => !re.test(w[k + 1]!))) {
      bad(`line ${i + 1} is not an ownership item: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    if (w[0] === 'file' && w[2]!.split('/').some((c, k) => k > 0 && (c === '' || c === '.' || c === '..'))) {
      bad(`line ${i + 1} names a file that is not a plain absolute path: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    if (seen.has(line)) return;
    seen.add(line);
    const [kind, a, b, c] = w as [string, string, string, string | undefined];
    switch (kind) {
      case 'policy': items.push({ kind, name: a, sha256: b }); break;
      case 'tag': items.push({ kind, qube: a, tag: b }); break;
      case 'feature': items.push({ kind, qube: a, key: b }); break;
      case 'service': items.push({ kind, qube: a, name: b }); break;
      case 'pref': items.push({ kind, qube: a, property: b }); break;
      case 'file': items.push({ kind, qube: a, path: b }); break;
      default: items.push({ kind: 'device', qube: a, devclass: b, device: c! });
    }
  });
  return items;
}

/** The record's line of an item, as provisioning writes it. */
export function ownedLine(item: OwnedItem): string {
  switch (item.kind) {
    case 'policy': return `policy ${item.name} ${item.sha256}`;
    case 'tag': return `tag ${item.qube} ${item.tag}`;
    case 'feature': return `feature ${item.qube} ${item.key}`;
    case 'service': return `service ${item.qube} ${item.name}`;
    case 'pref': return `pref ${item.qube} ${item.property}`;
    case 'file': return `file ${item.qube} ${item.path}`;
    case 'device': return `device ${item.qube} ${item.devclass} ${item.device}`;
  }
}

/** The whole recorded machine; deeply read-only. */
export interface MachineState {
  readonly format: number;
  /** The text of /etc/qubes-release. */
  readonly release: string;
  readonly date: string;
  /** sha256 of the `files.sha256` manifest: the drift check compares it. */
  readonly stateHash: string;
  /** The text of `files.sha256` (`HASH  PATH` lines): with it provision.sh names what changed since. */
  readonly manifest: string;
  /** The script ran with `--start-gateways` (`start-gateways yes` in `version`; older snapshots do not say: false). */
  readonly startedGateways: boolean;
  readonly qubes: ReadonlyMap<string, QubeState>;
  readonly globalPrefs: ReadonlyMap<string, Pref>;
  /** Path under /etc/qubes/policy.d, sorted. */
  readonly policy: readonly SnapshotFile[];
  readonly whonix: ReadonlyMap<string, WhonixGateway>;
  /** Gateways whose files were not read, with the reason. */
  readonly skippedGateways: readonly string[];
  /** The ownership record of qpc provisioning (`owned`, `owned.unread`). */
  readonly ownership: OwnershipRecord;
}

/** What `readSnapshot` returns: the state, and what was missing or malformed (QP5001). */
export interface SnapshotResult {
  readonly state: MachineState;
  readonly diagnostics: readonly Diagnostic[];
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
const none = (v: string | undefined): string | null => (v === undefined || v === '-' || v === '' ? null : v);

function deepFreeze<T>(v: T): T {
  if (v instanceof Map) {
    for (const x of v.values()) deepFreeze(x);
    // Object.freeze does not stop a Map's methods: shadow them (not enumerable, so comparisons ignore them).
    const refuse = (): never => { throw new TypeError('a snapshot is read-only'); };
    for (const k of ['set', 'delete', 'clear']) Object.defineProperty(v, k, { value: refuse, enumerable: false });
  } else if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return Object.freeze(v);
}

/** `NAME  D  VALUE` / `NAME  -  VALUE` lines of qvm-prefs and qubes-prefs. */
function parsePrefs(text: string, bad: (why: string) => void): Map<string, Pref> {
  const m = new Map<string, Pref>();
  for (const l of lines(text)) {
    const r = /^(\S+)\s+([-DU])(?: {2}(.*))?$/.exec(l);
    if (r === null) { bad(`not a property line: ${JSON.stringify(l.slice(0, 80))}`); continue; }
    if (r[2] === 'U') continue; // no value: the property is not set and has no default
    m.set(r[1]!, { value: r[3] ?? '', isDefault: r[2] === 'D' });
  }
  return m;
}

function parsePairs(text: string, bad: (why: string) => void): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines(text)) {
    const r = /^(\S+)(?:\s+(.*))?$/.exec(l);
    if (r === null) { bad(`not a feature line: ${JSON.stringify(l.slice(0, 80))}`); continue; }
    m.set(r[1]!, (r[2] ?? '').trim());
  }
  return m;
}

/** Reads the snapshot directory `dir` through `host`. Never throws: what cannot be read is a diagnostic, and the rest is read. */
export function readSnapshot(dir: string, host: CompilerHost): SnapshotResult {
  const diagnostics: Diagnostic[] = [];
  const at = (p: string): string => `${dir.replace(/\/+$/, '')}/${p}`;
  const fail = (p: string, reason: string): void => { diagnostics.push(diag('QP5001', undefined, { path: at(p), reason })); };
  const read = (p: string): string | undefined => {
    try {
      const t = host.readFile(at(p));
      if (t.includes('\0')) { fail(p, 'holds NUL characters: not a snapshot file'); return undefined; }
      return t;
    } catch (e) {
      fail(p, e instanceof Error ? e.message : String(e));
      return undefined;
    }
  };

  // The manifest: every collected file with its sha256.
  const manifestText = read('files.sha256') ?? '';
  const manifest = new Map<string, string>();
  for (const l of lines(manifestText)) {
    const r = /^([0-9a-f]{64}) [ *](.+)$/.exec(l);
    if (r === null || r[2]!.split('/').some((c) => c === '..' || c === '')) { fail('files.sha256', `not a manifest line: ${JSON.stringify(l.slice(0, 80))}`); continue; }
    manifest.set(r[2]!, r[1]!);
  }
  const stateHash = sha256(manifestText);
  const recorded = read('state.sha256');
  if (recorded !== undefined && recorded.trim() !== stateHash) fail('state.sha256', 'does not match the manifest `files.sha256`');
  const collected = (p: string): string | undefined => {
    const want = manifest.get(p);
    if (want === undefined) { fail(p, 'missing from the manifest `files.sha256`'); return undefined; }
    const t = read(p);
    if (t !== undefined && sha256(t) !== want) fail(p, 'its sha256 differs from the manifest `files.sha256`');
    return t;
  };

  let format = 0, release = '', date = '', startedGateways = false;
  const header = read('version');
  if (header !== undefined) {
    const h = lines(header);
    const f = /^qpc-snapshot (\d+)$/.exec(h[0] ?? '');
    if (f === null) fail('version', 'not a qpc snapshot header');
    else if (Number(f[1]) !== SNAPSHOT_FORMAT) fail('version', `format ${f[1]}, this qpc reads format ${SNAPSHOT_FORMAT}`);
    else format = SNAPSHOT_FORMAT;
    for (const l of h.slice(1)) {
      if (l.startsWith('release ')) release = l.slice(8);
      else if (l.startsWith('date ')) date = l.slice(5);
      else if (l === 'start-gateways yes') startedGateways = true;
    }
  }

  // Devices: `BACKEND:DEVID  DESCRIPTION  USED BY` (column -t), USED BY = `Q (k=v, k=v), Q`.
  const devices = new Map<string, DeviceAssignment[]>();
  for (const devclass of DEVICE_CLASSES) {
    const p = `devices/${devclass}.txt`;
    for (const l of lines(collected(p) ?? '')) {
      const cols = l.trim().split(/ {2,}/);
      const device = cols[0]!;
      if (!/^[A-Za-z][\w.-]*:\S+$/.test(device) || cols.length > 3) { fail(p, `not a device line: ${JSON.stringify(l.slice(0, 80))}`); continue; }
      const usedBy = cols.length === 3 ? cols[2]! : '';
      for (const m of usedBy.matchAll(/([A-Za-z][\w.-]*)(?: \(([^)]*)\))?/g)) {
        const options = new Map<string, string>();
        for (const kv of (m[2] ?? '').split(', ').filter((x) => x !== '')) {
          const eq = kv.indexOf('=');
          options.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
        }
        const list = devices.get(m[1]!) ?? [];
        devices.set(m[1]!, list);
        list.push({ devclass, device, description: cols[1] ?? '', options });
      }
    }
  }
  const qubes = new Map<string, QubeState>();
  for (const l of lines(collected('qvm-ls.txt') ?? '')) {
    const c = l.split('|');
    if (c.length !== 9 || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(c[0]!)) { fail('qvm-ls.txt', `not a qvm-ls line: ${JSON.stringify(l.slice(0, 80))}`); continue; }
    const name = c[0]!;
    const q = (f: string): string | undefined => (manifest.has(`qubes/${name}.${f}`) ? collected(`qubes/${name}.${f}`) : (fail(`qubes/${name}.${f}`, 'missing'), undefined));
    const bad = (f: string) => (why: string) => fail(`qubes/${name}.${f}`, why);
    qubes.set(name, {
      name,
      class: c[1]!,
      running: c[2] === 'Running',
      label: none(c[3]),
      template: none(c[4]),
      netvm: none(c[5]),
      providesNetwork: c[6] === 'True',
      templateForDispvms: c[7] === 'True',
      defaultDispvm: none(c[8]),
      prefs: parsePrefs(q('prefs') ?? '', bad('prefs')),
      tags: lines(q('tags') ?? '').map((t) => t.trim()),
      features: parsePairs(q('features') ?? '', bad('features')),
      services: new Map([...parsePairs(q('services') ?? '', bad('services'))].map(([k, v]) => [k, v === 'on' || v === '1'])),
      devices: devices.get(name) ?? [],
    });
  }
  const globalPrefs = parsePrefs(collected('qubes-prefs.txt') ?? '', (why) => fail('qubes-prefs.txt', why));

  const policy: SnapshotFile[] = [];
  const whonix = new Map<string, { name: string; torrc: Map<string, string>; firewall: Map<string, string> }>();
  for (const [p, hash] of [...manifest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (p.startsWith('policy.d/')) {
      const text = collected(p);
      if (text !== undefined) policy.push({ path: p.slice('policy.d/'.length), text, sha256: hash });
      continue;
    }
    const w = /^whonix\/([^/]+)\/(torrc\.d|whonix_firewall\.d)\/([^/]+)$/.exec(p);
    if (w === null) continue;
    const text = collected(p);
    if (text === undefined) continue;
    const g = whonix.get(w[1]!) ?? { name: w[1]!, torrc: new Map(), firewall: new Map() };
    whonix.set(w[1]!, g);
    (w[2] === 'torrc.d' ? g.torrc : g.firewall).set(w[3]!, text);
  }
  const skippedGateways = lines(collected('whonix/skipped') ?? '').map((l) => l.trim());

  const ownership = readOwnership(manifest, collected, fail);

  const state: MachineState = { format, release, date, stateHash, manifest: manifestText, startedGateways, qubes, globalPrefs, policy, whonix, skippedGateways, ownership };
  return { state: deepFreeze(state), diagnostics };
}

/**
 * The record from `owned` (a copy of dom0's) or `owned.unread` (why there is
 * none); neither: a snapshot older than the record. Both: a snapshot no
 * script writes, so the record is not trusted.
 */
function readOwnership(manifest: ReadonlyMap<string, string>, collected: (p: string) => string | undefined, fail: (p: string, reason: string) => void): OwnershipRecord {
  const copy = manifest.has('owned');
  const unread = manifest.has('owned.unread');
  if (copy && unread) {
    fail('owned.unread', 'the snapshot holds both a copy of the ownership record and the reason it has none');
    return { status: 'unread', reason: 'the snapshot holds both a copy and the reason it has none', items: [] };
  }
  if (copy) {
    const text = collected('owned');
    if (text === undefined) return { status: 'unread', reason: 'the copy cannot be read', items: [] };
    return { status: 'recorded', items: parseOwnership(text, (why) => fail('owned', why)) };
  }
  if (!unread) return { status: 'not-recorded', items: [] };
  const reason = (collected('owned.unread') ?? '').trim();
  if (reason === 'absent') return { status: 'absent', items: [] };
  if (reason !== 'not readable' && reason !== 'not a regular file') fail('owned.unread', `not a reason the script writes: ${JSON.stringify(reason.slice(0, 80))}`);
  return { status: 'unread', reason, items: [] };
}

/** The machine's `internal.GetSystemInfo` (reference §1.7), as the evaluator reads it. */
export function systemInfoOf(state: MachineState): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  for (const q of state.qubes.values()) {
    const dd = q.prefs.get('default_dispvm');
    const internal = q.features.get('internal');
    domains.set(q.name, {
      name: q.name,
      type: q.class,
      tags: [...q.tags],
      defaultDispvm: q.defaultDispvm,
      ...(dd?.isDefault === true ? { defaultDispvmIsDefault: true } : {}),
      templateForDispvms: q.templateForDispvms,
      ...(internal !== undefined ? { internal } : {}),
      running: q.running,
    });
  }
  return { domains };
}

/**
 * The JSON of `internal.GetSystemInfo` / `qrexec-policy-graph --system-info`
 * (`{"domains": {NAME: {...}}}`) as SystemInfo, or the reason it is not one.
 */
export function systemInfoFromJson(text: string): SystemInfo | { readonly error: string } {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return { error: `not JSON: ${e instanceof Error ? e.message : String(e)}` }; }
  const doms = (v as { domains?: unknown } | null)?.domains;
  if (doms === null || typeof doms !== 'object' || Array.isArray(doms)) return { error: 'no "domains" object' };
  const domains = new Map<string, DomainInfo>();
  for (const [name, d] of Object.entries(doms as Record<string, unknown>)) {
    if (name.startsWith('uuid:')) continue; // R4.3's alias entries
    const o = (d ?? {}) as Record<string, unknown>;
    const tags = Array.isArray(o.tags) ? o.tags.filter((t): t is string => typeof t === 'string') : [];
    if (typeof o.type !== 'string') return { error: `domain ${JSON.stringify(name)} has no "type"` };
    domains.set(name, {
      name,
      type: o.type,
      tags,
      defaultDispvm: typeof o.default_dispvm === 'string' ? o.default_dispvm : null,
      templateForDispvms: o.template_for_dispvms === true,
      ...(typeof o.internal === 'string' ? { internal: o.internal } : {}),
      ...(typeof o.power_state === 'string' ? { running: o.power_state === 'Running' } : {}),
    });
  }
  return { domains };
}

/** The SystemInfo of a file's text, or QP5001 saying it is not the JSON of `internal.GetSystemInfo`. */
function systemInfoOfText(path: string, text: string): { readonly info?: SystemInfo; readonly diagnostics: readonly Diagnostic[] } {
  const info = systemInfoFromJson(text);
  return 'error' in info ? { diagnostics: [diag('QP5001', undefined, { path, reason: info.error })] } : { info, diagnostics: [] };
}

/**
 * A file with the JSON of `internal.GetSystemInfo` read through `host`: the
 * SystemInfo, or QP5001 saying why the file cannot be read or is not that
 * JSON. Never throws.
 */
export function readSystemInfoFile(path: string, host: CompilerHost): { readonly info?: SystemInfo; readonly diagnostics: readonly Diagnostic[] } {
  let text: string;
  try {
    text = host.readFile(path);
  } catch (e) {
    return { diagnostics: [diag('QP5001', undefined, { path, reason: ioReason(e) })] };
  }
  return systemInfoOfText(path, text);
}

/**
 * `--system-info PATH`: a directory `qpc snapshot` recorded (its qubes, with
 * what the snapshot lacks), or a file with the JSON of `internal.GetSystemInfo`.
 * No info, and QP5001, when the path is neither.
 */
export function readSystemInfo(path: string, host: CompilerHost): { readonly info?: SystemInfo; readonly diagnostics: readonly Diagnostic[] } {
  let text: string;
  try {
    text = host.readFile(path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EISDIR') return { diagnostics: [diag('QP5001', undefined, { path, reason: ioReason(e) })] };
    const r = readSnapshot(path, host);
    if (r.state.format === 0) return { diagnostics: [diag('QP5001', undefined, { path, reason: 'a directory, but not one `qpc snapshot` recorded (it has no snapshot header `version`)' })] };
    return { info: systemInfoOf(r.state), diagnostics: r.diagnostics };
  }
  return systemInfoOfText(path, text);
}
