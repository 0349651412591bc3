/**
 * The policy graph: every declaration and the physical network as nodes;
 * netvm, uplink, template, default-disposable and membership as edges, with
 * each qube's effective properties (what Qubes will set) and where in the
 * source they were decided. Built once per check; every network check reads
 * it. graphlib stays behind this module's types.
 */
import { alg, Graph } from '@dagrejs/graphlib';
import { lastItem, type Decl, type Program } from '../program.js';
import { substitute } from '../whonix.js';
import type { Span } from '../source.js';
import type { AppItem, DeviceItem, ListenerItem, NetworkItem } from '../syntax/ast.js';

/** The node standing for the physical network, reached through `uplink` gateways. */
export const NETWORK = '(network)';

export type EdgeKind = 'netvm' | 'uplink' | 'template' | 'default-disposable' | 'member';

export type NetworkMode = 'clearnet' | 'tor' | 'none';

/** What Qubes will set for one qube, and where the source decided it. */
export interface QubeFacts {
  readonly decl: Decl;
  readonly identity?: Decl;
  /** The identity's network mode, for qubes in an identity. */
  readonly mode?: NetworkMode;
  /** The identity's declared gateway (`via`). */
  readonly via?: Decl;
  /** Effective netvm name; `null` for none. */
  readonly netvm: string | null;
  /** True when an item of the qube itself set the netvm. */
  readonly netvmExplicit: boolean;
  /** The item or identity line that decided the netvm. */
  readonly netvmOrigin: Span;
  readonly template?: Decl;
  readonly templateOrigin?: Span;
  /** Effective default disposable; `null` for none, undefined when Qubes' global default applies and none is set. */
  readonly defaultDisposable?: string | null;
  readonly defaultDisposableOrigin?: Span;
  /**
   * True when provisioning leaves `default_dispvm` at Qubes' own default
   * (`qvm-prefs --default`): a named disposable whose own and identity's say
   * nothing (Qubes then gives it its disposable template), and such a
   * disposable template when `settings` names the global default (which it
   * then inherits). Qubes copies only values that are set into the
   * disposables of a template, so those of such a template open disposables
   * of the template itself.
   */
  readonly defaultDisposableIsQubesDefault?: boolean;
  readonly devices: readonly DeviceItem[];
  readonly virtMode?: { readonly value: string; readonly span: Span };
  readonly apps: readonly AppItem[];
}

/** A route from a qube along netvm edges. */
export interface Route {
  /** Names from the qube to where the route ends (`NETWORK` when it reaches the network). */
  readonly path: readonly string[];
  readonly reachesNetwork: boolean;
  /** True when the route runs into a netvm loop. */
  readonly loops: boolean;
}

const qubeLike = new Set(['qube', 'disposable', 'named-disposable', 'standalone', 'gateway', 'template', 'adminvm']);

function nameOf(program: Program, text: string): string {
  return substitute(text, program.settings.whonix);
}

function factsOf(program: Program, d: Decl): QubeFacts {
  const identity = d.node.identity ? program.decls.get(nameOf(program, d.node.identity.text)) : undefined;
  const net = identity ? (lastItem(identity, 'NetworkItem') as NetworkItem | undefined) : undefined;
  const mode = net ? (net.mode.text as NetworkMode) : undefined;
  const via = net?.via ? program.decls.get(nameOf(program, net.via.text)) : undefined;
  const netItem = lastItem(d, 'RefItem', 'netvm');
  let netvm: string | null = null;
  let netvmOrigin: Span = d.node.name.span;
  if (netItem) {
    netvm = netItem.target ? nameOf(program, netItem.target.text) : null;
    netvmOrigin = netItem.span;
  } else if (net) {
    netvm = mode === 'none' || !via ? null : via.name;
    netvmOrigin = net.span;
  }
  const tItem = lastItem(d, 'RefItem', 'template');
  const template = tItem?.target ? program.decls.get(nameOf(program, tItem.target.text)) : undefined;
  const ddItem = lastItem(d, 'RefItem', 'default-disposable');
  const idDisp = identity ? lastItem(identity, 'RefItem', 'disposable') : undefined;
  let defaultDisposable: string | null | undefined;
  let defaultDisposableOrigin: Span | undefined;
  let qubesDefault = false;
  if (ddItem) {
    defaultDisposable = ddItem.target ? nameOf(program, ddItem.target.text) : null;
    defaultDisposableOrigin = ddItem.span;
  } else if (idDisp) {
    defaultDisposable = idDisp.target ? nameOf(program, idDisp.target.text) : null;
    defaultDisposableOrigin = idDisp.span;
  } else if (d.form === 'named-disposable' && template) {
    // qubes-core-admin DispVM: `default_dispvm` defaults to the qube's template.
    defaultDisposable = template.name;
    defaultDisposableOrigin = tItem!.span;
    qubesDefault = true;
  } else if (program.settings.defaultDisposable !== undefined) {
    qubesDefault = d.form === 'disposable';
    // Every qube without its own inherits Qubes' global default: templates
    // and dom0 too (qubes-core-admin: QubesVM and AdminVM `default_dispvm`).
    defaultDisposable = program.settings.defaultDisposable;
  }
  const vm = lastItem(d, 'ValueItem', 'virt-mode');
  return {
    decl: d,
    ...(identity ? { identity } : {}),
    ...(mode ? { mode } : {}),
    ...(via ? { via } : {}),
    netvm,
    netvmExplicit: Boolean(netItem),
    netvmOrigin,
    ...(template ? { template, templateOrigin: tItem!.span } : {}),
    ...(defaultDisposable !== undefined ? { defaultDisposable } : {}),
    ...(defaultDisposableOrigin ? { defaultDisposableOrigin } : {}),
    ...(qubesDefault ? { defaultDisposableIsQubesDefault: true } : {}),
    devices: d.items.filter((i): i is DeviceItem => i.kind === 'DeviceItem'),
    ...(vm ? { virtMode: { value: vm.value.text, span: vm.value.span } } : {}),
    apps: d.items.filter((i): i is AppItem => i.kind === 'AppItem'),
  };
}

