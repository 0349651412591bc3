/**
 * The qrexec evaluator: Qubes' first-match semantics for one release, over the
 * complete policy in file order (DESIGN §4.2 point 2; reference §1.2–1.4).
 * Follows qubes-core-qrexec `qrexec/policy/parser.py` (v4.2.25 for 4.2,
 * v4.3.12 and main for 4.3): the token classes' `match`/`expand`/`verify`,
 * `Allow.evaluate`, `Ask.evaluate`, `AbstractPolicy.find_matching_rule` and
 * `collect_targets_for_ask`, and the loopback check of
 * `AllowResolution.execute`. The tokens themselves — what each column
 * matches and expands to — are token.ts. Pure; allocates little per call.
 */
import type { Decision, QrexecRule, QubesRelease, Request, SystemInfo } from './types.js';
import {
  allowTarget,
  askDefaultShown,
  askTarget,
  CRASH,
  expansion,
  intendedTarget,
  isLoopback,
  NO,
  ruleTokens,
  runsWithoutAutostart,
  sourceMatches,
  targetMatches,
  defaultDispvm,
  disposableTemplateOf,
} from './token.js';

const ADMINVM = '@adminvm';
const DISPVM = '@dispvm';

/** Service, argument and source (`Rule.is_match_but_target`). */
function matchesButTarget(rule: QrexecRule, service: string, argument: string, source: string, info: SystemInfo, release: QubesRelease): boolean {
  return (
    (rule.service === '*' || rule.service === service) &&
    (rule.argument === '*' || rule.argument === argument) &&
    sourceMatches(ruleTokens(rule, release).source, source, info)
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
  const t = intendedTarget(request.target, info, release);
  if (typeof t !== 'string') return false;
  return (
    matchesButTarget(rule, request.service, argumentOf(request), request.source, info, release) &&
    targetMatches(ruleTokens(rule, release).target, t, request.source, info) !== NO
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
  const t = intendedTarget(request.target, info, release);
  if (typeof t !== 'string') return deny(undefined, t.reason, t.notify);
  const service = request.service;
  const argument = argumentOf(request);
  const source = request.source;
  const n = scan === undefined ? rules.length : scan.length;
  for (let k = 0; k < n; k++) {
    const i = scan === undefined ? k : scan[k];
    const rule = rules[i];
    if (!matchesButTarget(rule, service, argument, source, info, release)) continue;
    const m = targetMatches(ruleTokens(rule, release).target, t, source, info);
    if (m === NO) continue;
    // Qubes' matcher raised (see `targetMatches`): the daemon answers deny, without notification.
    if (m === CRASH) return deny(i, `qrexec error: \`${rule.target}\` cannot be matched against \`${t}\` from \`${source}\``, false, rule);
    if (rule.action === 'deny') return deny(i, undefined, rule.notify ?? true, rule);
    if (rule.action === 'allow') return allow(rule, i, t, source, info, release);
    return ask(rules, order, rule, i, service, argument, source, info, release, lister);
  }
  return deny(undefined, 'no matching rule', true);
}

function deny(rule: number | undefined, reason: string | undefined, notify: boolean, r?: QrexecRule): Decision {
  const autostart = r?.autostart ?? true;
  if (rule === undefined) return reason === undefined ? { action: 'deny', notify, autostart } : { action: 'deny', notify, autostart, reason };
  return reason === undefined ? { action: 'deny', rule, notify, autostart } : { action: 'deny', rule, notify, autostart, reason };
}

/** `Allow.evaluate`, then the loopback check of `AllowResolution.execute` (token.ts `allowTarget`). */
function allow(rule: QrexecRule, i: number, t: string, source: string, info: SystemInfo, release: QubesRelease): Decision {
  const notify = rule.notify ?? false;
  const autostart = rule.autostart ?? true;
  const out = allowTarget(rule, t, source, info, release);
  if ('refused' in out) return deny(i, out.refused.reason, out.refused.notify, rule);
  const target = out.target;
  if (isLoopback(target, source)) return deny(i, 'loopback', true, rule);
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
  release: QubesRelease,
  lister?: AskLister,
): Decision {
  const r42 = release === '4.2';
  const tokens = ruleTokens(rule, release);
  const notify = rule.notify ?? false;
  const autostart = rule.autostart ?? true;
  let targets: string[];
  if (tokens.redirect !== undefined) {
    // `ask target=X` offers X as written (R4.3+ turns dom0's aliases into `dom0`).
    targets = [askTarget(tokens.redirect)];
  } else {
    const collected = lister?.(rule) ?? collectTargetsForAsk(rules, order, service, argument, source, info, release);
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
  if (tokens.defaultTarget !== undefined) {
    defaultTarget = askDefaultShown(tokens.defaultTarget, source, info);
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
  release: QubesRelease,
): string[] | string {
  const r42 = release === '4.2';
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
    if (!matchesButTarget(rule, service, argument, source, info, release)) continue;
    const remove = rule.action === 'deny';
    // `getattr(rule.action, "target", None) or rule.target`: Deny has no redirect.
    const tokens = ruleTokens(rule, release);
    const tok = !remove && tokens.redirect !== undefined ? tokens.redirect : tokens.target;
    const e = expansion(tok, info);
    if (e.error !== undefined) error = e.error;
    if (complete || error !== undefined) continue;
    for (const x of e.list) {
      if (isDecided(x)) continue;
      if (!remove) out.push(x);
      if (e.list.length <= LARGE) decided.add(x);
    }
    if (e.list.length > LARGE) large.push(e.set);
    if (tok.kind === 'any') complete = true;
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
    if (dd !== null && !has(`${DISPVM}:${dd}`)) out.push(`${DISPVM}:${dd}`);
  }
  if (drop(ADMINVM) && !has('dom0')) out.push('dom0');
  drop(source);
  if (!r42) {
    // R4.3+ reads each target's info (a `default_dispvm` naming no qube fails there: KeyError)
    // and drops the qubes whose `internal` feature is set (not empty), and new disposables of them.
    for (const x of out) {
      const q = disposableTemplateOf(x);
      if (q !== undefined && !info.domains.has(q)) return `qrexec error: no such qube \`${q}\``;
    }
    return out.filter((x) => !info.domains.get(disposableTemplateOf(x) ?? x)?.internal);
  }
  return out;
}

/** Expansions longer than this are looked up in their cached set rather than copied. */
const LARGE = 32;
