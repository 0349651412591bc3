/**
 * SOCKS bindings (DESIGN §4.7, §5): checks every app's binding against its
 * Tor gateway's listeners and allocates ports to `socks dedicated` apps,
 * stably: assignments recorded in the lock file are kept, new apps take free
 * ports, and no other app moves. Emits QP3020–QP3025.
 *
 * Which ports qpc may give is socks-ports.ts; Tor separates qubes by client
 * address (whonix-and-tor.md §2), so a port need only be unique among the
 * apps of one qube.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { Lock } from '../lock-file.js';
import type { SocksAssignment } from '../model.js';
import { lastItem } from '../program.js';
import type { AppItem } from '../syntax/ast.js';
import { appKey, FIRST_HIGH_PORT, flagsKey, FREE_LOW_PORTS, PRESET_FLAGS, portTables } from './socks-ports.js';

export type { SocksAssignment };

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

/** The SOCKS part of the lock: the ports of dedicated apps and the listeners they use. */
export type SocksLock = Pick<Lock, 'apps' | 'listeners'>;

interface Pending {
  readonly qube: string;
  readonly app: AppItem;
  readonly gateway: string;
  readonly flags: string;
}

/**
 * Checks bindings and allocates ports over the checked lock (check-lock.ts).
 * Pure: the SOCKS part of the new lock is returned, not written.
 */
export function allocateSocks(g: PolicyGraph, previous: SocksLock, ctx: Reporter): { allocation: Allocation; lock: SocksLock } {
  const table = portTables(g);
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
  return { allocation: { apps: assignments, listeners: extraList }, lock: { apps, listeners } };
}
