/**
 * Containment of binding errors, so that the graph stage can run past them
 * without reporting what follows from them. A binding error poisons the
 * statement it is in: the declaration (its amendments included), the rule,
 * `expect`, `require` or `waive`. The graph stage sees only what bound
 * ({@link boundPart}), and a finding of it is kept only when nothing
 * poisoned could change it ({@link Containment.unsure}). An error outside
 * such a statement (settings, a policy file block's name, a stock block, a
 * comment) leaves nothing to contain: the check stops after binding.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { NETWORK, type PolicyGraph } from '../graph/policy-graph.js';
import { itemKey, lastItem, type Decl, type Program } from '../program.js';
import type { Span } from '../source.js';
import type { Declaration, Expect, Item, Require, Rule, Statement, Waive } from '../syntax/ast.js';
import { substitute } from './names.js';

/** A `waive` with an error: the findings it might have waived, `undefined` for any code or subject. */
interface BrokenWaive {
  readonly node: Waive;
  readonly code?: string;
  readonly subject?: string;
}

/** What the binding errors of a program poison. */
export interface Poison {
  /** Declarations by name, each with whether the error can change what qrexec knows of the qube (type, tags, identity, default disposable). */
  readonly decls: ReadonlyMap<string, { readonly qrexec: boolean }>;
  /** Items with an error in them: not seen by the graph stage. */
  readonly items: ReadonlySet<Item>;
  /** Declarations whose `in IDENTITY` does not bind. */
  readonly identityRefs: ReadonlySet<Declaration>;
  readonly rules: ReadonlySet<Rule>;
  /** The services a poisoned rule could be a rule of; `*` for any. */
  readonly services: ReadonlySet<string>;
  readonly expects: ReadonlySet<Expect>;
  readonly requires: ReadonlySet<Require>;
  readonly waives: readonly BrokenWaive[];
}

/** The items whose errors change a qube's system information or identity (qrexec/lower.ts `systemInfo`). */
const QREXEC_KEYS = new Set(['template', 'default-disposable', 'tag', 'whonix-tags', 'feature', 'whonix', 'network', 'disposable']);

/** The graph-stage codes decided on the qrexec policy. */
const QREXEC_CODES = new Set(['QP3015', 'QP3030', 'QP3031', 'QP3032', 'QP3033', 'QP3034', 'QP3035', 'QP3036']);

function within(inner: Span, outer: Span): boolean {
  return inner.file === outer.file && inner.start >= outer.start && inner.end <= outer.end;
}

/** A statement, or a rule of a policy file block with the block. */
interface Entry {
  readonly s: Statement | Rule;
  readonly block?: Statement;
}

/** Each file's statements (a policy file block's rules after it, on their own), in source order. */
function indexOf(program: Program): Map<string, Entry[]> {
  return new Map(program.files.map((f) => [f.source.path, f.ast.statements.flatMap((s): Entry[] => (s.kind === 'PolicyFileBlock' ? [{ s }, ...s.rules.map((r) => ({ s: r, block: s }))] : [{ s }]))] as const));
}

/** The innermost statement holding a span (a rule before its block), if any: the last one starting at or before it. */
function holder(index: ReadonlyMap<string, readonly Entry[]>, span: Span): Statement | Rule | undefined {
  const list = index.get(span.file);
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].s.span.start <= span.start) lo = mid + 1;
    else hi = mid;
  }
  const e = list[lo - 1];
  if (e === undefined) return undefined;
  if (within(span, e.s.span)) return e.s;
  return e.block && within(span, e.block.span) ? e.block : undefined;
}

/**
 * What the binding errors poison; `undefined` when an error is outside
 * every statement that can be set aside (the analysis then does not run).
 */
