/**
 * SOCKS bindings (DESIGN §4.7, §5): checks every app's binding against its
 * Tor gateway's listeners and allocates ports to `socks dedicated` apps,
 * stably: assignments recorded in the lock file are kept, new apps take free
 * ports, and no other app moves. Emits QP3020–QP3026.
 *
 * Facts (whonix-and-tor.md §2, §4): Whonix-Gateway pre-binds four custom
 * SocksPort groups, one per flag set {}, {IsolateDestAddr}, {IsolateDestPort}
 * and both; other flag sets need a listener on a port Whonix binds nowhere
 * (9112, 9113, 9116, 9119–9121, 9230 and up). Tor separates qubes by client
 * address, so a port need only be unique among the apps of one qube.
 *
 * The lock file is input like the policy: {@link checkLock} refuses every
 * entry the allocator could not have written (QP3026), at the entry.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { SocksAssignment } from '../model.js';
import { lastItem } from '../program.js';
import type { SourceFile, Span } from '../source.js';
import type { AppItem, ListenerItem } from '../syntax/ast.js';
import { isolateFlags } from './check-items.js';
import { qubeNameSyntax } from '../qubes-values.js';

export type { SocksAssignment };

/** Isolation flags the four pre-bound custom groups offer. */
const PRESET_FLAGS = new Set(['dest-addr', 'dest-port']);
/** Ports Whonix leaves unbound below 9230, in order of preference. */
const FREE_LOW_PORTS = [9112, 9113, 9116, 9119, 9120, 9121];
const FIRST_HIGH_PORT = 9230;
/** The largest qid whose address `10.137.x.y` Qubes can form (`vmid_to_ipv4`, reference xen.md §1.2). */
export const MAX_QID = 254 * 254 - 1;

/** A listener qpc adds to a Tor gateway for a flag set Whonix does not pre-bind. */
export interface ExtraListener {
  readonly gateway: string;
  readonly port: number;
  readonly isolate: readonly string[];
}

export interface Allocation {
  readonly apps: readonly SocksAssignment[];
  readonly listeners: readonly ExtraListener[];
}

/** The lock file's content: `qube/app` → port, the extra listeners per gateway, and each qube's number. */
export interface Lock {
  readonly apps: Readonly<Record<string, number>>;
  readonly listeners: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** qube → qid (the base of its address); older lock files have none. */
  readonly qubes: Readonly<Record<string, number>>;
}

export const emptyLock: Lock = { apps: {}, listeners: {}, qubes: {} };

interface PortEntry {
  readonly kind: string;
  readonly isolate: string;
  readonly custom: boolean;
  readonly local: boolean;
}

function flagsKey(flags: readonly string[]): string {
  return [...new Set(flags)].sort().join(' ');
}

/** The gateway's listeners by port. */
function portTable(listeners: readonly ListenerItem[]): Map<number, PortEntry> {
  const table = new Map<number, PortEntry>();
  for (const l of listeners) {
    const entry: PortEntry = {
      kind: l.listenerKind.text,
      isolate: flagsKey(l.isolate.map((w) => w.text)),
      custom: l.options.some((o) => o.text === 'custom'),
      local: l.options.some((o) => o.text === 'local'),
    };
    for (let p = l.from.value; p <= (l.to?.value ?? l.from.value); p++) if (!table.has(p)) table.set(p, entry);
  }
  return table;
}

function appKey(qube: string, app: string): string {
  return `${qube}/${app}`;
}

/** Serializes a lock canonically: sorted keys, two-space JSON, final newline. */
export function lockText(lock: Lock): string {
  const apps = Object.fromEntries(Object.entries(lock.apps).sort(([a], [b]) => (a < b ? -1 : 1)));
  const listeners = Object.fromEntries(
    Object.entries(lock.listeners)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([g, ports]) => [g, Object.fromEntries(Object.entries(ports).sort(([a], [b]) => Number(a) - Number(b)))]),
  );
  const qubes = Object.fromEntries(Object.entries(lock.qubes).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ version: 1, apps, listeners, qubes }, null, 2) + '\n';
}

/**
 * A lock file as read, before {@link checkLock}: the three maps, their
 * entries not yet checked.
 */
