/**
 * Lowers a checked program to the policy model targets read (compiler/model.ts).
 * Runs only after a check without errors; pure. Gives a gateway or named
 * disposable without a label the label Qubes itself gives that kind of qube.
 */
import * as path from 'node:path';
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { ModelListener, ModelQube, PolicyModel } from '../model.js';
import { lastItem, type Decl, type Program } from '../program.js';
import { classOf, comparePolicyFiles, identityTag } from '../qrexec/lower.js';
import type { EvaluatedPolicy } from '../qrexec/query.js';
import type { Span } from '../source.js';
import type { ListenerItem } from '../syntax/ast.js';
import type { Allocation } from './allocate-socks.js';
import { whonixRole } from '../whonix.js';


/** `vmid_to_ipv4("10.137", qid)` (reference xen.md §1.2). */
export function qubeAddress(qid: number): string {
  if (qid < 255) return `10.137.0.${qid}`;
  return `10.137.${Math.floor((qid - 1) / 254)}.${((qid - 1) % 254) + 1}`;
}

function listenersOf(items: readonly ListenerItem[]): ModelListener[] {
  const byPort = new Map<number, ModelListener>();
  for (const l of items) {
    for (let p = l.from.value; p <= (l.to?.value ?? l.from.value); p++) {
      if (byPort.has(p)) continue;
      byPort.set(p, { kind: l.listenerKind.text, port: p, isolate: l.isolate.map((w) => w.text).sort(), options: l.options.map((w) => w.text) });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

/**
 * The label Qubes gives a qube of this kind when nothing names one, or
 * undefined where Qubes has none (`qvm-create` then refuses the qube,
 * reference §3.1). Gateways get what Qubes' installer gives its own
 * (qubes-mgmt-salt-dom0-virtual-machines `qvm/sys-net.sls`, `sys-firewall.sls`,
 * `sys-whonix.sls`): an uplink red like sys-net, a Tor gateway black like
 * sys-whonix, any other gateway green like sys-firewall. A named disposable
 * gets red, as with `qvm-create --disp` ("alias for --class DispVM --label
 * red", qubes-core-admin-client `qubesadmin/tools/qvm_create.py`).
 */
export function defaultLabel(d: Decl, g: PolicyGraph): string | undefined {
  if (d.form === 'named-disposable') return 'red';
  if (d.form !== 'gateway') return undefined;
  if (g.isTor(d.name)) return 'black';
  return d.items.some((i) => i.kind === 'FlagItem' && i.flag === 'uplink') ? 'red' : 'green';
}

function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function qubeOf(program: Program, g: PolicyGraph, policy: EvaluatedPolicy, qids: Readonly<Record<string, number>>, d: Decl): ModelQube {
  const f = g.facts(d.name)!;
  const spans: Record<string, Span> = {};
  for (const i of d.items) {
    const key = i.kind === 'RefItem' || i.kind === 'ValueItem' || i.kind === 'StringItem' || i.kind === 'CountItem' ? i.key : i.kind === 'MemoryItem' ? 'memory' : i.kind === 'FlagItem' ? i.flag : undefined;
    if (key !== undefined) spans[key] = i.span;
  }
  const memory = lastItem(d, 'MemoryItem');
  const vcpus = lastItem(d, 'CountItem', 'vcpus');
  const kernel = lastItem(d, 'StringItem', 'kernel');
  const kernelopts = lastItem(d, 'StringItem', 'kernelopts');
  const label = (lastItem(d, 'ValueItem', 'label') ?? (f.identity ? lastItem(f.identity, 'ValueItem', 'label') : undefined))?.value.text ?? defaultLabel(d, g);
  const features = new Map<string, { key: string; value: string; span: Span }>();
  const services = new Map<string, { name: string; enabled: boolean; span: Span }>();
  for (const i of d.items) {
    if (i.kind === 'FeatureItem') features.set(i.key.text, { key: i.key.text, value: i.value.value, span: i.span });
    if (i.kind === 'ServiceItem') services.set(i.service.text, { name: i.service.text, enabled: i.enabled, span: i.span });
  }
  const role = whonixRole(d) ?? whonixRole(f.template);
  const info = policy.info.domains.get(d.name)!;
  const qid = qids[d.name] ?? 0;
  const q: ModelQube = {
    name: d.name,
    span: d.node.name.span,
    form: d.form,
    klass: classOf[d.form],
    preexisting: d.std || d.form === 'template' || d.form === 'adminvm',
    ...(f.identity ? { identity: f.identity.name } : {}),
    ...(f.template ? { template: f.template.name } : {}),
    ...(label ? { label } : {}),
    netvm: f.netvm,
    providesNetwork: d.form === 'gateway',
    torGateway: g.isTor(d.name),
    ...(role === 'gateway' || role === 'workstation' ? { whonixRole: role } : {}),
    ...(f.defaultDisposable !== undefined ? { defaultDispvm: f.defaultDisposable } : {}),
    templateForDispvms: d.form === 'disposable',
    ...(memory ? { memory: memory.memory.value, ...(memory.max ? { maxmem: memory.max.value } : {}) } : {}),
    ...(vcpus ? { vcpus: vcpus.value.value } : {}),
    ...(f.virtMode ? { virtMode: f.virtMode.value as 'pvh' | 'hvm' | 'pv' } : {}),
    ...(kernel ? { kernel: kernel.value?.value ?? null } : {}),
    ...(kernelopts?.value !== undefined ? { kernelopts: kernelopts.value.value } : {}),
    autostart: d.items.some((i) => i.kind === 'FlagItem' && i.flag === 'autostart'),
    tags: info.tags,
    features: [...features.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    services: [...services.values()].sort(byName),
    devices: f.devices.map((i) => ({ deviceClass: i.deviceClass.text, ...(i.id ? { id: i.id.value } : {}), ...(i.options.some((o) => o.text === 'no-strict-reset') ? { noStrictReset: true } : {}), span: i.span })),
    spans,
    qid,
    ip: qubeAddress(qid),
  };
  return q;
}

/** The model of a checked program. */
export function lowerModel(program: Program, g: PolicyGraph, policy: EvaluatedPolicy, allocation: Allocation, qids: Readonly<Record<string, number>>): PolicyModel {
  const qubes = g
    .allFacts()
    .map((f) => qubeOf(program, g, policy, qids, f.decl))
    .sort(byName);
  const identities = [...program.decls.values()]
    .filter((d) => d.form === 'identity')
    .map((d) => ({
      name: d.name,
      mode: (lastItem(d, 'NetworkItem')?.mode.text ?? 'none') as 'clearnet' | 'tor' | 'none',
      tag: identityTag(d.name),
      members: [...g.members(d.name)].sort(),
      span: d.node.name.span,
    }))
    .sort(byName);
  const ours = new Map<string, PolicyModel['completePolicy'][number][]>();
  for (const r of policy.rules) {
    if (r.origin.stock) continue;
    const list = ours.get(r.origin.policyFile) ?? [];
    list.push(r);
    ours.set(r.origin.policyFile, list);
  }
  // The main file is written even without rules, so that an installed one is replaced.
  if (!ours.has(program.settings.policyFile)) ours.set(program.settings.policyFile, []);
  const policyFiles = [...ours.keys()].sort(comparePolicyFiles).map((name) => ({ name, rules: ours.get(name)! }));
  const torGateways = qubes
    .filter((q) => q.torGateway)
    .map((q) => ({
      name: q.name,
      whonixListeners: listenersOf(g.listeners(q.name)),
      extraListeners: allocation.listeners.filter((l) => l.gateway === q.name).map((l) => ({ kind: 'socks', port: l.port, isolate: [...l.isolate].sort(), options: [] })),
      clients: [...g.served(q.name)].sort(),
    }));
  return {
    entry: program.entry,
    source: path.basename(program.entry),
    settings: program.settings,
    qubes,
    identities,
    policyFiles,
    verifiedStock: program.verifiedStock.map((f) => ({ name: f.name, sha256: f.sha256, span: f.span })),
    completePolicy: policy.rules,
    systemInfo: policy.info,
    torGateways,
    socks: allocation.apps,
  };
}