export function poisonOf(program: Program, errors: readonly Diagnostic[]): Poison | undefined {
  // Built only when there is an error to place.
  let index: Map<string, Entry[]> | undefined;
  const byFile = () => (index ??= indexOf(program));
  const decls = new Map<string, { qrexec: boolean }>();
  const items = new Set<Item>();
  const identityRefs = new Set<Declaration>();
  const rules = new Set<Rule>();
  const services = new Set<string>();
  const expects = new Set<Expect>();
  const requires = new Set<Require>();
  const waives = new Map<Waive, { code: boolean; subject: boolean }>();
  const whonix = program.settings.whonix;
  const poisonDecl = (name: string, qrexec: boolean) => decls.set(name, { qrexec: qrexec || (decls.get(name)?.qrexec ?? false) });
  for (const e of errors) {
    if (e.severity !== 'error') continue;
    const s = e.span && holder(byFile(), e.span);
    if (!e.span || !s) return undefined;
    switch (s.kind) {
      case 'Declaration': {
        const item = s.items.find((i) => within(e.span!, i.span));
        if (item) items.add(item);
        const inIdentity = s.identity !== undefined && within(e.span, s.identity.span);
        if (inIdentity) identityRefs.add(s);
        const qrexec = item ? QREXEC_KEYS.has(itemKey(item)) : true;
        if (s.form !== 'amend' || program.decls.has(substitute(s.name.text, whonix))) {
          poisonDecl(substitute(s.name.text, whonix), qrexec);
          break;
        }
        // An amendment of an unknown name: it was meant for the declaration "did you mean" names.
        const meant = e.fixes.flatMap((f) => f.edits.map((x) => x.newText)).filter((n) => program.decls.has(n));
        if (meant.length === 0) return undefined;
        for (const n of meant) poisonDecl(n, qrexec);
        break;
      }
      case 'Rule':
        rules.add(s);
        services.add(within(e.span, s.service.span) ? '*' : s.service.text);
        break;
      case 'Expect':
        expects.add(s);
        break;
      case 'Require':
        requires.add(s);
        break;
      case 'Waive': {
        const w = waives.get(s) ?? { code: false, subject: false };
        if (within(e.span, s.code.span)) w.code = true;
        if (within(e.span, s.subject.span)) w.subject = true;
        waives.set(s, w);
        break;
      }
      default:
        return undefined;
    }
  }
  return {
    decls,
    items,
    identityRefs,
    rules,
    services,
    expects,
    requires,
    waives: [...waives].map(([node, bad]) => ({ node, ...(bad.code ? {} : { code: node.code.text }), ...(bad.subject ? {} : { subject: substitute(node.subject.text, whonix) }) })),
  };
}

/** Whether a poison sets anything aside. */
export function isEmpty(p: Poison): boolean {
  return p.decls.size === 0 && p.rules.size === 0 && p.expects.size === 0 && p.requires.size === 0 && p.waives.length === 0;
}

/**
 * Whether the qrexec policy of the part that bound is the policy's own, and
 * the program's `expect` statements all bound: no rule or `expect` is set
 * aside and no qube's system information is in doubt. Only then is the
 * policy given to those who evaluate requests (`qpc query`, `qpc test`,
 * hovers), which read the program's `expect` statements with it.
 */
export function policyKnown(p: Poison): boolean {
  return p.rules.size === 0 && p.expects.size === 0 && ![...p.decls.values()].some((x) => x.qrexec);
}

/**
 * The program the graph stage analyses: every declaration (so that what
 * names it still binds) without the items that have errors and without an
 * `in` that does not name an identity, and the rules, `expect`, `require`
 * and `waive` statements without errors.
 */
export function boundPart(program: Program, p: Poison): Program {
  if (isEmpty(p)) return program;
  const decls = new Map<string, Decl>();
  for (const [name, d] of program.decls) {
    if (!p.decls.has(name)) {
      decls.set(name, d);
      continue;
    }
    const node = p.identityRefs.has(d.node) ? { ...d.node, identity: undefined } : d.node;
    decls.set(name, { ...d, node, items: d.items.filter((i) => !p.items.has(i)) });
  }
  return {
    ...program,
    decls,
    rules: program.rules.filter((b) => !p.rules.has(b.rule)),
    expects: program.expects.filter((e) => !p.expects.has(e)),
    requires: program.requires.filter((r) => !p.requires.has(r)),
    waives: program.waives.filter((w) => !p.waives.some((x) => x.node === w)),
  };
}

