/**
 * The drawing of a policy (`qpc graph`, DESIGN §6): a pure model of what a
 * reviewer looks at (identities as clusters coloured by their Qubes label,
 * qubes, gateways, the physical network, netvm edges, and the qrexec
 * channels of the complete evaluated policy), and its DOT and JSON forms.
 *
 * The input is what any caller has: the evaluated rules, the system
 * information and the release, with the topology and the findings when a
 * `.qpol` was checked. Channels come from the same analysis as the checks
 * (findChannels); only allow and ask decisions are channels, so the denials
 * qpc generates to close a Tor identity are never drawn as one. Everything is
 * sorted: the same policy gives the same bytes.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { isKeyword } from '../qrexec/token.js';
import type { Channel } from '../qrexec/types.js';
import type { Span } from '../source.js';
import { lastItem } from '../program.js';
import { NETWORK, type PolicyGraph } from './policy-graph.js';

export type GraphView = 'network' | 'channels' | 'all';

/** What to draw. */
export interface DrawOptions {
  readonly view?: GraphView;
  /** Draw only channels of these services. */
  readonly services?: readonly string[];
  /** Draw templates and the template edges. */
  readonly templates?: boolean;
  /** Draw each identity as one node; undefined: when there are more than {@link COLLAPSE_ABOVE} qubes. */
  readonly collapse?: boolean;
}

/** A channel of the qrexec analysis, as compiler/qrexec/channels.ts finds it. */
export type DrawChannel = Channel;

/** What the drawing asks of the qrexec analysis (the layer above supplies it: compiler/index.ts `drawInput`). */
export interface DrawAnalysis {
  /** The allowed and asked calls between qubes that `relevant` keeps, one source and target per `key`. */
  readonly channels: (q: { relevant: (source: string, target: string) => boolean; key: (qube: string) => string; services?: ReadonlySet<string> }) => readonly DrawChannel[];
  /** A service's danger level (QP3032's table). */
  readonly danger: (service: string) => 'critical' | 'high' | undefined;
  /** The argument and service names that stand for any the rules do not name. */
  readonly anyArgument: string;
  readonly otherService: string;
}

/** What the drawing is made of: the evaluated policy, and when known the topology and the findings. */
export interface DrawInput {
  readonly rules: readonly { readonly source: string; readonly target: string; readonly origin: { readonly span: Span } }[];
  readonly info: { readonly domains: ReadonlyMap<string, { readonly name: string; readonly type: string }> };
  readonly analysis: DrawAnalysis;
  readonly graph?: PolicyGraph;
  readonly findings?: readonly Diagnostic[];
}

/** Above this many qubes, identities are drawn collapsed unless told otherwise. */
export const COLLAPSE_ABOVE = 60;

export type NodeKind = 'qube' | 'gateway' | 'tor-gateway' | 'template' | 'network' | 'identity';

export interface DrawNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  /** The identity cluster the node is in. */
  readonly cluster?: string;
  /** A collapsed identity: its label's colour. */
  readonly colour?: string;
}

export interface DrawCluster {
  readonly id: string;
  readonly identity: string;
  /** `tor via sys-whonix`, `clearnet via sys-firewall`, `none`. */
  readonly network: string;
  readonly label?: string;
  readonly colour: string;
}

export type EdgeKind = 'netvm' | 'uplink' | 'template' | 'channel';

export interface DrawEdge {
  readonly id: string;
  readonly kind: EdgeKind;
  readonly from: string;
  readonly to: string;
  /** channel: allow (solid) or ask (dashed). */
  readonly action?: 'allow' | 'ask';
  /** channel: the services, each with its redirect or disposable target when the call does not land where asked. */
  readonly services?: readonly string[];
  readonly danger?: 'critical' | 'high';
  /** The codes of the findings about this edge. */
  readonly findings?: readonly string[];
  readonly colour: string;
}

export interface DrawModel {
  readonly view: GraphView;
  readonly collapsed: boolean;
  readonly clusters: readonly DrawCluster[];
  readonly nodes: readonly DrawNode[];
  readonly edges: readonly DrawEdge[];
  /** Channels of rules from any qube to any other, drawn once: their services and the identities and qubes they reach. */
  readonly notes: readonly DrawNote[];
}

export interface DrawNote {
  readonly id: string;
  readonly action: 'allow' | 'ask';
  readonly services: readonly string[];
  readonly among: readonly string[];
  /** Folded channels: how many pairs of nodes have them. */
  readonly pairs?: number;
  readonly findings?: readonly string[];
}

