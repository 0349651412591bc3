/**
 * The qrexec evaluator: Qubes' first-match semantics for one release, over the
 * complete policy in file order (DESIGN §4.2 point 2; reference §1.2–1.4).
 * Follows qubes-core-qrexec `qrexec/policy/parser.py` (v4.2.25 for 4.2,
 * v4.3.12 and main for 4.3): the token classes' `match`/`expand`/`verify`,
 * `Allow.evaluate`, `Ask.evaluate`, `AbstractPolicy.find_matching_rule` and
 * `collect_targets_for_ask`, and the loopback check of
 * `AllowResolution.execute`. Pure; allocates little per call.
 */
import type { Decision, DomainInfo, QrexecRule, QubesRelease, Request, SystemInfo } from './types.js';

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

const ADMINVM = '@adminvm';
const DEFAULT = '@default';
const DISPVM = '@dispvm';
const DISPVM_PREFIX = '@dispvm:';
const DISPVM_TAG_PREFIX = '@dispvm:@tag:';
const TYPE_PREFIX = '@type:';
const TAG_PREFIX = '@tag:';
/** R4.3+ `is_dom0` also accepts dom0's UUID token. */
const UUID_DOM0 = 'uuid:00000000-0000-0000-0000-000000000000';
const AT = 64; // '@'

/** Result of matching a rule's target column: qrexec may also fail with an exception mid-scan. */
const NO = 0;
const YES = 1;
const CRASH = 2;
type Match = typeof NO | typeof YES | typeof CRASH;

/** R4.3+ `parser.is_dom0`: `@adminvm`, `dom0` and dom0's UUID name the same qube. */
function isDom0(t: string): boolean {
  return t === ADMINVM || t === 'dom0' || t === UUID_DOM0;
}

/**
 * R4.2 `VMToken.__new__` rewrites `dom0` to `@adminvm` in every column and in
 * the request's target (not in the request's source, a plain string).
 */
function parsed(token: string, r42: boolean): string {
  return r42 && token === 'dom0' ? ADMINVM : token;
}

/** `tok` is `prefix + value` and `value === s`, without slicing. */
function valueIs(tok: string, from: number, s: string): boolean {
  return s.length === tok.length - from && tok.startsWith(s, from);
}

function hasTag(d: DomainInfo, tok: string, from: number): boolean {
  const tags = d.tags;
  for (let i = 0; i < tags.length; i++) if (valueIs(tok, from, tags[i])) return true;
  return false;
}

/**
 * Whether a qube runs, for `autostart=no` (`ActionType.allow_no_autostart`):
 * dom0 always (R4.3+ `is_dom0`; R4.2 reads dom0's `power_state`, which is
 * always `Running`), new disposables never.
 */
function runsWithoutAutostart(target: string, info: SystemInfo): boolean | undefined {
  if (isDom0(target)) return true;
  if (target.startsWith(DISPVM)) return false;
  const d = info.domains.get(target);
  // qrexec: KeyError → AssertionError, the request fails.
  if (d === undefined) return undefined;
  return d.running === true;
}

/** `DispVM.get_dispvm_template`: the caller's `default_dispvm`, or null. */
function defaultDispvm(source: string, info: SystemInfo): string | null {
  return info.domains.get(source)?.defaultDispvm ?? null;
}

/** A refusal before or after matching, as qrexec's `AccessDenied` (notify defaults to yes). */
interface Refusal {
  readonly reason: string;
  readonly notify: boolean;
}

function refusal(reason: string, notify = true): Refusal {
  return { reason, notify };
}

/**
 * The request's target as `IntendedTarget(target).verify(system_info)` leaves
 * it (parser.py `Request.__init__`, also applied to `target=` redirects in
 * `ActionType.actual_target`): an existing qube's name, `@default` (also for
 * an empty target and for a qube that does not exist), `@adminvm`, `@dispvm`
 * or a checked `@dispvm:Q`. Other `@` tokens and `*` are not valid there
 * (`PolicySyntaxError`, which the daemon answers with a silent deny).
 */