/** Decides which findings of the graph stage a poison could change. */
export interface Containment {
  /** Whether a finding could change once the poisoned statements bind. */
  unsure(d: Diagnostic): boolean;
  /** Whether a finding of `code` on `subject` (any service) could appear or go once they bind. */
  unsureOf(code: string, subject: string | undefined): boolean;
  /** Whether a declaration's facts (network, template, disposables) depend on a poisoned one. */
  tainted(name: string): boolean;
}

/**
 * The rule that decides what a finding of the graph stage is about:
 *
 * - topology and SOCKS findings are about their subject (or the declaration
 *   they point into) and stand unless it depends on a poisoned declaration:
 *   the subject itself, its identity and the identity's gateway and
 *   disposable template, its netvm chain, template and default disposable,
 *   transitively. A shared Tor gateway (QP3008) counts the qubes behind it,
 *   so any poisoned qube or identity makes it unsure, and any poisoned
 *   declaration a lock entry (QP3026);
 * - findings decided on the qrexec policy are unsure when a poisoned
 *   declaration's system information could differ, or a poisoned rule
 *   could be a rule of their service (a `require`, QP3036, is about every
 *   service; a finding whose service is not known, about any);
 * - a finding a broken `waive` could have waived is unsure.
 */
export function containment(p: Poison, program: Program, graph: PolicyGraph): Containment {
  const whonix = program.settings.whonix;
  const memo = new Map<string, boolean>();
  const tainted = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // a loop adds nothing
    let t = p.decls.has(name);
    if (!t) {
      const d = program.decls.get(name);
      if (d?.form === 'identity') {
        const via = lastItem(d, 'NetworkItem')?.via;
        const disp = lastItem(d, 'RefItem', 'disposable')?.target;
        t = [via, disp].some((w) => w !== undefined && tainted(substitute(w.text, whonix)));
      } else if (d) {
        for (const kind of ['netvm', 'template', 'default-disposable', 'member'] as const) {
          if (graph.out(name, kind).some((n) => n !== NETWORK && tainted(n))) t = true;
        }
      }
    }
    memo.set(name, t);
    return t;
  };
  const qrexecDecl = [...p.decls.values()].some((x) => x.qrexec);
  const tenants = [...p.decls.keys()].some((n) => {
    const d = program.decls.get(n);
    return d !== undefined && d.form !== 'template' && d.form !== 'adminvm';
  });
  const byFile = indexOf(program);
  const serviceAt = (span: Span | undefined): string | undefined => {
    const s = span && holder(byFile, span);
    return s?.kind === 'Rule' || s?.kind === 'Expect' ? s.service.text : undefined;
  };
  const ruleService = (service: string | undefined) => p.rules.size > 0 && (service === undefined || service === '*' || p.services.has('*') || p.services.has(service));
  const waived = (code: string, subject: string | undefined) => p.waives.some((w) => (w.code === undefined || w.code === code) && (w.subject === undefined || w.subject === subject));
  const subjectOf = (d: Diagnostic): string | undefined => {
    if (d.subject !== undefined) return d.subject;
    const s = d.span && holder(byFile, d.span);
    return s?.kind === 'Declaration' ? substitute(s.name.text, whonix) : undefined;
  };
  const unsureOf = (code: string, subject: string | undefined, service?: () => string | undefined): boolean => {
    if (waived(code, subject)) return true;
    if (subject !== undefined && tainted(subject)) return true;
    if (code === 'QP3008' && tenants) return true;
    // A lock entry is checked against the gateways and apps it names.
    if (code === 'QP3026' && p.decls.size > 0) return true;
    if (!QREXEC_CODES.has(code)) return false;
    if (qrexecDecl) return true;
    if (code === 'QP3036') return p.rules.size > 0 || p.decls.size > 0;
    return ruleService(service?.());
  };
  return {
    tainted,
    unsureOf: (code, subject) => unsureOf(code, subject),
    unsure: (d) =>
      unsureOf(d.code, subjectOf(d), () => {
        if (d.code === 'QP3015') return 'qubes.UpdatesProxy';
        // Ours at the finding, or a stock rule the finding names first.
        return serviceAt(d.span) ?? (d.code === 'QP3030' || d.code === 'QP3031' ? serviceAt(d.related[0]?.span) : undefined);
      }),
  };
}