/** Channels with the same calls between more pairs than this are folded into one note. */
export const FOLD_ABOVE = 6;

const ANY = new Set(['@anyvm', '*']);
const ANY_TARGET = /^(@anyvm|\*|@dispvm$|@default$)/;

/** Qubes' label colours (qubes-core-admin's default labels). */
const LABEL_COLOURS: Readonly<Record<string, string>> = {
  red: '#cc0000',
  orange: '#f57900',
  yellow: '#edd400',
  green: '#73d216',
  gray: '#555753',
  blue: '#3465a4',
  purple: '#75507b',
  black: '#000000',
};

const COLOUR = { netvm: '#2e3436', tor: '#5c3566', template: '#888a85', channel: '#4e9a06', high: '#ce5c00', critical: '#a40000', error: '#ef2929', warning: '#c4a000' } as const;

/** The codes whose finding is about a channel (its span is the deciding rule's). */
const CHANNEL_CODES = new Set(['QP3030', 'QP3031', 'QP3032', 'QP3033']);
/** The codes whose finding is about a qube's route to the network (its subject is the qube). */
const ROUTE_CODES = new Set(['QP3004', 'QP3005', 'QP3006']);

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function serviceText(c: DrawChannel, a: DrawAnalysis): string {
  const svc = c.service === a.otherService ? '*' : c.service;
  const arg = c.argument === '+' || c.argument === a.anyArgument ? '' : c.argument;
  return svc + arg;
}

