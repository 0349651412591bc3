/**
 * Who is on which side of the policy (DESIGN §4.3–4.5): the identity of each
 * qube (a running disposable: its template's; a qube outside the policy:
 * none), which identities go through Tor, which calls are channels a Tor
 * identity must not have, and which are Whonix's own between a qube and its
 * Tor gateway. Read by the generation of the closing rules and by the
 * channel checks; with the names the findings give qubes.
 */
import type { PolicyGraph } from '../graph/policy-graph.js';
import { lastItem, type Program } from '../program.js';
import { substitute } from '../whonix.js';
import type { Channel } from './channels.js';
import type { SystemInfo } from './types.js';
import { describeStandIn, type World } from './world.js';

/** Services Whonix itself runs between a workstation and its Tor gateway (80-whonix.policy). */
export const WHONIX_SERVICES = /^(whonix\.|sdwdate\.|sdwdate-gui\.)/;

export interface Context {
  readonly program: Program;
  readonly graph: PolicyGraph;
  /** The declared qubes, as provisioning leaves them. */
  readonly info: SystemInfo;
  /** What the proof reasons about: the declared qubes, running, and the stand-ins for other qubes. */
  readonly world: World;
  readonly identityOf: (qube: string) => string | undefined;
  readonly isTorIdentity: (identity: string | undefined) => boolean;
  /** Qubes of Tor identities. */
  readonly torQube: ReadonlySet<string>;
  readonly admin: ReadonlySet<string>;
  /** Whether a call between these qubes crosses the two sides of a `require`. */
  readonly inRequire: (source: string, target: string) => boolean;
  /**
   * The targets that can matter to these interchangeable callers (findChannels' `focus`):
   * undefined (any) for a qube of a Tor identity; otherwise the qubes of Tor identities and,
   * `withRequires`, the other side of each `require` a caller is on.
   */
  readonly focus: (withRequires: boolean) => (sources: readonly string[]) => ReadonlySet<string> | undefined;
  /** What channels are reported per (findChannels' `key`): a qube a `require` names, else its side ({@link sideOf}). */
  readonly key: (qube: string) => string;
}

export function contextOf(program: Program, graph: PolicyGraph, info: SystemInfo, world: World): Context {
  // Looked up millions of times by the analysis: precomputed.
  const ids = new Map<string, string | undefined>();
  for (const f of graph.allFacts()) ids.set(f.decl.name, f.identity?.name);
  // A running disposable belongs to its template's identity; a qube outside the policy to none.
  for (const [name, s] of world.standIns) ids.set(name, s.kind === 'disposable' ? ids.get(s.template) : undefined);
  const identityOf = (q: string) => ids.get(q);
  const modes = new Map<string, string>();
  for (const d of program.decls.values()) if (d.form === 'identity') modes.set(d.name, lastItem(d, 'NetworkItem')?.mode.text ?? '');
  const torQube = new Set<string>();
  for (const [q, id] of ids) if (id !== undefined && modes.get(id) === 'tor') torQube.add(q);
  const admin = new Set([...info.domains.values()].filter((d) => d.type === 'AdminVM').map((d) => d.name));
  const requirePairs = program.requires.map((q) => [substitute(q.subject.text, program.settings.whonix), substitute(q.object.text, program.settings.whonix)] as const);
  // The sides of each `require` a qube is on, by index: calls matter between the two sides of one.
  const sides = new Map<string, number[]>();
  requirePairs.forEach(([a, b], i) => {
    for (const q of world.info.domains.keys()) {
      if (q === a || identityOf(q) === a) sides.set(q, [...(sides.get(q) ?? []), 2 * i]);
      if (q === b || identityOf(q) === b) sides.set(q, [...(sides.get(q) ?? []), 2 * i + 1]);
    }
  });
  const inRequire = (s: string, t: string) => {
    const x = sides.get(s);
    const y = sides.get(t);
    return x !== undefined && y !== undefined && x.some((k) => y.includes(k ^ 1));
  };
  const sideMembers = new Map<number, string[]>();
  for (const [q, ks] of sides) for (const k of ks) sideMembers.set(k, [...(sideMembers.get(k) ?? []), q]);
  const focusCache = new Map<string, ReadonlySet<string>>();
  const focus = (withRequires: boolean) => (sources: readonly string[]): ReadonlySet<string> | undefined => {
    if (sources.some((m) => torQube.has(m))) return undefined;
    const ks = withRequires ? [...new Set(sources.flatMap((m) => sides.get(m) ?? []))].sort((a, b) => a - b) : [];
    if (ks.length === 0) return torQube;
    const key = ks.join(' ');
    let set = focusCache.get(key);
    if (!set) {
      const s = new Set(torQube);
      for (const k of ks) for (const q of sideMembers.get(k ^ 1) ?? []) s.add(q);
      focusCache.set(key, (set = s));
    }
    return set;
  };
  const named = new Set(requirePairs.flat());
  const cx: Context = {
    program,
    graph,
    info,
    world,
    identityOf,
    isTorIdentity: (i) => i !== undefined && modes.get(i) === 'tor',
    torQube,
    admin,
    inRequire,
    focus,
    key: (q) => (named.has(q) ? q : sideOf(cx, q)),
  };
  return cx;
}