/** The graph of one program. Read-only after construction. */
export class PolicyGraph {
  /** netvm and uplink edges: graphlib, for its cycle search. */
  private readonly net = new Graph({ directed: true });
  /** Every edge by source and kind (plain maps: graphlib's multigraph costs ~10 µs an edge). */
  private readonly edges = new Map<string, Map<EdgeKind, string[]>>();
  private readonly factsByName = new Map<string, QubeFacts>();
  private readonly membersOf = new Map<string, string[]>();
  private readonly servedOf = new Map<string, string[]>();

  constructor(readonly program: Program) {
    this.net.setNode(NETWORK);
    for (const d of program.decls.values()) if (qubeLike.has(d.form)) this.net.setNode(d.name);
    for (const d of program.decls.values()) {
      if (!qubeLike.has(d.form)) continue;
      const f = factsOf(program, d);
      this.factsByName.set(d.name, f);
      if (f.identity) {
        this.addEdge(d.name, 'member', f.identity.name);
        const m = this.membersOf.get(f.identity.name) ?? [];
        m.push(d.name);
        this.membersOf.set(f.identity.name, m);
      }
      if (f.template) this.addEdge(d.name, 'template', f.template.name);
      if (f.defaultDisposable && program.decls.has(f.defaultDisposable)) this.addEdge(d.name, 'default-disposable', f.defaultDisposable);
      if (d.form === 'gateway' && d.items.some((i) => i.kind === 'FlagItem' && i.flag === 'uplink')) {
        this.addEdge(d.name, 'uplink', NETWORK);
        this.net.setEdge(d.name, NETWORK);
      } else if (f.netvm !== null && program.decls.has(f.netvm)) {
        this.addEdge(d.name, 'netvm', f.netvm);
        this.net.setEdge(d.name, f.netvm);
        const s = this.servedOf.get(f.netvm) ?? [];
        s.push(d.name);
        this.servedOf.set(f.netvm, s);
      }
    }
  }

  private addEdge(from: string, kind: EdgeKind, to: string): void {
    let byKind = this.edges.get(from);
    if (!byKind) this.edges.set(from, (byKind = new Map()));
    const list = byKind.get(kind) ?? [];
    list.push(to);
    byKind.set(kind, list);
  }

  /** Effective facts of a qube-like declaration. */
  facts(name: string): QubeFacts | undefined {
    return this.factsByName.get(name);
  }

  /** Every qube-like declaration's facts, in declaration order. */
  allFacts(): readonly QubeFacts[] {
    return [...this.factsByName.values()];
  }

  /** Qubes that belong to an identity. */
  members(identity: string): readonly string[] {
    return this.membersOf.get(identity) ?? [];
  }

  /** Qubes whose netvm is this gateway. */
  served(gateway: string): readonly string[] {
    return this.servedOf.get(gateway) ?? [];
  }

  /** Edges of one kind leaving a node, as target names. */
  out(name: string, kind: EdgeKind): readonly string[] {
    return this.edges.get(name)?.get(kind) ?? [];
  }

  /** Follows netvm (and uplink) edges from a qube. */
  route(name: string): Route {
    const path = [name];
    const seen = new Set(path);
    let cur = name;
    for (;;) {
      const next = (this.net.successors(cur) ?? [])[0] as string | undefined;
      if (next === undefined) return { path, reachesNetwork: false, loops: false };
      path.push(next);
      if (next === NETWORK) return { path, reachesNetwork: true, loops: false };
      if (seen.has(next)) return { path, reachesNetwork: false, loops: true };
      seen.add(next);
      cur = next;
    }
  }

  /** Every netvm loop, each as its member names starting at the smallest. */
  netvmCycles(): readonly (readonly string[])[] {
    return alg
      .findCycles(this.net)
      .map((c) => {
        // graphlib lists a cycle's members in reverse visiting order; put them in netvm order.
        const ordered: string[] = [];
        let cur = [...c].sort()[0];
        for (let i = 0; i < c.length; i++) {
          ordered.push(cur);
          cur = (this.net.successors(cur) ?? [])[0] as string;
        }
        return ordered;
      })
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  /** Whether a gateway is a Tor gateway. */
  isTor(name: string): boolean {
    const d = this.program.decls.get(name);
    return Boolean(d && d.form === 'gateway' && d.items.some((i) => i.kind === 'FlagItem' && i.flag === 'tor'));
  }

  /** The Tor listeners a gateway provides: its template's, then its own. */
  listeners(gateway: string): readonly ListenerItem[] {
    const f = this.factsByName.get(gateway);
    const own = f?.decl.items.filter((i): i is ListenerItem => i.kind === 'ListenerItem') ?? [];
    const inherited = f?.template?.items.filter((i): i is ListenerItem => i.kind === 'ListenerItem') ?? [];
    return [...inherited, ...own];
  }
}

/** Builds the graph of a bound program. */
export function buildGraph(program: Program): PolicyGraph {
  return new PolicyGraph(program);
}

/** `a → b → (network)`. */
export function showPath(path: readonly string[]): string {
  return path.join(' → ');
}
