/**
 * Closes and checks qrexec channels (DESIGN §4.3–4.5). The stock policy asks
 * or allows file copy, clipboard, open-in-VM, open-URL, start-app … between
 * any qubes; for every Tor identity qpc generates the denials that close
 * those channels to other identities and the rest of the system, while calls
 * inside the identity and to dom0 keep their stock behaviour. Then it verifies
 * the complete policy: channels that remain (QP3030, QP3031), dangerous grants
 * (QP3032), rules that can never fire (QP3033) and stock rules ours make
 * unreachable (QP3034), `require` (QP3036) and `expect` (QP3035).
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph, QubeFacts } from '../graph/policy-graph.js';
import { lastItem, type Program } from '../program.js';
import { substitute } from '../whonix.js';
import type { Span } from '../source.js';
import { ANY_ARGUMENT, classKey, findChannels, namedQubes, type Channel } from './channels.js';
import { disposableTemplateOf, dispvmOf, dispvmTagToken, isKeyword, ruleTokens, tagToken, takesQube, token, typeToken, type Token } from './token.js';
import { evaluate, matchesRequest } from './evaluate.js';
import { comparePolicyFiles, completePolicy, identityTag, insertRules, systemInfo } from './lower.js';
import { ruleText, ruleWhere, type EvaluatedPolicy } from './query.js';
import { checkExpects } from './expects.js';
import type { Decision, DomainInfo, QrexecRule, SystemInfo } from './types.js';
import { describeStandIn, worldOf, type World } from './world.js';

/** Services Whonix itself runs between a workstation and its Tor gateway (80-whonix.policy). */
const WHONIX_SERVICES = /^(whonix\.|sdwdate\.|sdwdate-gui\.)/;

/** Danger levels of services (documented with QP3032). */
export const dangerous: readonly { readonly pattern: RegExp; readonly level: 'critical' | 'high'; readonly why: string; readonly toDisposableOk?: boolean; readonly torOnly?: boolean }[] = [
  { pattern: /^qubes\.(VMShell|VMRootShell|VMExec|VMExecGUI)$/, level: 'critical', why: 'runs any command in the target: full control of it', toDisposableOk: true },
  { pattern: /^admin\./, level: 'critical', why: 'is the Admin API: the caller manages qubes (and can take over the system)' },
  { pattern: /^qubes\.(GetDate|SetDateTime|SyncNtpClock)$/, level: 'high', why: 'gives the caller the clock, which lets an observer correlate the Tor identity with the host', torOnly: true },
  { pattern: /^qubes\.(InputMouse|InputKeyboard|InputTablet)$/, level: 'critical', why: 'injects input events into the target (and so controls it)' },
  // qubes.USB is called by the qube that takes the device, on the qube that has it (sys-usb).
  { pattern: /^qubes\.USB$/, level: 'high', why: 'hands a USB device of the target to the caller' },
  { pattern: /^(qubes\.USB.|u2f\.)/, level: 'high', why: 'hands a device or its secrets to the target' },
];

interface Context {
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
}

function contextOf(program: Program, graph: PolicyGraph, info: SystemInfo, world: World): Context {
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
  return { program, graph, info, world, identityOf, isTorIdentity: (i) => i !== undefined && modes.get(i) === 'tor', torQube, admin };
}

