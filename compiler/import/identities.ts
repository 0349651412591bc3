/**
 * The identities `qpc import` guesses for a machine's qubes: native Qubes
 * has none, so every one is an inference the author confirms (`# guessed:`).
 *
 * - Qubes behind a Tor gateway form a `tor` identity per gateway (and per
 *   shared tag: SecureDrop's `sd-workstation` qubes behind `sd-whonix` are
 *   one, Whonix's own workstations behind `sys-whonix` another).
 * - Other qubes that share a tag (one no system tool sets, carried by
 *   several qubes) and a network form one identity per tag and network.
 * - The rest form one identity per network (netvm, or none) and label, as
 *   Qubes' own colours separate domains of trust.
 *
 * Only a `tor` identity changes what qrexec decides (qpc closes its stock
 * channels with generated rules); identities of other kinds only tag their
 * qubes. Without guesses (`--no-identities`) every qube gets an identity of
 * its own whose network is its netvm, never `tor`: then no rule is generated
 * and no decision changes.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { QubeState } from '../snapshot/read.js';

export type Network = { readonly mode: 'none' } | { readonly mode: 'clearnet' | 'tor'; readonly via: string };

export interface GuessedIdentity {
  readonly name: string;
  readonly network: Network;
  /** The label most of its qubes have. */
  readonly label: string | null;
  readonly members: readonly QubeState[];
  /** Comment lines written above the identity. */
  readonly comments: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Tags the identity guess ignores: Qubes', Whonix's and qpc's own. */
const SYSTEM_TAG = /^(created-by-.*|guivm-.*|audiovm-.*|anon-vm|anon-gateway|whonix-updatevm|sdwdate-gui-client|sdwdate-gui-server|identity-.*)$/;

/** A qube's network as an identity says it: its netvm, through Tor when that is a Tor gateway. */
export function networkOf(q: QubeState, torGateways: ReadonlySet<string>): Network {
  if (q.netvm === null) return { mode: 'none' };
  return { mode: torGateways.has(q.netvm) ? 'tor' : 'clearnet', via: q.netvm };
}

const key = (n: Network): string => (n.mode === 'none' ? 'none' : `${n.mode} via ${n.via}`);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const words = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

/** The most frequent value, ties broken by name; null for none. */
function mostCommon(values: readonly (string | null)[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, n] of [...counts].sort(([a], [b]) => byName(a, b))) if (best === null || n > counts.get(best)!) best = v;
  return best;
}

/** A name Qubes and the language take (at most 31 characters), not already taken. */
function fresh(base: string, taken: Set<string>): string {
  let stem = base.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z]+/, '');
  if (stem === '') stem = 'identity';
  stem = stem.slice(0, 31);
  let name = stem;
  for (let i = 2; taken.has(name); i++) name = `${stem.slice(0, 31 - String(i).length - 1)}-${i}`;
  taken.add(name);
  return name;
}

/**
 * The identities of `members` (sorted by name), whose networks are given;
 * `taken` holds every name already used (qubes, the library's), and gets
 * the identities' names.
 */
export function guessIdentities(members: readonly QubeState[], networks: ReadonlyMap<string, Network>, taken: Set<string>, noIdentities: boolean): GuessedIdentity[] {
  if (noIdentities) {
    return members.map((q) => {
      const n = networks.get(q.name)!;
      // Never `tor`: a Tor identity gets closing rules, which change decisions.
      const network: Network = n.mode === 'none' ? n : { mode: 'clearnet', via: n.via };
      return {
        name: fresh(`${q.name}-id`, taken),
        network,
        label: q.label,
        members: [q],
        comments: [`\`${q.name}\` alone (--no-identities)${n.mode === 'tor' ? `: its netvm is the Tor gateway \`${n.via}\`, but a \`tor\` identity would add rules that close its channels, so it is written as clearnet` : ''}`],
        diagnostics: [],
      };
    });
  }
  // The tags several of these qubes carry, most carried first.
  const carriers = new Map<string, number>();
  for (const q of members) for (const t of q.tags) if (!SYSTEM_TAG.test(t)) carriers.set(t, (carriers.get(t) ?? 0) + 1);
  const groupTag = (q: QubeState): string | undefined => {
    let best: string | undefined;
    for (const t of [...q.tags].sort(byName)) {
      const n = carriers.get(t) ?? 0;
      if (n >= 2 && (best === undefined || n > carriers.get(best)!)) best = t;
    }
    return best;
  };
  interface Group { readonly key: string; readonly tag?: string; readonly network: Network; readonly label?: string | null; readonly qubes: QubeState[] }
  const groups = new Map<string, Group>();
  for (const q of members) {
    const network = networks.get(q.name)!;
    const tag = groupTag(q);
    const k = tag !== undefined ? `tag ${tag} ${key(network)}` : network.mode === 'tor' ? `tor ${key(network)}` : `net ${key(network)} ${q.label ?? ''}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { key: k, ...(tag !== undefined ? { tag } : {}), network, ...(tag === undefined && network.mode !== 'tor' ? { label: q.label } : {}), qubes: [] }));
    g.qubes.push(q);
  }
  // Names: a tag's largest group takes the tag's name; the others add their network.
  const ordered = [...groups.values()].sort((a, b) => byName(a.key, b.key));
  const tagLeader = new Map<string, Group>();
  for (const g of ordered) if (g.tag !== undefined) {
    const lead = tagLeader.get(g.tag);
    if (lead === undefined || g.qubes.length > lead.qubes.length) tagLeader.set(g.tag, g);
  }
  const out: GuessedIdentity[] = [];
  for (const g of ordered) {
    const names = g.qubes.map((q) => q.name);
    const n = g.network;
    const suffix = n.mode === 'none' ? 'offline' : n.mode === 'tor' ? 'tor' : `via-${n.via}`;
    let base: string;
    let why: string;
    if (g.tag !== undefined) {
      base = tagLeader.get(g.tag) === g ? g.tag : `${g.tag}-${suffix}`;
      why = `the qubes tagged \`${g.tag}\` ${n.mode === 'none' ? 'without network' : `with netvm \`${n.via}\``} are one ${n.mode === 'tor' ? 'Tor ' : ''}identity: ${words(names)}`;
    } else if (n.mode === 'tor') {
      base = `tor-${n.via}`;
      why = `the qubes behind the Tor gateway \`${n.via}\` are one Tor identity: ${words(names)}`;
    } else {
      base = n.mode === 'none' ? `offline-${g.label ?? 'qubes'}` : n.via === 'sys-firewall' ? `${g.label ?? 'clearnet'}` : `${g.label ?? 'clearnet'}-${n.via}`;
      why = `the qubes ${n.mode === 'none' ? 'without network' : `with netvm \`${n.via}\``} and label ${g.label ?? '(none)'} are one identity: ${words(names)}`;
    }
    const name = fresh(base, taken);
    const label = mostCommon(g.qubes.map((q) => q.label));
    out.push({ name, network: n, label, members: g.qubes, comments: [`guessed: ${why}`], diagnostics: [] });
  }
  return out;
}
