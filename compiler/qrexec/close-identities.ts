/**
 * The rules qpc generates to close the Tor identities (DESIGN §4.3–4.4). The
 * stock policy asks or allows file copy, clipboard, open-in-VM, open-URL,
 * start-app … between any qubes; for every Tor identity this writes the
 * denials that close those channels to other identities and the rest of the
 * system, while calls inside the identity and to dom0 keep their stock
 * behaviour, each kept rule no looser than the rest of the policy. The
 * result is the complete policy that the checks verify and the qrexec
 * target emits.
 */
import type { PolicyGraph } from '../graph/policy-graph.js';
import type { Program } from '../program.js';
import { ANY_ARGUMENT, classKey, findChannels, namedQubes, type Channel } from './channels.js';
import { dispvmOf, dispvmTagToken, readRuleTokens, ruleTokens, sourceMatches, tagToken } from './token.js';
import { evaluate, evaluateIndexed, indexRules, matchesRequest, type RuleIndex } from './evaluate.js';
import { comparePolicyFiles, completePolicy, identityTag, insertRules, systemInfo } from './lower.js';
import type { EvaluatedPolicy } from './query.js';
import type { Decision, DomainInfo, QrexecRule, SystemInfo } from './types.js';
import { worldOf } from './world.js';
import { contextOf, exempt, ownGateways, torRelevant, WHONIX_SERVICES, type Context } from './identities.js';

/** The complete policy, closed, and the sides its checks reason about. */
export interface ClosedPolicy {
  /** The stock files, the user's rules and the generated ones, as dom0 reads them. */
  readonly policy: EvaluatedPolicy;
  readonly cx: Context;
}

/** Records the Tor identities a stock channel touches, per identity the services to close. */
function markStockChannel(cx: Context, base: readonly QrexecRule[], c: Channel, pairs: Map<string, Set<string>>, reached: Map<string, number>): void {
  if (!base[c.rule].origin.stock || exempt(cx, c)) return;
  for (const q of [c.sources[0], ...c.targets]) {
    const id = cx.identityOf(q);
    if (!cx.isTorIdentity(id)) continue;
    const set = pairs.get(id!) ?? new Set();
    if (!set.has(c.service)) reached.set(c.service, (reached.get(c.service) ?? 0) + 1);
    set.add(c.service);
    pairs.set(id!, set);
  }
}

/**
 * Where the generated rules for `service` go: after the last file qpc writes
 * that dom0 reads before the first stock rule that allows or asks for the
 * service. Every rule of the user's that dom0 reads before that stock rule is
 * then read before the generated ones, so a `deny` in a later file of the
 * user's (a `32-…` catch-all, say) still decides first. When that last file
 * is the main one, the rules go at its end; otherwise into a file of their
 * own named after it (`32-catch-all_qpc` after `32-catch-all`), so a file
 * the user's rules came from holds only those (another tool may manage it
 * too); in the main file's place when no such name sorts in between.
 */
function closingFile(cx: Context, base: readonly QrexecRule[], service: string): string {
  const main = cx.program.settings.policyFile;
  const first = base.find((r) => r.origin.stock && r.action !== 'deny' && (r.service === service || r.service === '*'));
  if (first === undefined) return main;
  let best: string | undefined;
  const files = new Set(base.map((r) => r.origin.policyFile));
  for (const f of new Set([main, ...base.filter((r) => !r.origin.stock).map((r) => r.origin.policyFile)])) {
    if (comparePolicyFiles(f, first.origin.policyFile) < 0 && (best === undefined || comparePolicyFiles(f, best) > 0)) best = f;
  }
  if (best === undefined || best === main) return main;
  const own = `${best}_qpc`;
  const between = [...files].some((f) => comparePolicyFiles(f, best) > 0 && comparePolicyFiles(f, own) <= 0);
  return own.length <= 63 && !between && comparePolicyFiles(own, first.origin.policyFile) < 0 ? own : best;
}

const rank = { deny: 0, ask: 1, allow: 2 } as const;