export interface RawLock {
  readonly apps: Readonly<Record<string, unknown>>;
  readonly listeners: Readonly<Record<string, unknown>>;
  readonly qubes: Readonly<Record<string, unknown>>;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a lock file; returns an error message instead when it is not one
 * (not JSON, not version 1, a section that is not a map). Its entries are
 * checked by {@link checkLock}.
 */
export function parseLock(text: string): RawLock | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (!isMap(v) || v.version !== 1) return 'not a version 1 qpc lock file';
  if (!isMap(v.apps)) return '`apps` must map `qube/app` to a port';
  if (!isMap(v.listeners)) return '`listeners` must map gateways to ports';
  if (v.qubes !== undefined && !isMap(v.qubes)) return '`qubes` must map qube names to numbers';
  // Lock files written before qube numbers were recorded have no `qubes`.
  return { apps: v.apps, listeners: v.listeners, qubes: v.qubes ?? {} };
}

const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;

/** Whether qpc may give a port to a listener of its own on a gateway with this table: one Whonix binds nowhere (whonix-and-tor.md §4). */
function freePort(t: ReadonlyMap<number, PortEntry>, p: number): boolean {
  return !t.has(p) && (FREE_LOW_PORTS.includes(p) || p >= FIRST_HIGH_PORT);
}

/** Whether qpc may give a port to a dedicated app behind a gateway with this table: a port of a pre-bound custom group, or a free one. */
function dedicatedPort(t: ReadonlyMap<number, PortEntry>, p: number): boolean {
  const e = t.get(p);
  return e ? e.kind === 'socks' && e.custom && !e.local : freePort(t, p);
}

/** What a port is on a gateway, for a finding: `Whonix's own socks listener`, `not a port qpc allocates`. */
function portUse(t: ReadonlyMap<number, PortEntry>, p: number, gw: string, what: string): string {
  const e = t.get(p);
  if (e) return `port ${p} is a ${e.local ? 'gateway-local ' : ''}${e.kind} listener that \`${gw}\` opens itself`;
  return `port ${p} is not a port qpc ${what}`;
}

const FREE_PORTS_TEXT = `${FREE_LOW_PORTS.slice(0, 3).join(', ')}, ${FREE_LOW_PORTS[3]}–${FREE_LOW_PORTS[FREE_LOW_PORTS.length - 1]}, ${FIRST_HIGH_PORT} and up`;

/**
 * The span of a key or a value of a lock file, by its path of keys. The text
 * is valid JSON (it parsed); as with `JSON.parse`, the last of duplicate keys
 * counts.
 */
function lockSpans(text: string): Map<string, { key: [number, number]; value: [number, number] }> {
  const out = new Map<string, { key: [number, number]; value: [number, number] }>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string[]): void => {
    ws();
    if (text[i] === '{' || text[i] === '[') {
      const object = text[i++] === '{';
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === '}' || text[i] === ']') break;
        if (n > 0) {
          i++; // ','
          ws();
        }
        let key = String(n);
        const keyStart = i;
        if (object) {
          key = str();
        }
        const keyEnd = i;
        if (object) {
          ws();
          i++; // ':'
          ws();
        }
        const valueStart = i;
        const inner = [...path, key];
        value(inner);
        out.set(inner.join('\0'), { key: [keyStart, object ? keyEnd : i], value: [valueStart, i] });
      }
      i++;
      return;
    }
    if (text[i] === '"') str();
    else while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
  };
  value([]);
  return out;
}

/**
 * Checks the entries of a lock file against what the allocator could have
 * written, and returns the lock of the entries that pass. A port outside the
 * gateway's custom groups and the ports Whonix leaves free, one of Whonix's
 * own listeners, a flag qpc does not know, a port two apps of a qube share,
 * a qube number twice or dom0's are each an error at the entry (QP3026), and
 * the entry is never used: a lock that moved an app to port 22 would
 * otherwise declare `+SocksPort …:22` on the gateway and open the port in its
 * firewall. `source` is the lock file, for the spans.
 */