/** Calls between these qubes are channels a Tor identity must not have. */
export function torRelevant(cx: Context, s: string, t: string): boolean {
  if (cx.admin.has(t)) return false;
  if (!cx.torQube.has(s) && !cx.torQube.has(t)) return false;
  return cx.identityOf(s) !== cx.identityOf(t);
}

/**
 * Whonix's own calls between a qube and its Tor gateway: exempt from the
 * channel findings. The gateway must be the qube's own ({@link torGatewayOf}):
 * between a qube and another identity's gateway these calls are a channel
 * like any other. A gateway outside the policy (a
 * qube tagged `anon-gateway` or, from 4.3, `sdwdate-gui-server`) may be
 * anyone's, so calls to and from it stay exempt.
 */
export function exempt(cx: Context, c: Channel): boolean {
  return WHONIX_SERVICES.test(c.service) && c.sources.every((s) => c.targets.every((t) => exemptPair(cx, s, t)));
}

/** {@link exempt} for one caller and one callee. */
export function exemptPair(cx: Context, src: string, t: string): boolean {
  const outsideGateway = (q: string) => {
    const s = cx.world.standIns.get(q);
    return s !== undefined && s.kind === 'outside' && (s.tag === 'anon-gateway' || s.tag === 'sdwdate-gui-server');
  };
  const gw = (q: string) => outsideGateway(q) || (!cx.world.standIns.has(q) && cx.graph.isTor(q));
  /** Whether `g` is the Tor gateway of qube `q` (a running disposable: of its template). */
  const own = (q: string, g: string): boolean => {
    if (outsideGateway(g)) return true;
    const s = cx.world.standIns.get(q);
    if (s !== undefined && s.kind !== 'disposable') return false;
    return torGatewayOf(cx, s?.kind === 'disposable' ? s.template : q) === g;
  };
  return gw(src) ? own(t, src) : gw(t) && own(src, t);
}

/**
 * A declared qube's own Tor gateway: its identity's `via`, when that is a
 * declared Tor gateway. Whonix's own calls run between the two (exempt from
 * the findings, kept by the generated rules). A qube routed through another
 * Tor gateway is QP3005; its calls to that one are a channel, and closed.
 */
export function torGatewayOf(cx: Context, q: string): string | undefined {
  const via = cx.graph.facts(q)?.via?.name;
  return via !== undefined && cx.graph.isTor(via) && cx.info.domains.has(via) ? via : undefined;
}

/** The Tor gateways of these qubes ({@link torGatewayOf}). */
export function ownGateways(cx: Context, qubes: readonly string[]): string[] {
  return [...new Set(qubes.map((q) => torGatewayOf(cx, q)).filter((g): g is string => g !== undefined))].sort();
}

export function who(cx: Context, q: string): string {
  const id = cx.identityOf(q);
  const n = name(cx, q);
  return id ? `${n} (${cx.isTorIdentity(id) ? 'Tor identity' : 'identity'} \`${id}\`)` : n;
}

/** A qube's name for a message, or what a stand-in stands for. */
export function name(cx: Context, q: string): string {
  const s = cx.world.standIns.get(q);
  return s ? describeStandIn(s) : `\`${q}\``;
}

/** The declared name a waiver of a channel finding names: the caller, else (a stand-in) its template or the callee. */
export function subjectOf(cx: Context, s: string, t: string): string {
  const x = cx.world.standIns.get(s);
  if (x === undefined) return s;
  if (x.kind === 'disposable') return x.template;
  const y = cx.world.standIns.get(t);
  return y === undefined ? t : y.kind === 'disposable' ? y.template : (cx.identityOf(t) ?? t);
}

/** The side of a channel findings are grouped by: the identity, else the qube; every qube outside the policy is one side. */
export function sideOf(cx: Context, q: string): string {
  const id = cx.identityOf(q);
  if (id !== undefined) return id;
  return cx.world.standIns.get(q)?.kind === 'outside' ? '~outside' : q;
}