/** Calls between these qubes are channels a Tor identity must not have. */
function torRelevant(cx: Context, s: string, t: string): boolean {
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
function exempt(cx: Context, c: Channel): boolean {
  return WHONIX_SERVICES.test(c.service) && c.sources.every((s) => c.targets.every((t) => exemptPair(cx, s, t)));
}

/** {@link exempt} for one caller and one callee. */
function exemptPair(cx: Context, src: string, t: string): boolean {
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
function strictest(cx: Context, info: SystemInfo, rest: readonly QrexecRule[], service: string, argument: string, requests: readonly Pair[]): Kept {
  let action: QrexecRule['action'] = 'allow';
  const defaults = new Set<string | undefined>();
  const autostart = new Set<boolean>();
  for (const [source, target] of requests) {
    const d = evaluate(rest, info, { service, argument, source, target }, cx.program.settings.qubes);
    const r = d.rule === undefined ? undefined : rest[d.rule];
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

/**
 * A declared qube's own Tor gateway: its identity's `via`, when that is a
 * declared Tor gateway. Whonix's own calls run between the two (exempt from
 * the findings, kept by the generated rules). A qube routed through another
 * Tor gateway is QP3005; its calls to that one are a channel, and closed.
 */
function torGatewayOf(cx: Context, q: string): string | undefined {
  const via = cx.graph.facts(q)?.via?.name;
  return via !== undefined && cx.graph.isTor(via) && cx.info.domains.has(via) ? via : undefined;
}

/** The Tor gateways of these qubes ({@link torGatewayOf}). */
function ownGateways(cx: Context, qubes: readonly string[]): string[] {
  return [...new Set(qubes.map((q) => torGatewayOf(cx, q)).filter((g): g is string => g !== undefined))].sort();
}

interface Closing {
  readonly rules: QrexecRule[];
  /**
   * Per identity and service: the requests no generated rule may decide more
   * loosely than the policy without them, and the rules dom0 reads after the
   * generated ones (`rest`).
   */
  readonly checks: { readonly service: string; readonly arguments: readonly string[]; readonly requests: readonly Pair[]; readonly rest: readonly QrexecRule[]; readonly info: SystemInfo }[];
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
  // The request forms besides named qubes that a generated rule's target can match: `@dispvm`
  // (which `@dispvm:@tag:T` also takes), new disposables of the identity's templates (no other
  // carries its tag), the dialog, dom0.
  const fixedForms = ['@default', '@dispvm', '@adminvm'];
  const rests = new Map<string, { rules: QrexecRule[]; named: Set<string> }>();
  const files = new Map<string, string>();
  const restOf = (file: string) => {
    let r = rests.get(file);
    if (!r) {
      const rules = base.filter((x) => comparePolicyFiles(x.origin.policyFile, file) > 0);
      rests.set(file, (r = { rules, named: namedQubes(rules, cx.program.settings.qubes) }));
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
      });
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
        const per = new Map(args.all.map((a) => [a, strictest(cx, info, rest.rules, service, a, requests)] as const));
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
      checks.push({
        service,
        arguments: args.all,
        requests: [...from.flatMap((q) => [...to, ...forms, ...gateways].map((t) => [q, t] as const)), ...gateways.flatMap((g) => from.map((q) => [g, q] as const))],
        rest: rest.rules,
        info,
      });
      const deny = { action: 'deny' } as const;
      out.push(make('out', deny, tag, '@anyvm', `closes ${service} from Tor identity ${id} to other identities and system qubes`));
      out.push(make('in', deny, '@anyvm', tag, `closes ${service} into Tor identity ${id} from other identities and system qubes`));
      out.push(make('in-dispvm', deny, '@anyvm', tagDisposables, `closes ${service} into new disposables of Tor identity ${id}`));
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
    for (const { service, arguments: args, requests, rest, info } of closing.checks) {
      const ours = closing.rules.filter((r) => r.service === service && r.origin.generated !== undefined);
      const withOurs = [...ours, ...rest];
      search: for (const [source, target] of requests) for (const argument of args) {
        const req = { service, argument, source, target };
        // Only a request a kept rule decides can differ: the first generated rule it matches tells.
        const first = ours.find((r) => matchesRequest(r, info, req, release));
        if (first === undefined || first.action === 'deny') continue;
        const a = evaluate(withOurs, info, req, release);
        const by = a.rule === undefined ? undefined : withOurs[a.rule];
        if (by?.origin.generated === undefined || a.action === 'deny') continue;
        if (looser(a, evaluate(rest, info, req, release))) {
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

function who(cx: Context, q: string): string {
  const id = cx.identityOf(q);
  const n = name(cx, q);
  return id ? `${n} (${cx.isTorIdentity(id) ? 'Tor identity' : 'identity'} \`${id}\`)` : n;
}

/** A qube's name for a message, or what a stand-in stands for. */
function name(cx: Context, q: string): string {
  const s = cx.world.standIns.get(q);
  return s ? describeStandIn(s) : `\`${q}\``;
}

/** The declared name a waiver of a channel finding names: the caller, else (a stand-in) its template or the callee. */
function subjectOf(cx: Context, s: string, t: string): string {
  const x = cx.world.standIns.get(s);
  if (x === undefined) return s;
  if (x.kind === 'disposable') return x.template;
  const y = cx.world.standIns.get(t);
  return y === undefined ? t : y.kind === 'disposable' ? y.template : (cx.identityOf(t) ?? t);
}

/** The side of a channel findings are grouped by: the identity, else the qube; every qube outside the policy is one side. */
function sideOf(cx: Context, q: string): string {
  const id = cx.identityOf(q);
  if (id !== undefined) return id;
  return cx.world.standIns.get(q)?.kind === 'outside' ? '~outside' : q;
}

/** `a`, `a and b`, `a, b and c`, `a, b, c, d and 3 more`. */
function listed(items: readonly string[]): string {
  const shown = items.length > 5 ? items.slice(0, 4) : items;
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** 1 when a channel is decided by a rule the user did not write (a stock or a generated one), else 0. */
function theirs(rules: readonly QrexecRule[], c: Channel): number {
  return Number(rules[c.rule].origin.stock || rules[c.rule].origin.generated !== undefined);
}

function reportChannels(cx: Context, rules: readonly QrexecRule[], channels: readonly Channel[], ctx: Reporter): void {
  const seen = new Set<string>();
  // Named requests first: an ask list for `@default` repeats the targets that
  // rules for named requests put there, and those rules are the ones to blame.
  // Then grants before dialogs: a dialog can list a qube that an allow of its own reaches, and the allow is the one to report.
  const ordered = [...channels].sort((a, b) => theirs(rules, a) - theirs(rules, b) || Number(a.action === 'ask') - Number(b.action === 'ask') || Number(isKeyword(a.requested)) - Number(isKeyword(b.requested)));
  // One finding per asking rule and caller: the targets its dialogs offer outside the identity, together.
  const dialogs = new Map<string, { c: Channel; s: string; targets: string[] }>();
  const out: { c: Channel; s: string; targets: string[] }[] = [];
  for (const c of ordered) {
    if (exempt(cx, c)) continue;
    // Of interchangeable callers, one whose call is a channel (a gateway's call to its own workstation is not).
    const whonix = WHONIX_SERVICES.test(c.service);
    const s = whonix ? c.sources.find((x) => c.targets.some((t) => !exemptPair(cx, x, t)))! : c.sources[0];
    const dispvm = c.disposable === true && c.action === 'allow' && cx.isTorIdentity(cx.identityOf(s));
    // Each side a call reaches is reported once per service and caller's side; an ask names one qube of each.
    const fresh: string[] = [];
    for (const t of c.action === 'ask' && !dispvm ? c.targets : c.targets.slice(0, 1)) {
      if (!torRelevant(cx, s, t) || (whonix && exemptPair(cx, s, t))) continue;
      const pair = `${c.service}|${sideOf(cx, s)}|${sideOf(cx, t)}|${c.disposable ? 'd' : ''}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
      fresh.push(t);
    }
    if (fresh.length === 0) continue;
    if (c.action === 'ask' && !dispvm) {
      const key = `${c.service}|${sideOf(cx, s)}|${c.rule}`;
      const g = dialogs.get(key);
      if (g) {
        g.targets.push(...fresh);
        continue;
      }
      const entry = { c, s, targets: fresh };
      dialogs.set(key, entry);
      out.push(entry);
    } else out.push({ c, s, targets: fresh });
  }
  const reported = new Set<string>();
  for (const { c, s, targets } of out) {
    const r = rules[c.rule];
    const t = targets[0];
    const ours = !r.origin.stock && !r.origin.generated;
    const torId = cx.isTorIdentity(cx.identityOf(s)) ? cx.identityOf(s)! : cx.identityOf(t)!;
    const at: Span = ours ? r.origin.span : cx.program.decls.get(torId)!.node.name.span;
    const related = ours ? [] : [{ span: r.origin.span, message: `decided by \`${ruleText(r)}\` in ${ruleWhere(r)}` }];
    const dispvm = c.disposable === true && c.action === 'allow' && cx.isTorIdentity(cx.identityOf(s));
    const d = dispvm
      ? diag(
          'QP3031',
          at,
          {
            requested: cx.world.standIns.has(disposableTemplateOf(c.requested) ?? '') ? dispvmOf('…') : c.requested,
            source: name(cx, s),
            identity: cx.identityOf(s)!,
            target: name(cx, t),
            ...(cx.identityOf(t) !== undefined ? { kind: 'other-identity' as const, other: cx.identityOf(t)! } : { kind: 'no-identity' as const }),
          },
          { related, subject: subjectOf(cx, s, t) },
        )
      : diag('QP3030', at, { kind: c.action, service: c.service, source: who(cx, s), target: listed([...new Set(targets.map((x) => who(cx, x)))]) }, {
          related,
          help: ours ? 'remove the rule, or say why the channel is wanted with `because "…"`' : 'this channel comes from a rule qpc did not write; a rule of yours before it can deny it',
          subject: subjectOf(cx, s, t),
        });
    // Two channels can read the same (a named request and the dialog it opens): said once.
    const text = `${d.code}|${d.span?.file}:${d.span?.start}|${d.message}`;
    if (reported.has(text)) continue;
    reported.add(text);
    // A `because` on the rule is weighed with the other waivers (QP3030 and QP3031 need `--allow-waived`).
    ctx.report(ours && r.origin.because !== undefined ? { ...d, because: r.origin.because } : d);
  }
}

function reportDanger(cx: Context, rules: readonly QrexecRule[], ctx: Reporter): void {
  for (const r of rules) {
    if (r.origin.stock || r.origin.generated || r.action === 'deny') continue;
    for (const d of dangerous) {
      // A grant of `*` includes every dangerous service.
      if (r.service !== '*' && !d.pattern.test(r.service)) continue;
      const tokens = ruleTokens(r, cx.program.settings.qubes);
      const target = tokens.redirect ?? tokens.target;
      if (d.toDisposableOk && ownDisposable(cx, tokens.source, target)) continue;
      if (d.torOnly && !torSource(cx, tokens.source)) continue;
      const diagnostic = diag('QP3032', r.origin.span, { level: d.level, service: r.service === '*' ? '* (every service)' : r.service, why: d.why }, { subject: r.source, help: 'remove the grant, narrow it to a disposable, or say why with `because "…"`' });
      ctx.report(r.origin.because !== undefined ? { ...diagnostic, because: r.origin.because } : diagnostic);
      break;
    }
  }
}

/**
 * Whether a grant's target is a new disposable of the caller's own identity,
 * whoever the source column matches: `@dispvm` (the caller's default
 * disposable, which QP3016 keeps inside its identity), or `@dispvm:Q` for a
 * template Q of the identity every qube of the source belongs to. A
 * disposable of another identity (or of a tag) is no exemption: a shell
 * there runs on that identity's network with its data.
 */
function ownDisposable(cx: Context, source: Token, target: Token): boolean {
  if (target.kind === 'dispvm') return true;
  if (target.kind !== 'dispvm-of') return false;
  const id = cx.identityOf(target.value);
  if (id === undefined) return false;
  let any = false;
  for (const d of cx.world.info.domains.values()) {
    if (d.type === 'AdminVM' || !takesQube(source, d, 'source')) continue;
    any = true;
    if (cx.identityOf(d.name) !== id) return false;
  }
  return any;
}

/** Whether a source column can match a qube of a Tor identity. */
function torSource(cx: Context, source: Token): boolean {
  for (const d of cx.world.info.domains.values()) if (cx.isTorIdentity(cx.identityOf(d.name)) && takesQube(source, d, 'source')) return true;
  return false;
}

/** Stands for every new disposable in a column's set (what `*` and `@anyvm` take). */
const ANY_DISPOSABLE = dispvmOf('*');

/** The requests a column can receive, as names (qubes plus the request tokens). */
function columnSet(tok: Token, info: SystemInfo, column: 'source' | 'target', tagged: () => ReadonlyMap<string, readonly string[]>): Set<string> | 'all' {
  if (tok.kind === 'any') return 'all';
  // A qube's name matches that qube only (dom0's aliases go the general way).
  if (tok.kind === 'name' && !tok.dom0) {
    const d = info.domains.get(tok.text);
    return new Set(d !== undefined && takesQube(tok, d, column) ? [tok.text] : []);
  }
  // A tag or a type: its qubes, in the order of the system's qubes.
  if (tok.kind === 'tag' || tok.kind === 'type') return new Set(tagged().get(tok.kind === 'tag' ? tagToken(tok.value) : typeToken(tok.value)) ?? []);
  const out = new Set<string>();
  for (const d of info.domains.values()) if (takesQube(tok, d, column)) out.add(d.name);
  if (column === 'target') {
    if (tok.kind === 'anyvm') ['@default', '@dispvm', ANY_DISPOSABLE].forEach((x) => out.add(x));
    if (tok.kind === 'default' || tok.kind === 'dispvm' || tok.kind === 'dispvm-of' || tok.kind === 'dispvm-tag') out.add(tok.text);
    if (tok.dom0) ['@adminvm', 'dom0'].forEach((x) => out.add(x));
  }
  return out;
}

/** Above this many qubes, a rule's source is not indexed qube by qube. */
const MANY = 64;

function covers(a: Set<string> | 'all', b: Set<string> | 'all'): boolean {
  // Sets are made once per token: the same token is the same set.
  if (a === 'all' || a === b) return true;
  if (b === 'all' || b.size > a.size + (a.has(ANY_DISPOSABLE) ? b.size : 0)) return false;
  for (const x of b) {
    if (a.has(x)) continue;
    if (disposableTemplateOf(x) !== undefined && a.has(ANY_DISPOSABLE)) continue;
    return false;
  }
  return true;
}

/**
 * Rules that can never fire because one earlier rule matches every request
 * they match (QP3033), and stock rules one of ours makes unreachable (QP3034).
 * "Every request" is judged over the declared qubes.
 */
function reportShadowed(cx: Context, rules: readonly QrexecRule[], ctx: Reporter): void {
  const memo = new Map<string, Set<string> | 'all'>();
  let byTagOrType: Map<string, string[]> | undefined;
  const tagged = () => {
    if (byTagOrType) return byTagOrType;
    const m = (byTagOrType = new Map<string, string[]>());
    const add = (k: string, name: string) => {
      const l = m.get(k);
      if (l) l.push(name);
      else m.set(k, [name]);
    };
    for (const d of cx.info.domains.values()) {
      add(typeToken(d.type), d.name);
      for (const t of d.tags) add(tagToken(t), d.name);
    }
    return m;
  };
  const release = cx.program.settings.qubes;
  const set = (tok: Token, column: 'source' | 'target') => {
    const key = `${column}|${tok.text}`;
    let v = memo.get(key);
    if (v === undefined) memo.set(key, (v = columnSet(tok, cx.info, column, tagged)));
    return v;
  };
  const sets = rules.map((r) => {
    const t = ruleTokens(r, release);
    return { src: set(t.source, 'source'), tgt: set(t.target, 'target') };
  });
  // Earlier rules that match more than one exact request, indexed by the qubes their source
  // matches: a rule can only be covered by one whose source includes its own first qube.
  const broadBySource = new Map<string, number[]>();
  /** Those whose source is every qube or many, by service (`*` apart). */
  const broadAnySource = new Map<string, number[]>();
  const exact = new Map<string, number>();
  /** Stock rules each of our rules makes unreachable. */
  const victims = new Map<number, number[]>();
  for (let j = 0; j < rules.length; j++) {
    const r = rules[j];
    const stockVictim = r.origin.stock;
    const ours = !r.origin.stock && !r.origin.generated;
    let by: number | undefined;
    const key = `${r.service}|${r.argument}|${r.source}|${r.target}`;
    const e = exact.get(key);
    if (e !== undefined) by = e;
    else {
      const own = sets[j].src;
      const tgt = sets[j].tgt;
      // A rule that matches no declared qube is inapplicable here, not shadowed.
      const empty = (own !== 'all' && own.size === 0) || (tgt !== 'all' && tgt.size === 0);
      if (!empty) {
        const a = own === 'all' ? undefined : broadBySource.get(own.values().next().value as string);
        const b = broadAnySource.get(r.service);
        const c = r.service === '*' ? undefined : broadAnySource.get('*');
        // Each list ascends: the first cover in each is its earliest, and the earliest of those wins.
        for (const list of [a, b, c]) {
          if (list === undefined) continue;
          for (const i of list) {
            if (by !== undefined && i >= by) break;
            const p = rules[i];
            if (p.service !== '*' && p.service !== r.service) continue;
            if (p.argument !== '*' && p.argument !== r.argument) continue;
            if (covers(sets[i].src, own) && covers(sets[i].tgt, tgt)) {
              by = i;
              break;
            }
          }
        }
      }
    }
    if (by !== undefined) {
      const p = rules[by];
      if (ours) {
        const help = p.origin.generated === undefined ? 'remove the rule, or move it before the one that covers it' : `qpc generated that rule (it ${p.origin.generated}); move yours to a file dom0 reads before ${p.origin.policyFile}.policy`;
        ctx.report(diag('QP3033', r.origin.span, { rule: ruleText(r) }, { related: [{ span: p.origin.span, message: `\`${ruleText(p)}\` in ${ruleWhere(p)} matches every request first` }], help }));
      } else if (stockVictim && !p.origin.stock && !p.origin.generated && p.origin.because === undefined) {
        const list = victims.get(by) ?? [];
        list.push(j);
        victims.set(by, list);
      }
    }
    if (!exact.has(key)) exact.set(key, j);
    const plain = (t: string) => !isKeyword(t) && cx.program.decls.get(t)?.form !== 'identity';
    if (!(plain(r.source) && plain(r.target))) {
      const src = sets[j].src;
      // A source of many qubes is listed with those of every qube (one list, not one per qube).
      if (src === 'all' || src.size > MANY) {
        const l = broadAnySource.get(r.service);
        if (l) l.push(j);
        else broadAnySource.set(r.service, [j]);
      }
      else
        for (const q of src) {
          const l = broadBySource.get(q);
          if (l) l.push(j);
          else broadBySource.set(q, [j]);
        }
    }
  }
  for (const [by, list] of victims) {
    const p = rules[by];
    const first = rules[list[0]];
    ctx.report(
      diag('QP3034', p.origin.span, { kind: list.length === 1 ? 'one' : 'many', count: list.length, stock: ruleText(first), file: `${first.origin.policyFile}.policy` }, {
        related: list.slice(0, 5).map((j) => ({ span: rules[j].origin.span, message: `\`${ruleText(rules[j])}\` of ${rules[j].origin.policyFile}.policy never applies` })),
        ...(list.length > 5 ? { notes: [`and ${list.length - 5} more stock rules`] } : {}),
        help: 'if that is intended, say so with `because "…"` on your rule',
      }),
    );
  }
}

function reportRequires(cx: Context, rules: readonly QrexecRule[], channels: readonly Channel[], ctx: Reporter): void {
  if (cx.program.requires.length === 0) return;
  // A qube is on the side of its own name and of its identity's: each (channel, source) is
  // listed under both, in channel order, so a requirement reads only the channels of its sides.
  const bySide = new Map<string, { c: number; s: number }[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  const sidesOf = (qube: string): string[] => {
    const id = cx.identityOf(qube);
    return id === undefined || id === qube ? [qube] : [qube, id];
  };
  channels.forEach((c, ci) => c.sources.forEach((src, si) => sidesOf(src).forEach((k) => push(bySide, k, { c: ci, s: si }))));
  // Shared gateways (other than Tor) and default disposables per side, in the order of the qubes,
  // each with the qube that has it and where that qube gets it.
  type Link = { readonly shared: string; readonly facts: QubeFacts };
  let shared: { hops: Map<string, Link[]>; disposables: Map<string, Link[]> } | undefined;
  const sharedBySide = () => {
    if (shared) return shared;
    shared = { hops: new Map(), disposables: new Map() };
    for (const f of cx.graph.allFacts()) {
      for (const k of sidesOf(f.decl.name)) {
        if (f.netvm !== null && !cx.graph.isTor(f.netvm)) push(shared.hops, k, { shared: f.netvm, facts: f });
        if (f.defaultDisposable) push(shared.disposables, k, { shared: f.defaultDisposable, facts: f });
      }
    }
    return shared;
  };
  // The channel a finding names: one a rule of the user's opens (that rule is the mistake), a
  // grant before a dialog, a named request before `@default` and `@dispvm`; else the first.
  const weight = (c: Channel) => 4 * theirs(rules, c) + 2 * Number(c.action === 'ask') + Number(isKeyword(c.requested));
  const none: readonly { c: number; s: number }[] = [];
  for (const q of cx.program.requires) {
    const a = substitute(q.subject.text, cx.program.settings.whonix);
    const b = substitute(q.object.text, cx.program.settings.whonix);
    const inSide = (side: string, qube: string) => qube === side || cx.identityOf(qube) === side;
    const both = q.relation === 'isolated-from';
    let found: { c: Channel; s: string; t: string } | undefined;
    // The (channel, source) pairs on either side, in channel and source order.
    const fromA = bySide.get(a) ?? none;
    const fromB = both && b !== a ? (bySide.get(b) ?? none) : none;
    for (let x = 0, y = 0; (!found || weight(found.c) > 0) && (x < fromA.length || y < fromB.length); ) {
      const useA = y >= fromB.length || (x < fromA.length && (fromA[x].c < fromB[y].c || (fromA[x].c === fromB[y].c && fromA[x].s <= fromB[y].s)));
      const e = useA ? fromA[x++] : fromB[y++];
      const c = channels[e.c];
      if (found && weight(c) >= weight(found.c)) continue;
      const src = c.sources[e.s];
      const other = inSide(a, src) ? b : a;
      const t = c.targets.find((x) => inSide(other, x));
      if (t !== undefined) found = { c, s: src, t };
    }
    const requirement = `${a} ${q.relation} ${b}`;
    const required = { span: q.span, message: `\`require ${requirement}\` is declared here` };
    if (found) {
      const { c, s, t } = found;
      const r = rules[c.rule];
      const ours = theirs(rules, c) === 0;
      const kind = c.disposable ? (c.action === 'allow' ? 'allow-disposable' : 'ask-disposable') : c.action;
      // A rule of the user's that opens the channel is where to fix it; else the requirement, with the rule that decides as a note.
      const extras = ours
        ? { label: 'opens the channel', related: [required], subject: a }
        : { label: 'does not hold', related: [{ span: r.origin.span, message: `decided by \`${ruleText(r)}\` in ${ruleWhere(r)}` }], subject: a };
      ctx.report(diag('QP3036', ours ? r.origin.span : q.span, { kind, requirement, service: c.service, source: name(cx, s), target: name(cx, t) }, extras));
      continue;
    }
    if (both) {
      const { hops, disposables } = sharedBySide();
      /** The first link of side a whose gateway or template a qube of side b (another qube) shares, with that one. */
      const common = (links: Map<string, Link[]>): [Link, Link] | undefined => {
        const ofB = new Map<string, Link[]>();
        for (const l of links.get(b) ?? []) push(ofB, l.shared, l);
        for (const x of links.get(a) ?? []) {
          const y = ofB.get(x.shared)?.find((l) => l.facts !== x.facts);
          if (y) return [x, y];
        }
        return undefined;
      };
      const gw = common(hops);
      const dv = gw ? undefined : common(disposables);
      const pair = gw ?? dv;
      if (pair) {
        const [x, y] = pair;
        const at = (l: Link) =>
          gw
            ? { span: l.facts.netvmOrigin, message: `\`${l.facts.decl.name}\` has the netvm \`${l.shared}\`${l.facts.netvmExplicit ? '' : ', from its identity'}` }
            : { span: l.facts.defaultDisposableOrigin ?? l.facts.decl.node.name.span, message: `\`${l.facts.decl.name}\` starts its disposables from \`${l.shared}\`` };
        const args = { requirement, first: a, second: b, shared: x.shared, firstQube: x.facts.decl.name, secondQube: y.facts.decl.name };
        ctx.report(diag('QP3036', q.span, gw ? { kind: 'shared-gateway', ...args } : { kind: 'shared-disposable', ...args }, { label: 'does not hold', related: [at(x), at(y)], subject: a }));
      }
    }
  }
}

/** Closes the Tor identities' channels, verifies the complete policy, and returns it. */
export function checkChannels(program: Program, graph: PolicyGraph, ctx: Reporter): EvaluatedPolicy {
  const info = systemInfo(graph);
  const release = program.settings.qubes;
  const base = completePolicy(program);
  const world = worldOf(info, base);
  const cx = contextOf(program, graph, info, world);
  const requirePairs = program.requires.map((q) => [substitute(q.subject.text, program.settings.whonix), substitute(q.object.text, program.settings.whonix)] as const);
  // The sides of each `require` a qube is on, by index: calls matter between the two sides of one.
  const sides = new Map<string, number[]>();
  requirePairs.forEach(([a, b], i) => {
    for (const q of world.info.domains.keys()) {
      if (q === a || cx.identityOf(q) === a) sides.set(q, [...(sides.get(q) ?? []), 2 * i]);
      if (q === b || cx.identityOf(q) === b) sides.set(q, [...(sides.get(q) ?? []), 2 * i + 1]);
    }
  });
  const inRequire = (s: string, t: string) => {
    const x = sides.get(s);
    const y = sides.get(t);
    return x !== undefined && y !== undefined && x.some((k) => y.includes(k ^ 1));
  };
  // Only services a stock rule allows or asks for can have stock channels to close.
  const stockServices = new Set(base.filter((r) => r.origin.stock && r.action !== 'deny').map((r) => r.service));
  // The targets that can matter to a source outside every Tor identity: the qubes of Tor
  // identities, and the other side of each `require` it is on.
  const sideMembers = new Map<number, string[]>();
  for (const [q, ks] of sides) for (const k of ks) sideMembers.set(k, [...(sideMembers.get(k) ?? []), q]);
  const focusCache = new Map<string, ReadonlySet<string>>();
  const focus = (withRequires: boolean) => (sources: readonly string[]): ReadonlySet<string> | undefined => {
    if (sources.some((m) => cx.torQube.has(m))) return undefined;
    const ks = withRequires ? [...new Set(sources.flatMap((m) => sides.get(m) ?? []))].sort((a, b) => a - b) : [];
    if (ks.length === 0) return cx.torQube;
    const key = ks.join(' ');
    let set = focusCache.get(key);
    if (!set) {
      const s = new Set(cx.torQube);
      for (const k of ks) for (const q of sideMembers.get(k ^ 1) ?? []) s.add(q);
      focusCache.set(key, (set = s));
    }
    return set;
  };
  // Channels are reported per pair of identities (and per qube a `require` names on its own).
  const named = new Set(requirePairs.flat());
  const key = (q: string) => (named.has(q) ? q : sideOf(cx, q));
  // The first pass only asks which Tor identities each stock service reaches: once it reaches
  // all of them, the rest of that service is skipped.
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
      focus: focus(false),
      key,
      onChannel: (c) => markStockChannel(cx, base, c, pairs, reached),
      enough: (service) => reached.get(service) === torIdentities.length,
    });
  }
  const rules = closePolicy(cx, base, pairs);
  const policy: EvaluatedPolicy = { rules, info, release };
  const channels = findChannels({ rules, info: world.info, release, relevant: (s, t) => torRelevant(cx, s, t) || inRequire(s, t), focus: focus(true), key });
  reportChannels(cx, rules, channels.filter((c) => c.targets.some((t) => torRelevant(cx, c.sources[0], t))), ctx);
  reportDanger(cx, rules, ctx);
  reportShadowed(cx, rules, ctx);
  reportRequires(cx, rules, channels, ctx);
  checkExpects(program, policy, ctx);
  return policy;
}
