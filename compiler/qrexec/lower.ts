/**
 * Lowers a checked program to the complete qrexec policy Qubes will
 * evaluate: the user's rules in their policy files, the stock files of the
 * selected release (modelled in the standard library), all in the order
 * dom0 reads them (file names sorted, rules in file order), and the system
 * information of the declared qubes.
 */
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { BoundRule, Decl, Program } from '../program.js';
import { substitute, whonixRole, whonixTagsOff } from '../whonix.js';
import type { DomainInfo, QrexecRule, SystemInfo } from './types.js';
import { dispvmOf, isKeyword, readRuleTokens, tagToken, tokenShape } from './token.js';
import type { QubeClass } from '../model.js';

/** The Qubes tag that marks the qubes of an identity. */
export function identityTag(identity: string): string {
  return `identity-${identity}`;
}

/** The Qubes class of each declaration form (`qvm-create --class`). */
export const classOf: Record<Decl['form'], QubeClass> = {
  adminvm: 'AdminVM',
  template: 'TemplateVM',
  gateway: 'AppVM',
  qube: 'AppVM',
  disposable: 'AppVM',
  standalone: 'StandaloneVM',
  'named-disposable': 'DispVM',
  identity: 'AppVM',
};

/**
 * The tags Qubes will carry for a qube: its own `tag` items, its identity's
 * tag, and the tags Qubes' Whonix add-on sets (reference whonix-and-tor §6.2):
 * `anon-vm` on workstations, `anon-gateway` on gateways, `whonix-updatevm`
 * on Whonix templates; from Qubes 4.3 also `sdwdate-gui-client/-server`.
 */
function tagsOf(g: PolicyGraph, d: Decl): string[] {
  const f = g.facts(d.name);
  const tags = new Set<string>();
  for (const i of d.items) if (i.kind === 'ValueItem' && i.key === 'tag') tags.add(i.value.text);
  if (f?.identity) tags.add(identityTag(f.identity.name));
  let template = f?.template;
  // A named disposable copies the tags of its disposable template, which copies its template's Whonix role.
  if (d.form === 'named-disposable' && template) {
    for (const t of tagsOf(g, template)) tags.add(t);
    template = g.facts(template.name)?.template;
  }
  const role = whonixRole(template) ?? whonixRole(d);
  if (d.form === 'template') {
    if (role !== undefined) tags.add('whonix-updatevm');
  } else if (whonixTagsOff(g, d)) {
    // The author said this qube goes without them (QP3037 names what that changes).
  } else if (role === 'workstation' || f?.mode === 'tor') {
    tags.add('anon-vm');
    if (g.program.settings.qubes !== '4.2' && role === 'workstation') tags.add('sdwdate-gui-client');
  } else if (role === 'gateway') {
    tags.add('anon-gateway');
    if (g.program.settings.qubes !== '4.2') tags.add('sdwdate-gui-server');
  }
  return [...tags].sort();
}

/** The system information of every declared qube (`internal.GetSystemInfo`'s shape, reference §1.7). */
export function systemInfo(g: PolicyGraph): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  for (const f of g.allFacts()) {
    const d = f.decl;
    // Precedence as in dom0: the qube's own, its identity's, the global one
    // (all folded into the facts); `none` at any level stops the search.
    const dd = f.defaultDisposable === undefined ? null : f.defaultDisposable;
    let internal: string | undefined;
    for (const i of d.items) if (i.kind === 'FeatureItem' && i.key.text === 'internal') internal = i.value.value;
    domains.set(d.name, {
      ...(internal !== undefined ? { internal } : {}),
      ...(f.defaultDisposableIsQubesDefault ? { defaultDispvmIsDefault: true } : {}),
      name: d.name,
      type: classOf[d.form],
      tags: tagsOf(g, d),
      defaultDispvm: dd,
      templateForDispvms: d.form === 'disposable',
      running: d.form === 'adminvm',
    });
  }
  return { domains };
}