export function checkLock(g: PolicyGraph, raw: RawLock, source: SourceFile | undefined, ctx: Reporter): Lock {
  let spans: ReturnType<typeof lockSpans> | undefined;
  const report = (path: readonly string[], on: 'key' | 'value', entry: string, problem: string, help: string) => {
    spans ??= source ? lockSpans(source.text) : new Map();
    const at = spans.get(path.join('\0'))?.[on];
    ctx.report(diag('QP3026', at && source ? source.span(at[0], at[1]) : undefined, { entry, problem }, { label: 'qpc never writes this', help }));
  };
  const tables = new Map<string, Map<number, PortEntry>>();
  const table = (gw: string) => {
    let t = tables.get(gw);
    if (!t) tables.set(gw, (t = portTable(g.listeners(gw))));
    return t;
  };
  const torGateways = g.allFacts().map((f) => f.decl.name).filter((n) => g.isTor(n));
  const anew = 'remove the entry to let qpc allocate it anew, or restore the lock file from version control';
  const portsHelp = `qpc gives dedicated apps a port of the gateway's pre-bound custom groups, or one Whonix leaves free (${FREE_PORTS_TEXT}); ${anew}`;

  const apps: Record<string, number> = {};
  const byQube = new Map<string, Map<number, string>>();
  for (const [key, v] of Object.entries(raw.apps)) {
    const entry = `\`${key}\` of \`apps\``;
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) >= 0 || !qubeNameSyntax.test(key.slice(0, slash))) {
      report(['apps', key], 'key', entry, 'the key is not `qube/app`', anew);
      continue;
    }
    if (!isPort(v)) {
      report(['apps', key], 'value', entry, `\`${JSON.stringify(v)}\` is not a port`, portsHelp);
      continue;
    }
    const qube = key.slice(0, slash);
    const f = g.facts(qube);
    const dedicated = f?.apps.find((a) => a.name.text === key.slice(slash + 1))?.socks?.mode === 'dedicated';
    const gw = dedicated && f?.netvm && g.isTor(f.netvm) ? f.netvm : undefined;
    // An entry of an app that is gone (or no longer dedicated) is dropped from the new lock, but must still be one qpc could have written.
    const could = gw !== undefined ? dedicatedPort(table(gw), v) : torGateways.length === 0 ? freePort(new Map(), v) : torGateways.some((x) => dedicatedPort(table(x), v));
    if (!could) {
      report(['apps', key], 'value', entry, gw !== undefined ? portUse(table(gw), v, gw, `allocates on \`${gw}\``) : `port ${v} is not a port qpc allocates`, portsHelp);
      continue;
    }
    let ports = byQube.get(qube);
    if (!ports) byQube.set(qube, (ports = new Map()));
    const first = ports.get(v);
    if (first !== undefined) {
      report(['apps', key], 'value', entry, `port ${v} is also \`${first}\`'s, and qpc never gives two apps of a qube one port`, anew);
      continue;
    }
    ports.set(v, key);
    apps[key] = v;
  }

  const listeners: Record<string, Record<string, string[]>> = {};
  for (const [gw, ports] of Object.entries(raw.listeners)) {
    if (!qubeNameSyntax.test(gw)) {
      report(['listeners', gw], 'key', `\`${gw}\` of \`listeners\``, 'the key is not a gateway name', anew);
      continue;
    }
    if (!isMap(ports)) {
      report(['listeners', gw], 'value', `\`${gw}\` of \`listeners\``, 'the value is not a map of ports to isolation flags', anew);
      continue;
    }
    const tor = g.isTor(gw);
    for (const [p, flags] of Object.entries(ports)) {
      const entry = `\`${p}\` of \`listeners\` › \`${gw}\``;
      const port = Number(p);
      if (!isPort(port) || String(port) !== p) {
        report(['listeners', gw, p], 'key', entry, `\`${p}\` is not a port`, portsHelp);
        continue;
      }
      if (!(tor ? freePort(table(gw), port) : freePort(new Map(), port))) {
        report(['listeners', gw, p], 'key', entry, tor ? portUse(table(gw), port, gw, `adds a listener on`) : `port ${port} is not a port qpc adds a listener on`, `qpc adds listeners only on ports Whonix leaves free (${FREE_PORTS_TEXT}); ${anew}`);
        continue;
      }
      if (!Array.isArray(flags) || !flags.every((x) => typeof x === 'string' && isolateFlags.includes(x))) {
        report(['listeners', gw, p], 'value', entry, 'the value is not a list of isolation flags', `qpc writes the flags of \`isolate\` (${isolateFlags.join(', ')}); ${anew}`);
        continue;
      }
      (listeners[gw] ??= {})[p] = flags as string[];
    }
  }

  const qubes: Record<string, number> = {};
  const owner = new Map<number, string>();
  for (const [name, q] of Object.entries(raw.qubes)) {
    const entry = `\`${name}\` of \`qubes\``;
    if (!qubeNameSyntax.test(name)) {
      report(['qubes', name], 'key', entry, 'the key is not a qube name', anew);
      continue;
    }
    const dom0 = g.facts(name)?.decl.form === 'adminvm' || (g.facts(name) === undefined && name === 'dom0');
    const problem =
      typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > MAX_QID
        ? `\`${JSON.stringify(q)}\` is not a qube number from 0 to ${MAX_QID}`
        : dom0 !== (q === 0)
          ? dom0
            ? 'dom0\'s number is 0'
            : '0 is dom0\'s number'
          : owner.has(q)
            ? `${q} is also \`${owner.get(q)}\`'s number`
            : undefined;
    if (problem !== undefined) {
      report(['qubes', name], 'value', entry, problem, `qpc numbers qubes from 1, each once; ${anew}`);
      continue;
    }
    if (q !== 0) owner.set(q as number, name);
    qubes[name] = q as number;
  }
  return { apps, listeners, qubes };
}

