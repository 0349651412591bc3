/**
 * Which ports qpc may give, the facts both the SOCKS allocation
 * (allocate-socks.ts) and the check of the lock file (check-lock.ts) decide
 * by: a Tor gateway's listeners by port, and the ports Whonix leaves free.
 *
 * Facts (whonix-and-tor.md §2, §4): Whonix-Gateway pre-binds four custom
 * SocksPort groups, one per flag set {}, {IsolateDestAddr}, {IsolateDestPort}
 * and both; other flag sets need a listener on a port Whonix binds nowhere
 * (9112, 9113, 9116, 9119–9121, 9230 and up).
 */
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { ListenerItem } from '../syntax/ast.js';

/** Isolation flags the four pre-bound custom groups offer. */
export const PRESET_FLAGS: ReadonlySet<string> = new Set(['dest-addr', 'dest-port']);
/** Ports Whonix leaves unbound below 9230, in order of preference. */
export const FREE_LOW_PORTS: readonly number[] = [9112, 9113, 9116, 9119, 9120, 9121];
export const FIRST_HIGH_PORT = 9230;
/** The free ports in words, for help texts. */
export const FREE_PORTS_TEXT = `${FREE_LOW_PORTS.slice(0, 3).join(', ')}, ${FREE_LOW_PORTS[3]}–${FREE_LOW_PORTS[FREE_LOW_PORTS.length - 1]}, ${FIRST_HIGH_PORT} and up`;

/** What a gateway opens on one port. */
export interface PortEntry {
  readonly kind: string;
  /** The isolation flags, as {@link flagsKey}. */
  readonly isolate: string;
  readonly custom: boolean;
  readonly local: boolean;
}

/** A gateway's listeners by port. */
export type PortTable = ReadonlyMap<number, PortEntry>;

/** A flag set as one key: each flag once, sorted, space-separated. */
export function flagsKey(flags: readonly string[]): string {
  return [...new Set(flags)].sort().join(' ');
}

/** The key of an app in the lock file: `qube/app`. */
export function appKey(qube: string, app: string): string {
  return `${qube}/${app}`;
}

/** Whether a JSON value is a TCP port. */
export const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;

/** The gateway's listeners by port (the first listener of a port counts). */
export function portTable(listeners: readonly ListenerItem[]): PortTable {
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

/** Each gateway's port table, built once per gateway asked for. */
export function portTables(g: PolicyGraph): (gateway: string) => PortTable {
  const tables = new Map<string, PortTable>();
  return (gw) => {
    let t = tables.get(gw);
    if (!t) tables.set(gw, (t = portTable(g.listeners(gw))));
    return t;
  };
}

/** Whether qpc may give a port to a listener of its own on a gateway with this table: one Whonix binds nowhere (whonix-and-tor.md §4). */
export function freePort(t: PortTable, p: number): boolean {
  return !t.has(p) && (FREE_LOW_PORTS.includes(p) || p >= FIRST_HIGH_PORT);
}

/** Whether qpc may give a port to a dedicated app behind a gateway with this table: a port of a pre-bound custom group, or a free one. */
export function dedicatedPort(t: PortTable, p: number): boolean {
  const e = t.get(p);
  return e ? e.kind === 'socks' && e.custom && !e.local : freePort(t, p);
}

/** What a port is on a gateway, for a finding: `port 9050 is a socks listener that … opens itself`, `not a port qpc allocates`. */
export function portUse(t: PortTable, p: number, gw: string, what: string): string {
  const e = t.get(p);
  if (e) return `port ${p} is a ${e.local ? 'gateway-local ' : ''}${e.kind} listener that \`${gw}\` opens itself`;
  return `port ${p} is not a port qpc ${what}`;
}