/** A rule endpoint as qrexec reads it: identities become their tag. */
function endpoint(program: Program, text: string): string {
  const shape = tokenShape(text);
  if (shape.kind === 'dispvm-of' && shape.value !== '' && !isKeyword(shape.value)) return dispvmOf(substitute(shape.value, program.settings.whonix));
  if (isKeyword(text)) return text;
  const name = substitute(text, program.settings.whonix);
  return program.decls.get(name)?.form === 'identity' ? tagToken(identityTag(name)) : name;
}

/** One bound rule as a qrexec rule. */
export function lowerRule(program: Program, b: BoundRule, index: number): QrexecRule {
  const r = b.rule;
  let redirect: string | undefined;
  let defaultTarget: string | undefined;
  let user: string | undefined;
  let notify: boolean | undefined;
  let autostart: boolean | undefined;
  let because: string | undefined;
  for (const p of r.params) {
    if (p.kind === 'EndpointParam') {
      if (p.key === 'target') redirect = endpoint(program, p.value.text);
      else defaultTarget = endpoint(program, p.value.text);
    } else if (p.kind === 'UserParam') user = p.value.text;
    else if (p.kind === 'BecauseParam') because = p.reason.value;
    else if (p.flag === 'notify') notify = true;
    else if (p.flag === 'no-notify') notify = false;
    else autostart = false;
  }
  const rule = {
    service: r.service.text,
    argument: r.argument?.text ?? '*',
    source: endpoint(program, r.source.text),
    target: endpoint(program, r.target.text),
    action: r.action,
    ...(redirect !== undefined ? { redirect } : {}),
    ...(defaultTarget !== undefined ? { defaultTarget } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(notify !== undefined ? { notify } : {}),
    ...(autostart !== undefined ? { autostart } : {}),
    origin: { policyFile: b.policyFile, stock: b.stock, span: r.span, id: `${b.policyFile}#${index + 1}`, ...(because !== undefined ? { because } : {}) },
  };
  return { ...rule, tokens: readRuleTokens(rule, program.settings.qubes) };
}

/** Orders policy files as dom0 reads them: by file name, byte order. */
export function comparePolicyFiles(a: string, b: string): number {
  const x = `${a}.policy`;
  const y = `${b}.policy`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The complete policy: every file's rules, files in dom0's order. `extra`
 * rules (generated by qpc) go at the end of the file they name.
 */
export function completePolicy(program: Program, extra: readonly QrexecRule[] = []): QrexecRule[] {
  const byFile = new Map<string, QrexecRule[]>();
  const counters = new Map<string, number>();
  for (const b of program.rules) {
    const n = counters.get(b.policyFile) ?? 0;
    counters.set(b.policyFile, n + 1);
    const list = byFile.get(b.policyFile) ?? [];
    list.push(lowerRule(program, b, n));
    byFile.set(b.policyFile, list);
  }
  for (const r of extra) {
    const list = byFile.get(r.origin.policyFile) ?? [];
    list.push(r);
    byFile.set(r.origin.policyFile, list);
  }
  return [...byFile.keys()].sort(comparePolicyFiles).flatMap((f) => byFile.get(f)!);
}

/**
 * Adds generated rules at the end of the file each names, in a policy
 * already in dom0's order (so the program need not be lowered again); the
 * rules of one file keep their order.
 */
export function insertRules(policy: readonly QrexecRule[], extra: readonly QrexecRule[]): QrexecRule[] {
  if (extra.length === 0) return [...policy];
  const byFile = new Map<string, QrexecRule[]>();
  for (const r of extra) {
    const list = byFile.get(r.origin.policyFile);
    if (list) list.push(r);
    else byFile.set(r.origin.policyFile, [r]);
  }
  const files = [...byFile.keys()].sort(comparePolicyFiles);
  const out: QrexecRule[] = [];
  let f = 0;
  for (const r of policy) {
    while (f < files.length && comparePolicyFiles(r.origin.policyFile, files[f]) > 0) out.push(...byFile.get(files[f++])!);
    out.push(r);
  }
  while (f < files.length) out.push(...byFile.get(files[f++])!);
  return out;
}