/** Builds the drawing of a policy. */
export function drawModel(input: DrawInput, opts: DrawOptions = {}): DrawModel {
  const view = opts.view ?? 'all';
  const g = input.graph;
  const facts = g?.allFacts() ?? [];
  const templates = new Set(facts.filter((f) => f.decl.form === 'template').map((f) => f.decl.name));
  const qubeCount = facts.filter((f) => f.decl.form !== 'template' && f.decl.form !== 'adminvm').length || input.info.domains.size;
  const collapsed = opts.collapse ?? qubeCount > COLLAPSE_ABOVE;
  const identityOf = new Map<string, string>();
  for (const f of facts) if (f.identity) identityOf.set(f.decl.name, f.identity.name);
  const admin = new Set([...input.info.domains.values()].filter((d) => d.type === 'AdminVM').map((d) => d.name));
  const hidden = (q: string) => admin.has(q) || (!opts.templates && templates.has(q));

  // Clusters: the identities.
  const clusters: DrawCluster[] = [];
  if (g) {
    for (const d of g.program.decls.values()) {
      if (d.form !== 'identity') continue;
      const net = lastItem(d, 'NetworkItem');
      const label = lastItem(d, 'ValueItem', 'label')?.value.text;
      const network = net ? [net.mode.text, ...(net.via ? ['via', g.program.decls.get(net.via.text)?.name ?? net.via.text] : [])].join(' ') : 'none';
      clusters.push({ id: `cluster_${d.name}`, identity: d.name, network, ...(label ? { label } : {}), colour: (label && LABEL_COLOURS[label]) ?? '#555753' });
    }
  }
  clusters.sort((a, b) => byText(a.id, b.id));
  const clusterOf = new Map(clusters.map((c) => [c.identity, c]));

  /** The node a qube is drawn as. */
  const at = (q: string): string => {
    const id = identityOf.get(q);
    return collapsed && id !== undefined ? `identity:${id}` : q;
  };

  const nodes = new Map<string, DrawNode>();
  const addQube = (q: string): void => {
    const node = at(q);
    if (nodes.has(node)) return;
    const id = identityOf.get(q);
    if (node !== q && id !== undefined) {
      const c = clusterOf.get(id)!;
      const n = g!.members(id).length;
      nodes.set(node, { id: node, kind: 'identity', label: `identity ${id}\nnetwork ${c.network}\n${n} qube${n === 1 ? '' : 's'}`, colour: c.colour });
      return;
    }
    const kind: NodeKind = templates.has(q) ? 'template' : g?.isTor(q) ? 'tor-gateway' : g?.program.decls.get(q)?.form === 'gateway' ? 'gateway' : 'qube';
    const label = kind === 'tor-gateway' ? `${q}\nTor gateway` : kind === 'gateway' ? `${q}\ngateway` : kind === 'template' ? `${q}\ntemplate` : q;
    nodes.set(node, { id: node, kind, label, ...(id !== undefined && !collapsed ? { cluster: `cluster_${id}` } : {}) });
  };

  // Findings: routes by their subject, channels by the rule they point at.
  const routeFindings = new Map<string, Set<string>>();
  const ruleFindings = new Map<string, { codes: Set<string>; severity: string }>();
  for (const d of input.findings ?? []) {
    if (d.severity !== 'error' && d.severity !== 'warning') continue;
    if (ROUTE_CODES.has(d.code) && d.subject) {
      const s = routeFindings.get(d.subject) ?? new Set();
      s.add(d.code);
      routeFindings.set(d.subject, s);
    } else if (CHANNEL_CODES.has(d.code)) {
      for (const span of [d.span, ...d.related.map((r) => r.span)]) {
        if (!span) continue;
        const k = `${span.file}:${span.start}`;
        const e = ruleFindings.get(k) ?? { codes: new Set<string>(), severity: d.severity };
        e.codes.add(d.code);
        if (d.severity === 'error') e.severity = 'error';
        ruleFindings.set(k, e);
      }
    }
  }

  const edges = new Map<string, DrawEdge>();
  const addEdge = (e: Omit<DrawEdge, 'id'>, key: string): void => {
    if (!edges.has(key)) edges.set(key, { id: key, ...e });
  };

  if (g && view !== 'channels') {
    for (const f of facts) {
      const q = f.decl.name;
      if (hidden(q)) continue;
      addQube(q);
      const from = at(q);
      const up = g.out(q, 'uplink');
      if (up.length > 0) {
        nodes.set(NETWORK, { id: NETWORK, kind: 'network', label: 'network' });
        addEdge({ kind: 'uplink', from, to: NETWORK, colour: COLOUR.netvm }, `uplink:${from}->${NETWORK}`);
      }
      for (const to of g.out(q, 'netvm')) {
        if (hidden(to)) continue;
        addQube(to);
        const codes = routeFindings.get(q);
        const tor = g.isTor(to);
        const key = `netvm:${from}->${at(to)}`;
        const prev = edges.get(key);
        const findings = [...new Set([...(prev?.findings ?? []), ...(codes ?? [])])].sort(byText);
        edges.set(key, { id: key, kind: 'netvm', from, to: at(to), ...(findings.length ? { findings } : {}), colour: findings.length ? COLOUR.error : tor ? COLOUR.tor : COLOUR.netvm });
      }
      if (opts.templates) for (const t of g.out(q, 'template')) {
        addQube(t);
        addEdge({ kind: 'template', from, to: at(t), colour: COLOUR.template }, `template:${from}->${at(t)}`);
      }
    }
  }

  const folded = new Map<string, { action: 'allow' | 'ask'; services: Set<string>; among: Set<string>; findings: Set<string>; pairs: number }>();
  const signature = (e: { action: string; services: Set<string>; findings: Set<string> }) => `${e.action}|${[...e.services].sort(byText).join(',')}|${[...e.findings].sort(byText).join(',')}`;
  // Calls any qube may make to any other (Qubes' stock file copy and clipboard asks) are one note, not an edge per pair.
  const wide = new Map<string, { services: Set<string>; among: Set<string> }>();
  if (view !== 'network') {
    const services = opts.services && opts.services.length > 0 ? new Set(opts.services) : undefined;
    const key = (q: string) => identityOf.get(q) ?? `qube:${q}`;
    const declared = (q: string) => input.info.domains.has(q) && !hidden(q);
    const channels = input.analysis.channels({
      // Calls that cross an identity (a qube in none is its own): a reviewer's question.
      relevant: (s, t) => s !== t && declared(s) && declared(t) && key(s) !== key(t),
      ...(services ? { services } : {}),
      key,
    });
    const grouped = new Map<string, { from: string; to: string; action: 'allow' | 'ask'; services: Set<string>; danger?: 'critical' | 'high'; findings: Set<string>; severity?: string }>();
    for (const c of channels) {
      const r = input.rules[c.rule];
      if (r && ANY.has(r.source) && ANY_TARGET.test(r.target)) {
        const w = wide.get(c.action) ?? { services: new Set<string>(), among: new Set<string>() };
        w.services.add(serviceText(c, input.analysis));
        for (const q of [...c.sources, ...c.targets]) if (declared(q)) w.among.add(identityOf.get(q) ?? q);
        wide.set(c.action, w);
        continue;
      }
      const found = r ? ruleFindings.get(`${r.origin.span.file}:${r.origin.span.start}`) : undefined;
      for (const s of c.sources) {
        if (!declared(s)) continue;
        for (const t of c.targets) {
          if (!declared(t) || key(s) === key(t)) continue;
          addQube(s);
          addQube(t);
          const from = at(s);
          const to = at(t);
          const k = `channel:${c.action}:${from}->${to}`;
          const e = grouped.get(k) ?? { from, to, action: c.action, services: new Set<string>(), findings: new Set<string>() };
          const asked = c.disposable ? ' (@dispvm)' : c.action === 'allow' && c.requested !== t && !isKeyword(c.requested) ? ` (asked for ${c.requested})` : '';
          e.services.add(serviceText(c, input.analysis) + asked);
          const d = input.analysis.danger(c.service);
          if (d === 'critical' || (d === 'high' && e.danger === undefined)) e.danger = d;
          if (found) {
            for (const code of found.codes) e.findings.add(code);
            if (found.severity === 'error' || e.severity === undefined) e.severity = found.severity;
          }
          grouped.set(k, e);
        }
      }
    }
    // The same calls between many pairs (an ask dialog that offers every qube) are one note, not an edge each.
    const bySignature = new Map<string, number>();
    for (const e of grouped.values()) bySignature.set(signature(e), (bySignature.get(signature(e)) ?? 0) + 1);
    for (const [k, e] of grouped) {
      const sig = signature(e);
      if ((bySignature.get(sig) ?? 0) > FOLD_ABOVE) {
        const f = folded.get(sig) ?? { action: e.action, services: e.services, among: new Set<string>(), findings: e.findings, pairs: 0 };
        f.among.add(e.from);
        f.among.add(e.to);
        f.pairs++;
        folded.set(sig, f);
        continue;
      }
      const findings = [...e.findings].sort(byText);
      const colour = findings.length ? (e.severity === 'error' ? COLOUR.error : COLOUR.warning) : e.danger ? COLOUR[e.danger] : COLOUR.channel;
      edges.set(k, {
        id: k,
        kind: 'channel',
        from: e.from,
        to: e.to,
        action: e.action,
        services: [...e.services].sort(byText),
        ...(e.danger ? { danger: e.danger } : {}),
        ...(findings.length ? { findings } : {}),
        colour,
      });
    }
  }

  const notes: DrawNote[] = [];
  for (const [action, w] of [...wide].sort((a, b) => byText(a[0], b[0]))) {
    notes.push({ id: `any:${action}`, action: action as 'allow' | 'ask', services: [...w.services].sort(byText), among: [...w.among].sort(byText) });
  }
  [...folded.values()].sort((a, b) => byText(signature(a), signature(b))).forEach((f, i) => {
    const findings = [...f.findings].sort(byText);
    notes.push({ id: `many:${i}`, action: f.action, services: [...f.services].sort(byText), among: [...f.among].map((n) => n.replace(/^identity:/, '')).sort(byText), pairs: f.pairs, ...(findings.length ? { findings } : {}) });
  });
  const usedClusters = new Set([...nodes.values()].map((n) => n.cluster).filter((c): c is string => c !== undefined));
  return {
    view,
    collapsed,
    clusters: collapsed ? [] : clusters.filter((c) => usedClusters.has(c.id)),
    nodes: [...nodes.values()].sort((a, b) => byText(a.id, b.id)),
    edges: [...edges.values()].sort((a, b) => byText(a.id, b.id)),
    notes,
  };
}