/** What a generated rule that keeps a stock behaviour may say: the strictest decision the rest of the policy takes on the requests it matches. */
interface Kept {
  readonly action: QrexecRule['action'];
  readonly defaultTarget?: string;
  /** `autostart=no`, when every decision it restates comes from such a rule. */
  readonly autostart?: false;
}

/** A request a generated rule must decide as the rest of the policy does: source, target. */
type Pair = readonly [string, string];

/**
 * The strictest decision `rest` (the rules dom0 reads after the generated
 * ones) takes on `requests` with argument `argument`: deny as soon as one is
 * denied, or when `autostart=no` rules decide some but not all (one rule
 * cannot restate both); an ask keeps its `default_target=` when every ask
 * has the same.
 */
function strictest(cx: Context, info: SystemInfo, rest: RuleIndex, service: string, argument: string, requests: readonly Pair[]): Kept {
  let action: QrexecRule['action'] = 'allow';
  const defaults = new Set<string | undefined>();
  const autostart = new Set<boolean>();
  for (const [source, target] of requests) {
    const d = evaluateIndexed(rest, info, { service, argument, source, target }, cx.program.settings.qubes);
    const r = d.rule === undefined ? undefined : rest.rules[d.rule];
    if (d.action === 'deny' || r === undefined) return { action: 'deny' };
    autostart.add(r.autostart !== false);
    if (rank[d.action] < rank[action]) action = d.action;
    if (d.action === 'ask') defaults.add(r.defaultTarget);
  }
  if (requests.length === 0 || autostart.size > 1) return { action: 'deny' };
  const [only] = defaults;
  return {
    action,
    ...(action === 'ask' && defaults.size === 1 && only !== undefined ? { defaultTarget: only } : {}),
    ...(autostart.has(false) ? { autostart: false as const } : {}),
  };
}

const sameKept = (a: Kept, b: Kept) => a.action === b.action && a.defaultTarget === b.defaultTarget && a.autostart === b.autostart;

/**
 * The arguments the rules of `service` in `rules` tell apart: each one a rule
 * names (`+`, the empty one, included), and `others`: any other, with the
 * empty one when no rule names it.
 */
function argumentsOf(rules: readonly QrexecRule[], service: string): { named: string[]; others: string[]; all: string[] } {
  const named = [...new Set(rules.filter((r) => r.service === service && r.argument !== '*').map((r) => r.argument))].sort();
  const others = named.includes('+') ? [ANY_ARGUMENT] : ['+', ANY_ARGUMENT];
  return { named, others, all: [...others, ...named] };
}

/**
 * One qube per class of `qubes` that `rules` cannot tell apart
 * ({@link classKey}; a qube the rules name is a class of its own), two where
 * a class has several (for calls inside it).
 */
function representatives(cx: Context, qubes: readonly string[], named: ReadonlySet<string>): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const q of qubes) {
    const d = cx.world.info.domains.get(q)!;
    const k = named.has(q) ? `=${q}` : classKey(d);
    const n = seen.get(k) ?? 0;
    if (n < 2) out.push(q);
    seen.set(k, n + 1);
  }
  return out;
}

/**
 * The part of the world the rules generated for one identity are computed
 * and checked in: its qubes and their running disposables, its gateways,
 * dom0, the qubes the rules after them name, and the disposable templates
 * any of those open. Every qube a generated rule can list or reach is
 * there, so an ask list it builds is the same as over the whole world, and
 * the list of the policy without it keeps every qube it is compared with;
 * each of the other qubes would only cost time.
 */
function scopeOf(cx: Context, names: Iterable<string>): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  const add = (n: string) => {
    if (domains.has(n)) return;
    const d = cx.world.info.domains.get(n);
    if (d === undefined) return;
    domains.set(n, d);
    if (d.defaultDispvm !== null) add(d.defaultDispvm);
  };
  for (const n of names) add(n);
  return { domains };
}

interface Closing {
  readonly rules: QrexecRule[];
  /**
   * Per identity and service: the requests no generated rule may decide more
   * loosely than the policy without them, and the rules dom0 reads after the
   * generated ones (`rest`).
   */
  readonly checks: {
    readonly service: string;
    readonly arguments: readonly string[];
    readonly requests: readonly Pair[];
    readonly rest: RuleIndex;
    readonly info: SystemInfo;
    /**
     * The rules generated for this identity and service. Of all generated
     * rules, only these can be the first to allow or ask for one of the
     * requests: another identity's keep rules take its own tag or gateway as
     * the source and its own qubes as the target.
     */
    readonly own: readonly QrexecRule[];
  }[];
}