function intendedTarget(target: string, info: SystemInfo, r42: boolean): string | Refusal {
  const t = parsed(target, r42);
  if (t === '') return DEFAULT;
  if (t.charCodeAt(0) !== AT && t !== '*') return info.domains.has(t) ? t : DEFAULT;
  if (t === ADMINVM || t === DEFAULT || t === DISPVM) return t;
  if (t.startsWith(DISPVM_PREFIX) && t.length > DISPVM_PREFIX.length && t.charCodeAt(DISPVM_PREFIX.length) !== AT) {
    // `DispVMTemplate.verify`: "not a template for dispvm: Q"
    const q = t.slice(DISPVM_PREFIX.length);
    const d = info.domains.get(q);
    return d !== undefined && d.templateForDispvms ? t : refusal(`not a disposable template: ${q}`);
  }
  return refusal(`invalid target: ${target}`, false);
}

// ---------------------------------------------------------------------------
// Matching (`Rule.is_match`, `Rule.is_match_but_target`)
// ---------------------------------------------------------------------------

/**
 * The source column against the caller's name (`Source` token classes'
 * `match`). `@dispvm…` tokens parse in this column but never match a name;
 * R4.2 `@adminvm`/`dom0` compare with the string `@adminvm`, so they never
 * match a caller, and R4.2 `@anyvm` only excludes the string `@adminvm`.
 */
function sourceMatches(token: string, source: string, info: SystemInfo, r42: boolean): boolean {
  const tok = parsed(token, r42);
  if (tok === '*') return true;
  if (tok === '@anyvm') return r42 ? source !== ADMINVM : !isDom0(source);
  if (tok === ADMINVM) return r42 ? source === ADMINVM : isDom0(source);
  if (tok.charCodeAt(0) === AT) {
    if (tok.startsWith(TYPE_PREFIX)) {
      const d = info.domains.get(source);
      return d !== undefined && valueIs(tok, TYPE_PREFIX.length, d.type);
    }
    if (tok.startsWith(TAG_PREFIX)) {
      const d = info.domains.get(source);
      return d !== undefined && hasTag(d, tok, TAG_PREFIX.length);
    }
    return false;
  }
  // A name; R4.3+ `VMToken.match` treats dom0's aliases as one.
  return !r42 && isDom0(tok) ? isDom0(source) : tok === source;
}

/**
 * The target column against the verified request target `t` (`Target` token
 * classes' `match`). `@anyvm` also takes `@default`/`@dispvm`/`@dispvm:X`
 * requests; `@tag:`/`@type:` only existing qubes; `@dispvm` only the
 * `@dispvm` request (`DispVM.match` is string equality); `@dispvm:Q` a
 * `@dispvm:Q` request and a `@dispvm` request whose caller's `default_dispvm`
 * is Q (`DispVMTemplate.match`).
 */
function targetMatches(token: string, t: string, source: string, info: SystemInfo, r42: boolean): Match {
  const tok = parsed(token, r42);
  if (tok === '*') return YES;
  if (tok === '@anyvm') return (r42 ? t !== ADMINVM : !isDom0(t)) ? YES : NO;
  if (tok === ADMINVM) return (r42 ? t === ADMINVM : isDom0(t)) ? YES : NO;
  if (tok === DEFAULT) return t === DEFAULT ? YES : NO;
  if (tok === DISPVM) return t === DISPVM ? YES : NO;
  if (tok.charCodeAt(0) === AT) {
    if (tok.startsWith(DISPVM_TAG_PREFIX)) return dispvmTagMatches(tok, t, source, info);
    if (tok.startsWith(DISPVM_PREFIX)) {
      if (tok.charCodeAt(DISPVM_PREFIX.length) === AT) return NO; // not a valid token
      if (t === DISPVM) {
        const dd = defaultDispvm(source, info);
        // R4.3+ `match_strings(info, self, None)` calls `None.startswith`: the
        // evaluation fails with AttributeError; R4.2 compares with None.
        if (dd === null) return r42 ? NO : CRASH;
        return valueIs(tok, DISPVM_PREFIX.length, dd) ? YES : NO;
      }
      return t === tok ? YES : NO;
    }
    if (tok.startsWith(TYPE_PREFIX)) {
      const d = info.domains.get(t);
      return d !== undefined && valueIs(tok, TYPE_PREFIX.length, d.type) ? YES : NO;
    }
    if (tok.startsWith(TAG_PREFIX)) {
      const d = info.domains.get(t);
      return d !== undefined && hasTag(d, tok, TAG_PREFIX.length) ? YES : NO;
    }
    return NO;
  }
  if (!r42 && isDom0(tok)) return isDom0(t) ? YES : NO;
  return tok === t ? YES : NO;
}