function quote(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

const SHAPES: Readonly<Record<NodeKind, string>> = {
  qube: 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
  gateway: 'shape=box3d, style=filled, fillcolor="#eeeeec"',
  'tor-gateway': 'shape=box3d, style="filled,bold", fillcolor="#e9dcef", color="#5c3566", penwidth=2',
  template: 'shape=component, style=filled, fillcolor="#f3f3f1", fontcolor="#555753"',
  network: 'shape=doubleoctagon, style=filled, fillcolor="#d3d7cf"',
  identity: 'shape=folder, style=filled, fillcolor="#ffffff"',
};

function nodeLine(n: DrawNode, indent: string): string {
  const extra = n.colour ? `, color=${quote(n.colour)}, fontcolor=${quote(n.colour)}, penwidth=2` : '';
  return `${indent}${quote(n.id)} [id=${quote(`node:${n.id}`)}, label=${quote(n.label)}, ${SHAPES[n.kind]}${extra}];`;
}

function edgeLabel(e: DrawEdge): string {
  const parts: string[] = [];
  if (e.findings?.length) parts.push(e.findings.join(' '));
  if (e.kind === 'channel') {
    const svcs = e.services ?? [];
    parts.push(...svcs.slice(0, 8), ...(svcs.length > 8 ? [`… ${svcs.length - 8} more`] : []));
  }
  return parts.join('\n');
}

/** The DOT text of a drawing (Graphviz `dot`). */
export function renderDot(model: DrawModel, title = 'policy'): string {
  const out: string[] = [];
  out.push(`digraph ${quote(title)} {`);
  out.push('  graph [id="graph", rankdir=LR, compound=true, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.9, newrank=true];');
  out.push('  node [fontname="Helvetica", fontsize=10];');
  out.push('  edge [fontname="Helvetica", fontsize=9];');
  for (const c of model.clusters) {
    out.push(`  subgraph ${quote(c.id)} {`);
    out.push(`    graph [id=${quote(c.id)}, label=${quote(`identity ${c.identity}\nnetwork ${c.network}${c.label ? `\nlabel ${c.label}` : ''}`)}, color=${quote(c.colour)}, penwidth=2, style="rounded", fontcolor=${quote(c.colour)}];`);
    for (const n of model.nodes) if (n.cluster === c.id) out.push(nodeLine(n, '    '));
    out.push('  }');
  }
  for (const n of model.nodes) if (n.cluster === undefined) out.push(nodeLine(n, '  '));
  for (const e of model.edges) {
    const attrs: string[] = [`id=${quote(`edge:${e.id}`)}`, `color=${quote(e.colour)}`];
    const label = edgeLabel(e);
    if (label) attrs.push(`label=${quote(label)}`, `fontcolor=${quote(e.colour)}`);
    if (e.kind === 'channel') attrs.push(`style=${e.action === 'ask' ? 'dashed' : 'solid'}`, 'constraint=false', e.danger || e.findings ? 'penwidth=2' : 'penwidth=1.2');
    else if (e.kind === 'template') attrs.push('style=dotted', 'arrowhead=empty');
    else attrs.push(`penwidth=${e.findings ? 3 : 2}`);
    out.push(`  ${quote(e.from)} -> ${quote(e.to)} [${attrs.join(', ')}];`);
  }
  for (const n of model.notes) {
    const head = n.pairs === undefined ? `rules from any qube to any other: ${n.action}\nbetween the qubes of:` : `${n.findings ? `${n.findings.join(' ')}\n` : ''}${n.action} between ${n.pairs} pairs of:`;
    const svcs = n.services.length > 12 ? [...n.services.slice(0, 12), `… ${n.services.length - 12} more`] : n.services;
    const text = `${head}\n${wrap(n.among)}\n${svcs.join('\n')}`;
    const colour = n.findings ? COLOUR.error : COLOUR.channel;
    out.push(`  ${quote(`note:${n.id}`)} [id=${quote(`node:note:${n.id}`)}, shape=note, fontsize=9, style=${n.action === 'ask' ? 'dashed' : 'solid'}, color=${quote(colour)}, fontcolor=${quote(colour)}, label=${quote(text)}];`);
  }
  out.push(...legend(model));
  out.push('}');
  return out.join('\n') + '\n';
}

function wrap(names: readonly string[]): string {
  const lines: string[] = [];
  const shown = names.length > 40 ? [...names.slice(0, 40), `… ${names.length - 40} more`] : names;
  for (let i = 0; i < shown.length; i += 4) lines.push(shown.slice(i, i + 4).join(', '));
  return lines.join('\n');
}

function legend(model: DrawModel): string[] {
  const rows: string[] = [];
  if (model.view !== 'channels') rows.push(`netvm edge: solid; to a Tor gateway: purple`);
  if (model.view !== 'network') rows.push('channel: allow solid, ask dashed; green, orange high, dark red critical');
  rows.push('a finding: red, with its code');
  return [`  "legend" [id="node:legend", shape=note, fontsize=9, fontcolor="#555753", color="#babdb6", label=${quote(rows.join('\n'))}, margin=0.15];`];
}

/** The JSON form of a drawing (stable: keys in a fixed order, lists sorted). */
export function renderJson(model: DrawModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