/**
 * The generated rules that close the stock channels of the Tor identities
 * (`pairs`: identity → services). Per identity and service: the rules that
 * keep what the stock policy grants inside the identity (its own
 * disposables, the dialog, calls between its qubes), each no looser than
 * the rest of the policy decides on every request it matches, then the
 * denials to and from everything else. `dropped` are kept rules a looser
 * cell ruled out (see {@link checkChannels}).
 */
function closingRules(cx: Context, base: readonly QrexecRule[], pairs: ReadonlyMap<string, ReadonlySet<string>>, dropped: ReadonlySet<string>): Closing {
  const out: QrexecRule[] = [];
  const checks: Closing['checks'] = [];
  const release = cx.program.settings.qubes;
  // The request forms besides named qubes that a generated rule's target can match: `@dispvm`
  // (which `@dispvm:@tag:T` also takes), new disposables of the identity's templates (no other
  // carries its tag), the dialog, dom0.
  const fixedForms = ['@default', '@dispvm', '@adminvm'];
  const rests = new Map<string, { rules: QrexecRule[]; index: RuleIndex; named: Set<string> }>();
  const files = new Map<string, string>();
  const restOf = (file: string) => {
    let r = rests.get(file);
    if (!r) {
      const rules = base.filter((x) => comparePolicyFiles(x.origin.policyFile, file) > 0);
      rests.set(file, (r = { rules, index: indexRules(rules), named: namedQubes(rules, cx.program.settings.qubes) }));
    }
    return r;
  };
  for (const id of [...pairs.keys()].sort()) {
    const decl = cx.program.decls.get(id)!;
    const members = cx.graph.members(id).filter((m) => cx.info.domains.has(m)).sort();
    if (members.length === 0) continue;
    // The callers the identity's tag matches: its qubes and their running disposables.
    const callers = [...members, ...[...cx.world.standIns].filter(([n, x]) => x.kind === 'disposable' && cx.identityOf(n) === id).map(([n]) => n)];
    const dvms = members.filter((m) => cx.info.domains.get(m)!.templateForDispvms);
    const tag = tagToken(identityTag(id));
    const tagDisposables = dispvmTagToken(identityTag(id));
    // Only when every qube of the identity opens its disposables inside it (else QP3016 reports the one that does not).
    const ownDisposables = members.every((m) => {
      const dd = cx.info.domains.get(m)?.defaultDispvm ?? null;
      return dd === null || cx.identityOf(dd) === id;
    });
    for (const service of [...pairs.get(id)!].sort()) {
      let file = files.get(service);
      if (file === undefined) files.set(service, (file = closingFile(cx, base, service)));
      const rest = restOf(file);
      const from = representatives(cx, callers, rest.named);
      const to = representatives(cx, members, rest.named);
      const args = argumentsOf(rest.rules, service);
      const gateways = WHONIX_SERVICES.test(service) ? ownGateways(cx, members) : [];
      const info = scopeOf(cx, [...callers, ...gateways, ...cx.admin, ...rest.named]);
      const make = (kind: string, kept: Kept, source: string, target: string, why: string, argument = '*'): QrexecRule => ({
        service,
        argument,
        source,
        target,
        action: kept.action,
        ...(kept.defaultTarget !== undefined ? { defaultTarget: kept.defaultTarget } : {}),
        ...(kept.autostart === false ? { autostart: false } : {}),
        origin: { policyFile: file, stock: false, span: decl.node.name.span, id: `qpc-close-${id}-${service}${argument === '*' ? '' : argument}-${kind}`, generated: why },
        // Like the rules lowering makes, read once here.
        tokens: readRuleTokens({ source, target, ...(kept.defaultTarget !== undefined ? { defaultTarget: kept.defaultTarget } : {}) }, release),
      });
      const start = out.length;
      const push = (rule: QrexecRule) => {
        if (!dropped.has(rule.origin.id)) out.push(rule);
      };
      /**
       * A rule that keeps what the rest decides on `requests`, for every
       * argument: one rule when all arguments agree; else a rule per argument
       * the rest names (a deny where it denies), then one for the others.
       */
      const keep = (kind: string, requests: Pair[], source: string, target: string, why: string, only?: QrexecRule['action']) => {
        const ok = (k: Kept) => k.action !== 'deny' && (only === undefined || k.action === only);
        const per = new Map(args.all.map((a) => [a, strictest(cx, info, rest.index, service, a, requests)] as const));
        const first = per.get(args.others[0])!;
        const general = args.others.every((a) => sameKept(per.get(a)!, first)) && ok(first) ? first : { action: 'deny' as const };
        if (args.named.every((a) => sameKept(per.get(a)!, general))) {
          if (ok(general)) push(make(kind, general, source, target, why));
          return;
        }
        for (const a of args.named) {
          const k = per.get(a)!;
          if (sameKept(k, general)) continue;
          push(make(kind, ok(k) ? k : { action: 'deny' }, source, target, why, a));
        }
        if (ok(general)) push(make(kind, general, source, target, why));
      };
      const tagged = (kind: string, requests: Pair[], target: string, why: string, only?: QrexecRule['action']) => keep(kind, requests, tag, target, why, only);
      if (ownDisposables) {
        const withDisposable = from.filter((q) => cx.world.info.domains.get(q)!.defaultDispvm !== null);
        if (withDisposable.length > 0) tagged('dispvm', withDisposable.map((q) => [q, '@dispvm'] as const), '@dispvm', `keeps ${service} to the identity's own disposables`);
        if (dvms.length > 0) tagged('new-dispvm', from.flatMap((q) => dvms.map((x) => [q, dispvmOf(x)] as const)), tagDisposables, `keeps ${service} to new disposables of the identity's disposable templates`);
      }
      tagged('dialog', from.map((q) => [q, '@default'] as const), '@default', `keeps the ${service} dialog, listing only qubes of identity ${id}`, 'ask');
      if (members.length > 1) tagged('inside', from.flatMap((q) => to.filter((t) => t !== q).map((t) => [q, t] as const)), tag, `keeps ${service} inside identity ${id} as the rest of the policy has it`);
      // Whonix's own calls between the identity's qubes and their Tor gateways.
      for (const g of gateways) {
        tagged(`to-${g}`, from.map((q) => [q, g] as const), g, `keeps ${service} from identity ${id} to its Tor gateway ${g}`);
        keep(`from-${g}`, from.map((q) => [g, q] as const), g, tag, `keeps ${service} from the Tor gateway ${g} to identity ${id}`);
      }
      const forms = [...fixedForms, ...dvms.map(dispvmOf)];
      const deny = { action: 'deny' } as const;
      out.push(make('out', deny, tag, '@anyvm', `closes ${service} from Tor identity ${id} to other identities and system qubes`));
      out.push(make('in', deny, '@anyvm', tag, `closes ${service} into Tor identity ${id} from other identities and system qubes`));
      out.push(make('in-dispvm', deny, '@anyvm', tagDisposables, `closes ${service} into new disposables of Tor identity ${id}`));
      checks.push({
        service,
        arguments: args.all,
        requests: [...from.flatMap((q) => [...to, ...forms, ...gateways].map((t) => [q, t] as const)), ...gateways.flatMap((g) => from.map((q) => [g, q] as const))],
        rest: rest.index,
        info,
        own: out.slice(start),
      });
    }
  }
  return { rules: out, checks };
}