/** `DispVMTag.match`: the disposable template the request names (or the caller's default) is one with the tag. */
function dispvmTagMatches(tok: string, t: string, source: string, info: SystemInfo): Match {
  let name: string | null;
  if (t === DISPVM) name = defaultDispvm(source, info);
  else if (t.startsWith(DISPVM_PREFIX)) name = t.slice(DISPVM_PREFIX.length);
  else return NO;
  if (name === null) return NO;
  const d = info.domains.get(name);
  if (d === undefined) return CRASH; // `system_info["domains"][other.value]`: KeyError
  return d.templateForDispvms && hasTag(d, tok, DISPVM_TAG_PREFIX.length) ? YES : NO;
}

/** Service, argument and source (`Rule.is_match_but_target`). */
function matchesButTarget(rule: QrexecRule, service: string, argument: string, source: string, info: SystemInfo, r42: boolean): boolean {
  return (
    (rule.service === '*' || rule.service === service) &&
    (rule.argument === '*' || rule.argument === argument) &&
    sourceMatches(rule.source, source, info, r42)
  );
}

/** A request without argument is evaluated as the empty argument `+` (`parse_service_and_argument`). */
function argumentOf(request: Request): string {
  return request.argument === '' ? '+' : request.argument;
}

/**
 * Whether qrexec's first-match scan (`AbstractPolicy.find_matching_rule`,
 * `Rule.is_match`) stops at this rule for the request: its service, argument,
 * source and target columns match, before the action is looked at. Also true
 * in the one case where Qubes R4.3 fails while matching the rule (target
 * `@dispvm:Q`, a `@dispvm` request, a caller without `default_dispvm`), since
 * the scan ends there with a denial. False when qrexec refuses the request's
 * target before any rule is read (`@dispvm:Q` of a qube that is not a
 * disposable template, an invalid token).
 */
export function matchesRequest(rule: QrexecRule, info: SystemInfo, request: Request, release: QubesRelease): boolean {
  const r42 = release === '4.2';
  const t = intendedTarget(request.target, info, r42);
  if (typeof t !== 'string') return false;
  return (
    matchesButTarget(rule, request.service, argumentOf(request), request.source, info, r42) &&
    targetMatches(rule.target, t, request.source, info, r42) !== NO
  );
}

// ---------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------

/**
 * Rules grouped by service for repeated evaluation: for each named service
 * the positions of its rules and of the `*`-service rules, in file order.
 * Build with {@link indexRules}; read-only.
 */
export interface RuleIndex {
  readonly rules: readonly QrexecRule[];
  /** Per named service: ascending positions in `rules` of its rules and the `*` rules. */
  readonly byService: ReadonlyMap<string, readonly number[]>;
  /** Ascending positions of the `*`-service rules (for services no rule names). */
  readonly anyService: readonly number[];
}