interface Pending {
  readonly qube: string;
  readonly app: AppItem;
  readonly gateway: string;
  readonly flags: string;
}

/** Checks bindings and allocates ports. Pure: the new lock is returned, not written. */
export function allocateSocks(g: PolicyGraph, previous: Lock, ctx: Reporter): { allocation: Allocation; lock: Lock } {
  const tables = new Map<string, Map<number, PortEntry>>();
  const table = (gw: string) => {
    let t = tables.get(gw);
    if (!t) tables.set(gw, (t = portTable(g.listeners(gw))));
    return t;
  };
  const assignments: SocksAssignment[] = [];
  /** Ports in use per qube (pinned, dedicated). */
  const used = new Map<string, Map<number, AppItem>>();
  /** Extra listeners per gateway: port → flags key. */
  const extra = new Map<string, Map<number, string>>();
  const pending: Pending[] = [];

  const usedIn = (q: string) => {
    let m = used.get(q);
    if (!m) used.set(q, (m = new Map()));
    return m;
  };
  const extraOf = (gw: string) => {
    let m = extra.get(gw);
    if (!m) extra.set(gw, (m = new Map()));
    return m;
  };
  // Extra listeners from the lock, where their port is still free on the gateway.
  for (const [gw, ports] of Object.entries(previous.listeners)) {
    if (!g.isTor(gw)) continue;
    for (const [p, flags] of Object.entries(ports)) if (!table(gw).has(Number(p))) extraOf(gw).set(Number(p), flagsKey(flags));
  }

  const qubes = g.allFacts().filter((f) => f.apps.length > 0).sort((a, b) => (a.decl.name < b.decl.name ? -1 : 1));
  for (const f of qubes) {
    const q = f.decl.name;
    const gw = f.netvm;
    const perApp = f.mode === 'tor' && (f.identity ? (lastItem(f.identity, 'ValueItem', 'isolation')?.value.text ?? 'per-app') : 'per-app') === 'per-app';
    for (const app of f.apps) {
      const s = app.socks;
      if (!s) continue;
      if (s.mode === 'none') {
        if (perApp && f.identity) ctx.report(diag('QP3024', s.span, { app: app.name.text, name: q, identity: f.identity.name }, { help: 'bind it with `socks dedicated` or `socks auth`', subject: q }));
        continue;
      }
      if (gw === null || !g.isTor(gw)) {
        ctx.report(diag('QP3025', s.span, { app: app.name.text, name: q }, { help: f.mode === 'tor' ? 'a Tor identity\'s qube must have its Tor gateway as netvm' : 'remove the `socks` binding', subject: q }));
        continue;
      }
      const t = table(gw);
      if (s.mode === 'port' || s.mode === 'auth') {
        const port = s.mode === 'port' ? s.port!.value : 9050;
        const at = s.mode === 'port' ? s.port!.span : s.modeSpan;
        const e = t.get(port);
        if (!e) {
          ctx.report(diag('QP3021', at, { port, gateway: gw }, { help: 'use `socks dedicated` to let qpc choose a free port', subject: q }));
          continue;
        }
        if (e.kind !== 'socks' || e.local) {
          ctx.report(diag('QP3022', at, { port, gateway: gw, kind: e.local ? `gateway-local ${e.kind}` : e.kind }, { help: 'choose a SOCKS port, or use `socks dedicated`', subject: q }));
          continue;
        }
        if (s.mode === 'port') {
          const first = usedIn(q).get(port);
          if (first) {
            ctx.report(diag('QP3020', at, { first: first.name.text, second: app.name.text, name: q, port }, { related: [{ span: first.socks!.span, message: `\`${first.name.text}\` is pinned here` }], help: 'give one of them `socks dedicated`, or share deliberately with `socks auth`', subject: q }));
            continue;
          }
          usedIn(q).set(port, app);
        }
        assignments.push({ qube: q, app: app.name.text, gateway: gw, mode: s.mode, port, isolate: e.isolate ? e.isolate.split(' ') : [], span: s.span });
        continue;
      }
      pending.push({ qube: q, app, gateway: gw, flags: flagsKey(s.isolate.map((w) => w.text)) });
    }
  }

  const groupPorts = (gw: string, flags: string): number[] => {
    const out: number[] = [];
    for (const [p, e] of table(gw)) if (e.kind === 'socks' && e.custom && !e.local && e.isolate === flags) out.push(p);
    return out.sort((a, b) => a - b);
  };
  const isPreset = (flags: string) => flags === '' || flags.split(' ').every((f) => PRESET_FLAGS.has(f));
  const fits = (p: Pending, port: number): boolean => {
    if (usedIn(p.qube).has(port)) return false;
    if (isPreset(p.flags) && groupPorts(p.gateway, p.flags).length > 0) return groupPorts(p.gateway, p.flags).includes(port);
    return extraOf(p.gateway).get(port) === p.flags;
  };
  const assign = (p: Pending, port: number) => {
    usedIn(p.qube).set(port, p.app);
    assignments.push({ qube: p.qube, app: p.app.name.text, gateway: p.gateway, mode: 'dedicated', port, isolate: p.flags ? p.flags.split(' ') : [], span: p.app.socks!.span });
  };

  // First the apps the lock already placed, then the new ones, each in name order.
  const fresh: Pending[] = [];
  for (const p of pending) {
    const locked = previous.apps[appKey(p.qube, p.app.name.text)];
    if (locked !== undefined && fits(p, locked)) assign(p, locked);
    else fresh.push(p);
  }
  fresh.sort((a, b) => (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : a.app.name.text < b.app.name.text ? -1 : 1));
  for (const p of fresh) {
    const preset = isPreset(p.flags) ? groupPorts(p.gateway, p.flags) : [];
    if (preset.length > 0) {
      const port = preset.find((x) => !usedIn(p.qube).has(x));
      if (port === undefined) {
        const range = `${preset[0]}–${preset[preset.length - 1]}`;
        ctx.report(diag('QP3023', p.app.socks!.span, { name: p.qube, flags: p.flags ? ` isolate ${p.flags}` : '', count: preset.length, gateway: p.gateway, range }, { help: 'move some apps to another qube, or give them a flag set outside the pre-bound groups', subject: p.qube }));
        continue;
      }
      assign(p, port);
      continue;
    }
    const ex = extraOf(p.gateway);
    let port = [...ex].filter(([, fl]) => fl === p.flags).map(([x]) => x).sort((a, b) => a - b).find((x) => !usedIn(p.qube).has(x));
    if (port === undefined) {
      const taken = (x: number) => table(p.gateway).has(x) || ex.has(x);
      port = FREE_LOW_PORTS.find((x) => !taken(x));
      for (let x = FIRST_HIGH_PORT; port === undefined; x++) if (!taken(x)) port = x;
      ex.set(port, p.flags);
    }
    assign(p, port);
  }

  // The lock keeps dedicated assignments and the extra listeners they use.
  const apps: Record<string, number> = {};
  const inUse = new Map<string, Set<number>>();
  for (const a of assignments) {
    if (a.mode !== 'dedicated') continue;
    apps[appKey(a.qube, a.app)] = a.port;
    if (extraOf(a.gateway).has(a.port)) {
      let s = inUse.get(a.gateway);
      if (!s) inUse.set(a.gateway, (s = new Set()));
      s.add(a.port);
    }
  }
  const listeners: Record<string, Record<string, string[]>> = {};
  const extraList: ExtraListener[] = [];
  for (const [gw, ports] of inUse) {
    for (const p of [...ports].sort((a, b) => a - b)) {
      const flags = extraOf(gw).get(p)!;
      const isolate = flags ? flags.split(' ') : [];
      (listeners[gw] ??= {})[String(p)] = isolate;
      extraList.push({ gateway: gw, port: p, isolate });
    }
  }
  assignments.sort((a, b) => (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  extraList.sort((a, b) => (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : a.port - b.port));
  return { allocation: { apps: assignments, listeners: extraList }, lock: { apps, listeners, qubes: allocateQids(g, previous.qubes) } };
}

/**
 * Stable qube numbers (the base of each qube's address, reference xen.md
 * §1.2): dom0 is 0; a qube keeps the number the lock gives it; new qubes take
 * the lowest free numbers in name order, so adding or removing one qube never
 * renumbers another.
 */
export function allocateQids(g: PolicyGraph, previous: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  const taken = new Set<number>([0]);
  const names = g.allFacts().map((f) => f.decl.name).sort();
  const fresh: string[] = [];
  for (const name of names) {
    const d = g.facts(name)!.decl;
    if (d.form === 'adminvm') {
      out[name] = 0;
      continue;
    }
    const q = previous[name];
    if (q !== undefined && q > 0 && !taken.has(q)) {
      out[name] = q;
      taken.add(q);
    } else fresh.push(name);
  }
  let next = 1;
  for (const name of fresh) {
    while (taken.has(next)) next++;
    out[name] = next;
    taken.add(next);
  }
  return out;
}