/** Whether `a` (with the generated rules) grants more than `b` (without): a stronger action, or a target `b` does not offer. */
function looser(a: Decision, b: Decision): boolean {
  if (rank[a.action] > rank[b.action]) return true;
  if (a.action === 'deny') return false;
  const offered = (d: Decision) => new Set(d.action === 'allow' ? [d.target] : d.action === 'ask' ? d.targets ?? [] : []);
  const theirs = offered(b);
  return [...offered(a)].some((t) => !theirs.has(t));
}

/**
 * The complete policy with the generated rules. A rule that keeps
 * a stock behaviour is computed to be no looser than the rest of the policy;
 * this then checks it on the policy as dom0 reads it (ask lists included)
 * and drops any that decides one of its requests more loosely than the
 * policy without generated rules, until none does.
 *
 * Only the rules from the generated ones on are compared: the rules before
 * them are the same in both policies, so they decide a request that they
 * match the same way in both, and in an ask list each qube is decided by
 * the first rule whose expansion holds it, which is theirs in both or one
 * of the compared ones.
 */
function closePolicy(cx: Context, base: readonly QrexecRule[], pairs: ReadonlyMap<string, ReadonlySet<string>>): QrexecRule[] {
  const dropped = new Set<string>();
  const release = cx.program.settings.qubes;
  for (;;) {
    const closing = closingRules(cx, base, pairs, dropped);
    let bad: string | undefined;
    // The generated rules of each service, in order (every one is of a named service).
    const oursOf = new Map<string, QrexecRule[]>();
    for (const r of closing.rules) (oursOf.get(r.service) ?? oursOf.set(r.service, []).get(r.service)!).push(r);
    for (const { service, arguments: args, requests, rest, info, own } of closing.checks) {
      // Only the rules of the service and the `*` rules whose source takes one of the callers
      // decide these requests and build their ask lists: the others are left out.
      const callers = [...new Set(requests.map(([source]) => source))];
      const takesCaller = (r: QrexecRule) => {
        const tok = ruleTokens(r, release).source;
        return callers.some((c) => sourceMatches(tok, c, info));
      };
      const theirs = (rest.byService.get(service) ?? rest.anyService).map((i) => rest.rules[i]).filter(takesCaller);
      const withOurs = [...(oursOf.get(service) ?? []).filter(takesCaller), ...theirs];
      search: for (const [source, target] of requests) for (const argument of args) {
        const req = { service, argument, source, target };
        // Only a request a kept rule decides can differ. The first of the identity's own rules it
        // matches tells whether one can (the evaluation over every rule below decides).
        const first = own.find((r) => matchesRequest(r, info, req, release));
        if (first === undefined || first.action === 'deny') continue;
        const a = evaluate(withOurs, info, req, release);
        const by = a.rule === undefined ? undefined : withOurs[a.rule];
        if (by?.origin.generated === undefined || a.action === 'deny') continue;
        if (looser(a, evaluate(theirs, info, req, release))) {
          bad = by.origin.id;
          break search;
        }
      }
      if (bad !== undefined) break;
    }
    if (bad === undefined) return insertRules(base, closing.rules);
    dropped.add(bad);
  }
}