/** Builds a {@link RuleIndex}; {@link evaluateIndexed} over it decides exactly as {@link evaluate} over `rules`. */
export function indexRules(rules: readonly QrexecRule[]): RuleIndex {
  const anyService: number[] = [];
  const byService = new Map<string, number[]>();
  for (let i = 0; i < rules.length; i++) {
    const s = rules[i].service;
    if (s === '*') {
      anyService.push(i);
      for (const list of byService.values()) list.push(i);
    } else {
      let list = byService.get(s);
      if (list === undefined) {
        // Earlier `*` rules come first: they precede this one in the file.
        list = anyService.slice();
        byService.set(s, list);
      }
      list.push(i);
    }
  }
  return { rules, byService, anyService };
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/**
 * Qrexec's decision on a request (`AbstractPolicy.evaluate`): the first rule
 * whose service, argument, source and target match decides.
 *
 * - deny: `notify` unless the rule says `notify=no`; no matching rule →
 *   deny `no matching rule` (notify).
 * - allow: the target is the rule's `target=` if any, else the request's,
 *   not re-checked against other rules; `@default` without `target=` → deny
 *   `no target`; `@dispvm` → `@dispvm:<caller's default_dispvm>` (none →
 *   deny `no default_dispvm`); `@adminvm` → `dom0`; a `@dispvm:Q` request or
 *   redirect needs Q to be a disposable template (`not a disposable
 *   template: Q`); `autostart=no` to a halted qube or a new disposable →
 *   deny `requires autostart` (notify only with `notify=yes`); a target equal
 *   to the caller → deny `loopback` (`AllowResolution.execute`).
 * - ask: `targets` as `collect_targets_for_ask` builds them (or only the
 *   `target=`), filtered for `autostart=no`, sorted, `@adminvm` shown as
 *   `dom0`; empty → deny `no target to ask`; `defaultTarget` only if
 *   offered (R4.3+ drops it with a warning; R4.2 fails an assertion in
 *   `AskResolution.__init__`, so the call is denied: `default_target not
 *   offered`, qubes-issues#9870).
 *
 * A request naming a qube that does not exist is evaluated as `@default`, and
 * an empty argument as `+`, as qrexec does. When Qubes' evaluator itself
 * fails on the request (an exception other than `AccessDenied`), the call
 * is denied silently: reason `qrexec error: …`.
 */
export function evaluate(rules: readonly QrexecRule[], info: SystemInfo, request: Request, release: QubesRelease): Decision {
  return evaluateIn(rules, undefined, info, request, release);
}

/** {@link evaluate} over a {@link RuleIndex}: the same decision, reading only the rules of the request's service and the `*` rules. */
export function evaluateIndexed(index: RuleIndex, info: SystemInfo, request: Request, release: QubesRelease): Decision {
  return evaluateIn(index.rules, index.byService.get(request.service) ?? index.anyService, info, request, release);
}

/**
 * An ask list supplied by the caller for an `ask` rule without `target=`
 * (the channel analysis computes lists per class of qubes); undefined lets
 * the evaluator build it as Qubes does.
 */
export type AskLister = (rule: QrexecRule) => string[] | undefined;

/**
 * {@link evaluate} over the rules at `order` (ascending positions), which
 * must include every rule whose service, argument and source match the
 * request: the decision is then the same as over all rules. With `lister`,
 * ask lists come from the caller. `scan`, when given, is the part of `order`
 * that can match the request's target (a rule left out must not match it);
 * the first match is looked for there, ask lists are still built from `order`.
 */
export function evaluateOrdered(rules: readonly QrexecRule[], order: readonly number[], info: SystemInfo, request: Request, release: QubesRelease, lister?: AskLister, scan?: readonly number[]): Decision {
  return evaluateIn(rules, order, info, request, release, lister, scan);
}

/** `order`: positions of the rules to read, ascending; undefined = all. */
function evaluateIn(
  rules: readonly QrexecRule[],
  order: readonly number[] | undefined,
  info: SystemInfo,
  request: Request,
  release: QubesRelease,
  lister?: AskLister,
  scan: readonly number[] | undefined = order,
): Decision {
  const r42 = release === '4.2';
  const t = intendedTarget(request.target, info, r42);
  if (typeof t !== 'string') return deny(undefined, t.reason, t.notify);
  const service = request.service;
  const argument = argumentOf(request);
  const source = request.source;
  const n = scan === undefined ? rules.length : scan.length;
  for (let k = 0; k < n; k++) {
    const i = scan === undefined ? k : scan[k];
    const rule = rules[i];
    if (!matchesButTarget(rule, service, argument, source, info, r42)) continue;
    const m = targetMatches(rule.target, t, source, info, r42);
    if (m === NO) continue;
    // Qubes' matcher raised (see `targetMatches`): the daemon answers deny, without notification.
    if (m === CRASH) return deny(i, `qrexec error: \`${rule.target}\` cannot be matched against \`${t}\` from \`${source}\``, false, rule);
    if (rule.action === 'deny') return deny(i, undefined, rule.notify ?? true, rule);
    if (rule.action === 'allow') return allow(rule, i, t, source, info, r42);
    return ask(rules, order, rule, i, service, argument, source, info, r42, lister);
  }
  return deny(undefined, 'no matching rule', true);
}

function deny(rule: number | undefined, reason: string | undefined, notify: boolean, r?: QrexecRule): Decision {
  const autostart = r?.autostart ?? true;
  if (rule === undefined) return reason === undefined ? { action: 'deny', notify, autostart } : { action: 'deny', notify, autostart, reason };
  return reason === undefined ? { action: 'deny', rule, notify, autostart } : { action: 'deny', rule, notify, autostart, reason };
}

/** `Allow.evaluate`, then the loopback check of `AllowResolution.execute`. */
function allow(rule: QrexecRule, i: number, t: string, source: string, info: SystemInfo, r42: boolean): Decision {
  const notify = rule.notify ?? false;
  const autostart = rule.autostart ?? true;
  // `actual_target`: the redirect, if any, else the request's target; verified again, not matched again.
  let target: string;
  if (rule.redirect === undefined) target = t;
  else {
    const v = intendedTarget(rule.redirect, info, r42);
    if (typeof v !== 'string') return deny(i, v.reason, v.notify, rule);
    target = v;
  }
  if (target === DEFAULT) return deny(i, 'no target', true, rule);
  if (target === DISPVM) {
    const dd = defaultDispvm(source, info);
    if (dd === null) return deny(i, 'no default_dispvm', true, rule);
    target = DISPVM_PREFIX + dd;
  } else if (target === ADMINVM) target = 'dom0';
  if (!autostart) {
    const runs = runsWithoutAutostart(target, info);
    if (runs === undefined) return deny(i, `qrexec error: no such qube \`${target}\``, false, rule);
    // "target X is denied because it would require autostart", with the rule's notify
    if (!runs) return deny(i, 'requires autostart', notify, rule);
  }
  // "loopback qrexec connection not supported" (qubes-issues#951)
  if (target === source) return deny(i, 'loopback', true, rule);
  return rule.user === undefined
    ? { action: 'allow', rule: i, target, notify, autostart }
    : { action: 'allow', rule: i, target, user: rule.user, notify, autostart };
}

/** `Ask.evaluate`. */
function ask(
  rules: readonly QrexecRule[],
  order: readonly number[] | undefined,
  rule: QrexecRule,
  i: number,
  service: string,
  argument: string,
  source: string,
  info: SystemInfo,
  r42: boolean,
  lister?: AskLister,
): Decision {
  const notify = rule.notify ?? false;
  const autostart = rule.autostart ?? true;
  let targets: string[];
  if (rule.redirect !== undefined) {
    // `ask target=X` offers X as written (R4.3+ turns dom0's aliases into `dom0`).
    const x = parsed(rule.redirect, r42);
    targets = [!r42 && isDom0(x) ? 'dom0' : x];
  } else {
    const collected = lister?.(rule) ?? collectTargetsForAsk(rules, order, service, argument, source, info, r42);
    if (typeof collected === 'string') return deny(i, collected, false, rule);
    targets = collected;
  }
  if (!autostart) {
    const kept: string[] = [];
    for (const x of targets) {
      const runs = runsWithoutAutostart(x, info);
      if (runs === undefined) return deny(i, `qrexec error: no such qube \`${x}\``, false, rule);
      if (runs) kept.push(x);
    }
    targets = kept;
  }
  if (targets.length === 0) return deny(i, 'no target to ask', true, rule);

  let defaultTarget: string | null = null;
  if (rule.defaultTarget !== undefined) {
    const dt = parsed(rule.defaultTarget, r42);
    if (dt === DISPVM) {
      const dd = defaultDispvm(source, info);
      defaultTarget = dd === null ? null : DISPVM_PREFIX + dd;
    } else if (r42 ? dt === ADMINVM : isDom0(dt)) defaultTarget = 'dom0';
    else defaultTarget = dt;
    if (defaultTarget !== null && !targets.includes(defaultTarget)) {
      // R4.2: `assert default_target in targets_for_ask` fails (no notification); R4.3+ logs and drops it.
      if (r42) return deny(i, 'default_target not offered', false, rule);
      defaultTarget = null;
    }
  }

  // R4.2 `ask target=dom0` keeps the token `@adminvm`; the qube offered is dom0.
  for (let k = 0; k < targets.length; k++) if (targets[k] === ADMINVM) targets[k] = 'dom0';
  targets.sort();
  const d: { -readonly [K in keyof Decision]: Decision[K] } = { action: 'ask', rule: i, targets, notify, autostart };
  if (defaultTarget !== null) d.defaultTarget = defaultTarget;
  if (rule.user !== undefined) d.user = rule.user;
  return d;
}

/**
 * `AbstractPolicy.collect_targets_for_ask`: over the rules whose service,
 * argument and source match (any target), last to first, allow and ask add
 * the expansion of their `target=` or target column, deny removes the
 * expansion of its target column; then `@dispvm` becomes the caller's
 * `@dispvm:<default_dispvm>` (dropped without one), `@adminvm` becomes
 * `dom0`, and the caller is removed. Returns a `qrexec error` reason when
 * Qubes' evaluation fails (a `@dispvm:Q` token naming no qube).
 */
function collectTargetsForAsk(
  rules: readonly QrexecRule[],
  order: readonly number[] | undefined,
  service: string,
  argument: string,
  source: string,
  info: SystemInfo,
  r42: boolean,
): string[] | string {
  // R4.3+ reads the caller's UUID first (`info[source]["uuid"]`).
  if (!r42 && !info.domains.has(source)) return `qrexec error: no such qube \`${source}\``;
  // Read first to last: an element ends in the set iff the first rule (in file order) whose
  // expansion holds it adds it, which is what the last operation of Qubes' backward loop does.
  // Large expansions are not copied into `decided`: their cached sets are asked instead.
  const decided = new Set<string>();
  const large: ReadonlySet<string>[] = [];
  const isDecided = (x: string): boolean => {
    if (decided.has(x)) return true;
    for (const l of large) if (l.has(x)) return true;
    return false;
  };
  const out: string[] = [];
  /** Qubes fails on the first failing rule of its backward loop: the last one here. */
  let error: string | undefined;
  let complete = false; // after `*`, every element is decided: only failures still matter
  const n = order === undefined ? rules.length : order.length;
  for (let k = 0; k < n; k++) {
    const rule = rules[order === undefined ? k : order[k]];
    if (!matchesButTarget(rule, service, argument, source, info, r42)) continue;
    const remove = rule.action === 'deny';
    // `getattr(rule.action, "target", None) or rule.target`: Deny has no redirect.
    const tok = parsed(!remove && rule.redirect !== undefined ? rule.redirect : rule.target, r42);
    const e = expansion(tok, info, r42);
    if (e.error !== undefined) error = e.error;
    if (complete || error !== undefined) continue;
    for (const x of e.list) {
      if (isDecided(x)) continue;
      if (!remove) out.push(x);
      if (e.list.length <= LARGE) decided.add(x);
    }
    if (e.list.length > LARGE) large.push(e.set);
    if (tok === '*') complete = true;
  }
  if (error !== undefined) return error;
  const has = (x: string) => out.includes(x);
  const drop = (x: string): boolean => {
    const at = out.indexOf(x);
    if (at < 0) return false;
    out.splice(at, 1);
    return true;
  };
  if (drop(DISPVM)) {
    const dd = defaultDispvm(source, info);
    if (dd !== null && !has(DISPVM_PREFIX + dd)) out.push(DISPVM_PREFIX + dd);
  }
  if (drop(ADMINVM) && !has('dom0')) out.push('dom0');
  drop(source);
  if (!r42) {
    // R4.3+ reads each target's info (a `default_dispvm` naming no qube fails there: KeyError)
    // and drops the qubes whose `internal` feature is set (not empty), and new disposables of them.
    for (const x of out) {
      if (x.startsWith(DISPVM_PREFIX) && !info.domains.has(x.slice(DISPVM_PREFIX.length))) return `qrexec error: no such qube \`${x.slice(DISPVM_PREFIX.length)}\``;
    }
    return out.filter((x) => !info.domains.get(x.startsWith(DISPVM_PREFIX) ? x.slice(DISPVM_PREFIX.length) : x)?.internal);
  }
  return out;
}

/** Expansions longer than this are looked up in their cached set rather than copied. */
const LARGE = 32;

/**
 * A qube name as `expand()` yields it: `IntendedTarget(name)`, which on R4.2
 * turns `dom0` into `@adminvm` (so a `dom0`/`@adminvm` deny removes the dom0
 * that `*`, `@type:AdminVM` or a tag added); R4.3+ keeps the name.
 */
function named(name: string, r42: boolean): string {
  return r42 && name === 'dom0' ? ADMINVM : name;
}

/**
 * The token's `expand()`: the targets it would match, as strings. Returns a
 * `qrexec error` reason where Qubes raises (`DispVMTemplate.expand` on a
 * qube that does not exist).
 */
const expansions = new WeakMap<SystemInfo, Map<string, Expansion>>();

interface Expansion {
  /** Sorted, so that ask lists built from it are nearly sorted already. */
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
  readonly error?: string;
}

/**
 * The token's `expand()` over the system's qubes (see `expandOnce`), memoized
 * per system: the channel analysis builds many ask lists over the same qubes.
 */
function expansion(tok: string, info: SystemInfo, r42: boolean): Expansion {
  let cache = expansions.get(info);
  if (!cache) expansions.set(info, (cache = new Map()));
  const key = (r42 ? '2|' : '3|') + tok;
  let e = cache.get(key);
  if (!e) {
    const list: string[] = [];
    const error = expandOnce(tok, info, r42, (x) => list.push(x));
    list.sort();
    const set = new Set(list);
    e = error === undefined ? { list, set } : { list, set, error };
    cache.set(key, e);
  }
  return e;
}

function expandOnce(tok: string, info: SystemInfo, r42: boolean, put: (x: string) => unknown): string | undefined {
  const domains = info.domains;
  if (tok === '*' || tok === '@anyvm') {
    const any = tok === '@anyvm';
    for (const [name, d] of domains) {
      // R4.2 `AnyVM.expand` skips type AdminVM; R4.3+ skips `is_dom0` names.
      if (!any || !(r42 ? d.type === 'AdminVM' : isDom0(name))) put(named(name, r42));
      if (d.templateForDispvms) put(DISPVM_PREFIX + name);
    }
    put(DISPVM);
    return undefined;
  }
  if (tok === ADMINVM || tok === DISPVM) {
    put(tok);
    return undefined;
  }
  if (tok === DEFAULT) return undefined;
  if (tok.charCodeAt(0) === AT) {
    if (tok.startsWith(DISPVM_TAG_PREFIX)) {
      for (const [name, d] of domains) if (d.templateForDispvms && hasTag(d, tok, DISPVM_TAG_PREFIX.length)) put(DISPVM_PREFIX + name);
    } else if (tok.startsWith(DISPVM_PREFIX)) {
      if (tok.charCodeAt(DISPVM_PREFIX.length) === AT) return undefined;
      const d = domains.get(tok.slice(DISPVM_PREFIX.length));
      if (d === undefined) return `qrexec error: no such qube \`${tok.slice(DISPVM_PREFIX.length)}\``;
      if (d.templateForDispvms) put(tok);
    } else if (tok.startsWith(TYPE_PREFIX)) {
      for (const [name, d] of domains) if (valueIs(tok, TYPE_PREFIX.length, d.type)) put(named(name, r42));
    } else if (tok.startsWith(TAG_PREFIX)) {
      for (const [name, d] of domains) if (hasTag(d, tok, TAG_PREFIX.length)) put(named(name, r42));
    }
    return undefined;
  }
  // A name (R4.3+ also `dom0`): itself, if it exists.
  if (domains.has(tok)) put(tok);
  return undefined;
}