/**
 * The complete policy with the rules that close the Tor identities. A first
 * pass of the channel analysis only asks which Tor identities each stock
 * service reaches (once it reaches all of them, the rest of that service is
 * skipped); the closing rules follow from that.
 */
export function closeIdentities(program: Program, graph: PolicyGraph): ClosedPolicy {
  const info = systemInfo(graph);
  const release = program.settings.qubes;
  const base = completePolicy(program);
  const world = worldOf(info, base);
  const cx = contextOf(program, graph, info, world);
  // Only services a stock rule allows or asks for can have stock channels to close.
  const stockServices = new Set(base.filter((r) => r.origin.stock && r.action !== 'deny').map((r) => r.service));
  const torIdentities = [...program.decls.values()].filter((d) => d.form === 'identity' && cx.isTorIdentity(d.name)).map((d) => d.name);
  const pairs = new Map<string, Set<string>>();
  const reached = new Map<string, number>();
  if (torIdentities.length > 0) {
    findChannels({
      rules: base,
      info: world.info,
      release,
      relevant: (s, t) => torRelevant(cx, s, t),
      services: stockServices,
      focus: cx.focus(false),
      key: cx.key,
      onChannel: (c) => markStockChannel(cx, base, c, pairs, reached),
      enough: (service) => reached.get(service) === torIdentities.length,
    });
  }
  return { policy: { rules: closePolicy(cx, base, pairs), info, release }, cx };
}
