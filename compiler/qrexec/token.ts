/**
 * Qubes' qrexec tokens, in one place: the token classes of a policy line's
 * source and target columns and of `target=`/`default_target=`, how each
 * release reads them, what they match and what they expand to, and the
 * character rules of services, arguments, tags, users and policy-file
 * names. Everything in qpc that reads or writes a qrexec token — the checker,
 * the evaluator, the channel analysis, `query`, the qrexec target's second
 * wall, the language server — asks this module.
 *
 * It follows qubes-core-qrexec `qrexec/policy/parser.py` (v4.2.25 for 4.2,
 * v4.3.12 for 4.3) so that the two can be read side by side:
 *
 *   parser.py                     here
 *   ---------                     ----
 *   WildcardVM `*`                kind `any`
 *   AnyVM `@anyvm`                kind `anyvm`
 *   AdminVM `@adminvm`            kind `adminvm` (R4.2 also `dom0`: `VMToken.__new__` rewrites it)
 *   DefaultVM `@default`          kind `default`
 *   DispVM `@dispvm`              kind `dispvm`
 *   DispVMTemplate `@dispvm:Q`    kind `dispvm-of`, value Q
 *   DispVMTag `@dispvm:@tag:T`    kind `dispvm-tag`, value T
 *   TagVM `@tag:T`                kind `tag`, value T
 *   TypeVM `@type:C`              kind `type`, value C
 *   a `uuid:` name (R4.3+)        kind `uuid`, value the UUID
 *   a plain name                  kind `name`, value the name
 *   PolicySyntaxError             kind `invalid`, with Qubes' reason
 *
 *   Source/Target/Redirect/IntendedTarget inheritance  → {@link qubesColumns}
 *   `is_dom0`                                          → {@link Token.dom0}
 *   `*.match` (3rd column)                             → {@link sourceMatches}
 *   `*.match` (4th column)                             → {@link targetMatches}
 *   `*.expand`                                         → {@link expansion}
 *   `IntendedTarget.verify`                            → {@link intendedTarget}
 *   `ActionType.actual_target`, `Allow.evaluate`,
 *   `AllowResolution.execute`'s loopback check         → {@link allowTarget}
 *
 * Tokens are interned per release and frozen: the same text read by the same
 * release is the same object, so parsing happens once per distinct text and
 * tokens can key maps.
 */
import { qubeNameSyntaxOf } from '../qubes-values.js';
import type { DomainInfo, QrexecRule, QubesRelease, RuleTokens, SystemInfo, Token, TokenKind } from './types.js';

export type { RuleTokens, Token, TokenKind };

// ---------------------------------------------------------------------------
// Character rules (reference §1.1–1.4, §1.8)
// ---------------------------------------------------------------------------

/**
 * A service name: qrexec's `RPCNAME_ALLOWED_CHARSET` without `+` (reference
 * §1.2); at most 255 characters, the longest service name qrexec executes
 * (`libqrexec/exec.c`, `NAME_MAX`).
 */
export const SERVICE = /^[A-Za-z0-9._-]{1,255}$/;

/** An argument: `+` then `RPCNAME_ALLOWED_CHARSET` (inner `+` allowed, `+` alone is the empty argument). */
export const ARGUMENT = /^\+[A-Za-z0-9._+-]*$/;

/** The longest argument qpc writes: `+` and 64 characters (qrexec's `MAX_ARGUMENT_LEN`). */
export const MAX_ARGUMENT = 65;

/** A call descriptor (`SERVICE+ARG`) is at most 65000 bytes (`libqrexec/qrexec.h`, `MAX_SERVICE_NAME_LEN`). */
export const MAX_DESCRIPTOR = 65000;

/** `RPCNAME_ALLOWED_CHARSET` itself: what Qubes' loader accepts in the service and argument columns. */
export const RPCNAME_CHARS = /^[A-Za-z0-9+._-]*$/;

/** Tags (qubesd `Tags.validate_tag`, reference §1.8). */
export const TAG = /^[A-Za-z0-9_-]+$/;

/** `user=` values: qubesd's `default_user` characters (reference §1.4). */
export const USER = /^[A-Za-z0-9_+,.-]+$/;

/** The policy files qpc writes: the `NN-` order prefix, then `[0-9a-z_-]` (dom0 also takes `.`; the policy admin API does not, reference §1.1). */
export const POLICY_FILE = /^[0-9]{2}-[0-9a-z_-]{1,60}$/;

/** Text inside a comment: printable ASCII, so that nothing can end the comment line (Python reads `\r` as a line break too). */
export const COMMENT_TEXT = /^[\x20-\x7e]*$/;

/** dom0's UUID token, which R4.3+ reads as dom0 (`is_dom0`, reference §1.3). */
export const DOM0_UUID = 'uuid:00000000-0000-0000-0000-000000000000';

/** The syntax of a `uuid:` token's value that qpc accepts. */
const UUID_VALUE = /^[0-9a-f-]{1,36}$/;

/** Qube classes `@type:` can name (reference §1.3): R4.3+ adds RemoteVM. */
export function qubeClasses(release: QubesRelease): readonly string[] {
  return release === '4.2' ? CLASSES_42 : CLASSES_43;
}
const CLASSES_42 = Object.freeze(['AdminVM', 'AppVM', 'TemplateVM', 'StandaloneVM', 'DispVM']);
const CLASSES_43 = Object.freeze([...CLASSES_42, 'RemoteVM']);

/** Whether a string is a qube name Qubes accepts in this release (qubesd `validate_name`). */
export function isQubeName(name: string, release: QubesRelease): boolean {
  return qubeNameSyntaxOf(release).test(name);
}

/** Whether a call's service is one qrexec can name (`*` aside). */
export function isServiceName(s: string): boolean {
  return SERVICE.test(s);
}

/** Whether a rule's argument column (`+ARG`) is one qpc writes. */
export function isArgument(a: string): boolean {
  return ARGUMENT.test(a) && a.length <= MAX_ARGUMENT;
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

const ADMINVM = '@adminvm';
const DEFAULT = '@default';
const DISPVM = '@dispvm';
const DISPVM_PREFIX = '@dispvm:';
const DISPVM_TAG_PREFIX = '@dispvm:@tag:';
const TAG_PREFIX = '@tag:';
const TYPE_PREFIX = '@type:';
const UUID_PREFIX = 'uuid:';

/** parser.py's exact tokens, in its class order. */
const EXACT: readonly (readonly [string, TokenKind])[] = [
  ['*', 'any'],
  [ADMINVM, 'adminvm'],
  ['@anyvm', 'anyvm'],
  [DEFAULT, 'default'],
  [DISPVM, 'dispvm'],
];

/** parser.py's prefixed tokens, in its class order (`@dispvm:@tag:` is found after `@dispvm:` gives way). */
const PREFIXED: readonly (readonly [string, TokenKind])[] = [
  [TYPE_PREFIX, 'type'],
  [TAG_PREFIX, 'tag'],
  [DISPVM_PREFIX, 'dispvm-of'],
  [DISPVM_TAG_PREFIX, 'dispvm-tag'],
];

/** The four places a qube token stands in parser.py: rule columns 3 and 4, `target=`/`default_target=`, and a request's target. */
export type Column = 'source' | 'target' | 'redirect' | 'intended';

/**
 * Where each kind may stand, as parser.py declares it by inheritance from
 * `Source`, `Target`, `Redirect` and `IntendedTarget`. Names and UUIDs
 * stand anywhere.
 */
export const qubesColumns: Readonly<Record<TokenKind, readonly Column[]>> = {
  any: ['source', 'target'],
  anyvm: ['source', 'target'],
  adminvm: ['source', 'target', 'redirect', 'intended'],
  default: ['target', 'intended'],
  dispvm: ['target', 'redirect', 'intended'],
  'dispvm-of': ['source', 'target', 'redirect', 'intended'],
  'dispvm-tag': ['source', 'target'],
  tag: ['source', 'target'],
  type: ['source', 'target'],
  uuid: ['source', 'target', 'redirect', 'intended'],
  name: ['source', 'target', 'redirect', 'intended'],
  invalid: [],
};

/** Whether Qubes' loader accepts a token of this kind in this column. */
export function acceptedIn(kind: TokenKind, column: Column): boolean {
  return qubesColumns[kind].includes(column);
}

/**
 * Kinds that Qubes accepts in a column but that can never match there:
 * disposables call with their own names (`dispNNNN`), so `@dispvm:Q` and
 * `@dispvm:@tag:T` never match a caller (reference §1.3). qpc writes no such
 * rule; the checker says why.
 */
export function neverMatchesIn(kind: TokenKind, column: Column): boolean {
  return column === 'source' && (kind === 'dispvm-of' || kind === 'dispvm-tag');
}

const interned: Record<QubesRelease, Map<string, Token>> = { '4.2': new Map(), '4.3': new Map() };

/**
 * A token as `VMToken.__new__` of this release reads it, whatever the column
 * (check the column with {@link acceptedIn}). Never throws: what Qubes refuses
 * is kind `invalid` with its reason.
 */
export function token(text: string, release: QubesRelease): Token {
  const cache = interned[release];
  let t = cache.get(text);
  if (t === undefined) {
    t = Object.freeze(read(text, release, undefined));
    cache.set(text, t);
  }
  return t;
}

/**
 * `VMToken.__new__` for one column, with Qubes' own messages: a token that
 * parses but belongs to another column reads as Qubes reads it there (it may
 * fall through to another prefix, or be `invalid token`).
 */
export function tokenIn(text: string, column: Column, release: QubesRelease): Token {
  const t = token(text, release);
  if (t.kind !== 'invalid' && acceptedIn(t.kind, column)) return t;
  return read(text, release, column);
}

function make(kind: TokenKind, text: string, value: string, release: QubesRelease, problem?: string): Token {
  const dom0 = kind === 'adminvm' || (release !== '4.2' && (text === 'dom0' || text === DOM0_UUID));
  return problem === undefined ? { kind, text, value, dom0, release } : { kind, text, value, dom0, release, problem };
}

const classWord: Record<Column, string> = { source: 'source', target: 'target', redirect: 'redirect', intended: 'intendedtarget' };

function read(text: string, release: QubesRelease, column: Column | undefined): Token {
  const what = column === undefined ? 'vm' : classWord[column];
  const allows = (kind: TokenKind) => column === undefined || acceptedIn(kind, column);
  let tok = text;
  if (release === '4.2') {
    // "first, adjust some aliases"
    if (tok === 'dom0') tok = ADMINVM;
  } else if (tok === '') {
    return make('invalid', text, '', release, `invalid empty ${what} token`);
  }
  if (!(tok.startsWith('@') || tok === '*')) {
    if (release !== '4.2' && tok.startsWith(UUID_PREFIX)) return make('uuid', text, tok.slice(UUID_PREFIX.length), release);
    return make('name', text, tok, release);
  }
  for (const [exact, kind] of EXACT) if (allows(kind) && tok === exact) return make(kind, text, '', release);
  for (const [prefix, kind] of PREFIXED) {
    if (!allows(kind) || !tok.startsWith(prefix)) continue;
    const value = tok.slice(prefix.length);
    if (value === '') return make('invalid', text, '', release, `invalid empty ${prefix} token: '${text}'`);
    // Part of a longer prefix (`@dispvm:@tag:`), or invalid: fall through.
    if (value.startsWith('@')) continue;
    return make(kind, text, value, release);
  }
  return make('invalid', text, '', release, `invalid ${what} token: '${text}'`);
}

/** A token's kind and value as its prefix says, before Qubes' rules of each release (what the checker explains, precisely, when they fail). */
export interface TokenShape {
  /** `invalid`: a `@…` word that is no token; `uuid`: any `uuid:…` text (R4.2 reads it as a name). */
  readonly kind: TokenKind;
  /** After the prefix, as written: may be empty, or start with `@`, where Qubes refuses it. */
  readonly value: string;
}

/** Splits a token by its prefix only (see {@link TokenShape}); {@link token} is what Qubes reads. */
export function tokenShape(text: string): TokenShape {
  if (text === '*') return { kind: 'any', value: '' };
  if (text.startsWith(UUID_PREFIX)) return { kind: 'uuid', value: text.slice(UUID_PREFIX.length) };
  if (text.charCodeAt(0) !== AT) return { kind: 'name', value: text };
  for (const [exact, kind] of EXACT) if (text === exact) return { kind, value: '' };
  // Longest prefix first: `@dispvm:@tag:` before `@dispvm:`.
  for (const [prefix, kind] of [PREFIXED[3], PREFIXED[2], PREFIXED[0], PREFIXED[1]]) if (text.startsWith(prefix)) return { kind, value: text.slice(prefix.length) };
  return { kind: 'invalid', value: '' };
}

/** The qrexec keywords a policy author can write, `…` standing for a value (for suggestions and completion). */
export const keywordTokens: readonly string[] = ['@anyvm', ADMINVM, DEFAULT, DISPVM, DISPVM_PREFIX, TAG_PREFIX, TYPE_PREFIX];

/** The text of a `@tag:` token. */
export function tagToken(tag: string): string {
  return TAG_PREFIX + tag;
}

/** The text of a `@type:` token. */
export function typeToken(cls: string): string {
  return TYPE_PREFIX + cls;
}

/** The text of a `@dispvm:Q` token: a new disposable of Q. */
export function dispvmOf(template: string): string {
  return DISPVM_PREFIX + template;
}

/** The text of a `@dispvm:@tag:T` token. */
export function dispvmTagToken(tag: string): string {
  return DISPVM_TAG_PREFIX + tag;
}

/** The disposable template a request or resolved target `@dispvm:Q` names (Q), or undefined. */
export function disposableTemplateOf(target: string): string | undefined {
  return target.startsWith(DISPVM_PREFIX) && target.length > DISPVM_PREFIX.length && target.charCodeAt(DISPVM_PREFIX.length) !== AT ? target.slice(DISPVM_PREFIX.length) : undefined;
}

/** Whether the text is a `@…` keyword or `*` rather than a qube's name (`VMToken.is_special_value`). */
export function isKeyword(text: string): boolean {
  return text === '*' || text.charCodeAt(0) === AT;
}

const AT = 64; // '@'

/** Reads a rule's columns (lowering stores the result on the rule: {@link QrexecRule.tokens}). */
export function readRuleTokens(rule: Pick<QrexecRule, 'source' | 'target' | 'redirect' | 'defaultTarget'>, release: QubesRelease): RuleTokens {
  const t: { -readonly [K in keyof RuleTokens]: RuleTokens[K] } = { release, source: token(rule.source, release), target: token(rule.target, release) };
  if (rule.redirect !== undefined) t.redirect = token(rule.redirect, release);
  if (rule.defaultTarget !== undefined) t.defaultTarget = token(rule.defaultTarget, release);
  return Object.freeze(t);
}

const ruleMemo: Record<QubesRelease, WeakMap<QrexecRule, RuleTokens>> = { '4.2': new WeakMap(), '4.3': new WeakMap() };

/** A rule's tokens for a release: those it carries from lowering, else read once and remembered. */
export function ruleTokens(rule: QrexecRule, release: QubesRelease): RuleTokens {
  const own = rule.tokens;
  if (own !== undefined && own.release === release) return own;
  const memo = ruleMemo[release];
  let t = memo.get(rule);
  if (t === undefined) memo.set(rule, (t = readRuleTokens(rule, release)));
  return t;
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

/** R4.3+ `parser.is_dom0` of a string. */
export function isDom0(s: string): boolean {
  return s === ADMINVM || s === 'dom0' || s === DOM0_UUID;
}

/** Result of matching a rule's target column: qrexec may also fail with an exception mid-scan. */
export const NO = 0;
export const YES = 1;
export const CRASH = 2;
export type Match = typeof NO | typeof YES | typeof CRASH;

function hasTag(d: DomainInfo, tag: string): boolean {
  const tags = d.tags;
  for (let i = 0; i < tags.length; i++) if (tags[i] === tag) return true;
  return false;
}

/** `DispVM.get_dispvm_template`: the caller's `default_dispvm`, or null. */
export function defaultDispvm(source: string, info: SystemInfo): string | null {
  return info.domains.get(source)?.defaultDispvm ?? null;
}

/**
 * The source column against the caller's name (`Source` classes' `match`).
 * `@dispvm…` tokens parse in this column but never match a name; R4.2
 * `@adminvm`/`dom0` compare with the string `@adminvm`, so they never match a
 * caller (a request's source is a plain string), and R4.2 `@anyvm` only
 * excludes that string.
 */
export function sourceMatches(tok: Token, source: string, info: SystemInfo): boolean {
  // The caller's information is looked up only for the tokens that read it.
  return sourceTakes(tok, source, tok.kind === 'type' || tok.kind === 'tag' ? info.domains.get(source) : undefined);
}

/** {@link sourceMatches} with the caller's information at hand (`d` undefined: a qube the system does not have). */
function sourceTakes(tok: Token, source: string, d: DomainInfo | undefined): boolean {
  const r42 = tok.release === '4.2';
  switch (tok.kind) {
    case 'any':
      return true;
    case 'anyvm':
      return r42 ? source !== ADMINVM : !isDom0(source);
    case 'adminvm':
      return r42 ? source === ADMINVM : isDom0(source);
    case 'type':
      return d !== undefined && d.type === tok.value;
    case 'tag':
      return d !== undefined && hasTag(d, tok.value);
    case 'name':
    case 'uuid':
      // R4.3+ `VMToken.match` treats dom0's aliases as one.
      return tok.dom0 ? isDom0(source) : tok.text === source;
    default:
      return false;
  }
}

/**
 * Whether a column takes this qube: as the caller ({@link sourceMatches}),
 * or as the target of a request naming it ({@link targetMatches} of the
 * request as qrexec verifies it: R4.2 reads `dom0` as `@adminvm`). For the
 * analyses that reason about the system's qubes rather than about one
 * request.
 */
export function takesQube(tok: Token, d: DomainInfo, column: 'source' | 'target'): boolean {
  if (column === 'source') return sourceTakes(tok, d.name, d);
  const t = tok.release === '4.2' && d.name === 'dom0' ? ADMINVM : d.name;
  const r42 = tok.release === '4.2';
  // R4.2 looks `@adminvm` up as a qube's name, which no qube has: tags and types never take dom0 there.
  const known = t === d.name;
  switch (tok.kind) {
    case 'any':
      return true;
    case 'anyvm':
      return r42 ? t !== ADMINVM : !isDom0(t);
    case 'adminvm':
      return r42 ? t === ADMINVM : isDom0(t);
    case 'type':
      return known && d.type === tok.value;
    case 'tag':
      return known && hasTag(d, tok.value);
    case 'name':
    case 'uuid':
      return tok.dom0 ? isDom0(t) : tok.text === t;
    default:
      return false;
  }
}

/**
 * The target column against the verified request target `t` (`Target`
 * classes' `match`; `t` as {@link intendedTarget} leaves it). `@anyvm` also
 * takes `@default`/`@dispvm`/`@dispvm:X` requests; `@tag:`/`@type:` only
 * existing qubes; `@dispvm` only the `@dispvm` request (`DispVM.match` is
 * string equality); `@dispvm:Q` a `@dispvm:Q` request and a `@dispvm`
 * request whose caller's `default_dispvm` is Q (`DispVMTemplate.match`).
 */
export function targetMatches(tok: Token, t: string, source: string, info: SystemInfo): Match {
  const r42 = tok.release === '4.2';
  switch (tok.kind) {
    case 'any':
      return YES;
    case 'anyvm':
      return (r42 ? t !== ADMINVM : !isDom0(t)) ? YES : NO;
    case 'adminvm':
      return (r42 ? t === ADMINVM : isDom0(t)) ? YES : NO;
    case 'default':
      return t === DEFAULT ? YES : NO;
    case 'dispvm':
      return t === DISPVM ? YES : NO;
    case 'dispvm-tag':
      return dispvmTagMatches(tok, t, source, info);
    case 'dispvm-of':
      if (t === DISPVM) {
        const dd = defaultDispvm(source, info);
        // R4.3+ `match_strings(info, self, None)` calls `None.startswith`: the
        // evaluation fails with AttributeError; R4.2 compares with None.
        if (dd === null) return r42 ? NO : CRASH;
        return dd === tok.value ? YES : NO;
      }
      return t === tok.text ? YES : NO;
    case 'type': {
      const d = info.domains.get(t);
      return d !== undefined && d.type === tok.value ? YES : NO;
    }
    case 'tag': {
      const d = info.domains.get(t);
      return d !== undefined && hasTag(d, tok.value) ? YES : NO;
    }
    case 'name':
    case 'uuid':
      if (tok.dom0) return isDom0(t) ? YES : NO;
      return tok.text === t ? YES : NO;
    default:
      return NO;
  }
}

/** `DispVMTag.match`: the disposable template the request names (or the caller's default) is one with the tag. */
function dispvmTagMatches(tok: Token, t: string, source: string, info: SystemInfo): Match {
  let name: string | null;
  if (t === DISPVM) name = defaultDispvm(source, info);
  else if (t.startsWith(DISPVM_PREFIX)) name = t.slice(DISPVM_PREFIX.length);
  else return NO;
  if (name === null) return NO;
  const d = info.domains.get(name);
  if (d === undefined) return CRASH; // `system_info["domains"][other.value]`: KeyError
  return d.templateForDispvms && hasTag(d, tok.value) ? YES : NO;
}

// ---------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------

/** A refusal before or after matching, as qrexec's `AccessDenied` (notify defaults to yes). */
export interface Refusal {
  readonly reason: string;
  readonly notify: boolean;
}

function refusal(reason: string, notify = true): Refusal {
  return { reason, notify };
}

/**
 * A request's target as `IntendedTarget(target).verify(system_info)` leaves
 * it (parser.py `Request.__init__`, also applied to `target=` redirects in
 * `ActionType.actual_target`): an existing qube's name, `@default` (also for
 * an empty target and for a qube that does not exist), `@adminvm`, `@dispvm`
 * or a checked `@dispvm:Q`. Other `@` tokens and `*` are not valid there
 * (`PolicySyntaxError`, which the daemon answers with a silent deny). R4.2
 * reads `dom0` as `@adminvm`.
 */
export function intendedTarget(target: string, info: SystemInfo, release: QubesRelease): string | Refusal {
  const t = release === '4.2' && target === 'dom0' ? ADMINVM : target;
  if (t === '') return DEFAULT;
  if (t.charCodeAt(0) !== AT && t !== '*') return info.domains.has(t) ? t : DEFAULT;
  if (t === ADMINVM || t === DEFAULT || t === DISPVM) return t;
  const q = disposableTemplateOf(t);
  if (q !== undefined) {
    // `DispVMTemplate.verify`: "not a template for dispvm: Q"
    const d = info.domains.get(q);
    return d !== undefined && d.templateForDispvms ? t : refusal(`not a disposable template: ${q}`);
  }
  return refusal(`invalid target: ${target}`, false);
}

/**
 * Whether a qube runs, for `autostart=no` (`ActionType.allow_no_autostart`):
 * dom0 always (R4.3+ `is_dom0`; R4.2 reads dom0's `power_state`, which is
 * always `Running`), new disposables never; undefined when Qubes fails on a
 * qube it does not know.
 */
export function runsWithoutAutostart(target: string, info: SystemInfo): boolean | undefined {
  if (isDom0(target)) return true;
  if (target.startsWith(DISPVM)) return false;
  const d = info.domains.get(target);
  // qrexec: KeyError → AssertionError, the request fails.
  if (d === undefined) return undefined;
  return d.running === true;
}

/** Where an `allow` sends a call: a qube's name, `dom0`, or `@dispvm:Q` for a new disposable of Q. */
export type AllowOutcome = { readonly target: string } | { readonly refused: Refusal };

/**
 * Where a matched `allow` rule sends the call, or why Qubes refuses it
 * (`ActionType.actual_target`, `Allow.evaluate`): the rule's `target=`
 * (verified again, not matched again) or the verified request target `t`;
 * `@default` without redirect → `no target`; `@dispvm` → `@dispvm:<caller's
 * default_dispvm>` (none → `no default_dispvm`); `@adminvm` → `dom0`;
 * `autostart=no` to a halted qube or a new disposable → `requires
 * autostart` (notify only with `notify=yes`). The caller matters only
 * through its `default_dispvm`, so the channel analysis asks for a whole
 * class of callers at once; `AllowResolution.execute`'s loopback check
 * (the destination is the caller itself) is {@link isLoopback}, per caller.
 */
export function allowTarget(rule: QrexecRule, t: string, source: string, info: SystemInfo, release: QubesRelease): AllowOutcome {
  const notify = rule.notify ?? false;
  let target: string;
  if (rule.redirect === undefined) target = t;
  else {
    const v = intendedTarget(rule.redirect, info, release);
    if (typeof v !== 'string') return { refused: v };
    target = v;
  }
  if (target === DEFAULT) return { refused: refusal('no target') };
  if (target === DISPVM) {
    const dd = defaultDispvm(source, info);
    if (dd === null) return { refused: refusal('no default_dispvm') };
    target = DISPVM_PREFIX + dd;
  } else if (target === ADMINVM) target = 'dom0';
  if (rule.autostart === false) {
    const runs = runsWithoutAutostart(target, info);
    if (runs === undefined) return { refused: refusal(`qrexec error: no such qube \`${target}\``, false) };
    // "target X is denied because it would require autostart", with the rule's notify
    if (!runs) return { refused: refusal('requires autostart', notify) };
  }
  return { target };
}

/** `AllowResolution.execute`: "loopback qrexec connection not supported" (qubes-issues#951). */
export function isLoopback(destination: string, caller: string): boolean {
  return destination === caller;
}

/**
 * What `ask target=X` offers, before the dialog shows `@adminvm` as dom0: X
 * as written, dom0's aliases as `dom0` on R4.3+ (`is_dom0`); R4.2 keeps the
 * token `@adminvm` (also for `dom0`), so a `default_target=dom0` is not
 * among the targets there.
 */
export function askTarget(tok: Token): string {
  if (tok.release === '4.2') return tok.kind === 'adminvm' ? ADMINVM : tok.text;
  return tok.dom0 ? 'dom0' : tok.text;
}

/**
 * `Ask`'s `default_target=` as the dialog preselects it: `@dispvm` through
 * the caller's `default_dispvm` (null without one), dom0's aliases as
 * `dom0`, else as written.
 */
export function askDefaultShown(tok: Token, source: string, info: SystemInfo): string | null {
  if (tok.kind === 'dispvm') {
    const dd = defaultDispvm(source, info);
    return dd === null ? null : DISPVM_PREFIX + dd;
  }
  return tok.dom0 ? 'dom0' : tok.text;
}

// ---------------------------------------------------------------------------
// Expansion (`collect_targets_for_ask`)
// ---------------------------------------------------------------------------

/** A token's `expand()` over a system's qubes. */
export interface Expansion {
  /** Sorted, so that ask lists built from it are nearly sorted already. */
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
  /** A `qrexec error` reason where Qubes raises (`DispVMTemplate.expand` on a qube that does not exist). */
  readonly error?: string;
}

const expansions = new WeakMap<SystemInfo, Map<Token, Expansion>>();

/**
 * The token's `expand()`: the targets it would match, as strings, memoized
 * per system (the channel analysis builds many ask lists over the same
 * qubes). R4.2 yields dom0 as `@adminvm` (`IntendedTarget(name)` rewrites
 * it), so a `dom0`/`@adminvm` deny removes the dom0 that `*`, `@type:AdminVM`
 * or a tag added; R4.3+ keeps the name.
 */
export function expansion(tok: Token, info: SystemInfo): Expansion {
  let cache = expansions.get(info);
  if (!cache) expansions.set(info, (cache = new Map()));
  let e = cache.get(tok);
  if (!e) {
    const list: string[] = [];
    const error = expandOnce(tok, info, (x) => list.push(x));
    list.sort();
    const set = new Set(list);
    e = error === undefined ? { list, set } : { list, set, error };
    cache.set(tok, e);
  }
  return e;
}

function expandOnce(tok: Token, info: SystemInfo, put: (x: string) => unknown): string | undefined {
  const r42 = tok.release === '4.2';
  const named = (name: string) => (r42 && name === 'dom0' ? ADMINVM : name);
  const domains = info.domains;
  switch (tok.kind) {
    case 'any':
    case 'anyvm': {
      const any = tok.kind === 'anyvm';
      for (const [name, d] of domains) {
        // R4.2 `AnyVM.expand` skips type AdminVM; R4.3+ skips `is_dom0` names.
        if (!any || !(r42 ? d.type === 'AdminVM' : isDom0(name))) put(named(name));
        if (d.templateForDispvms) put(DISPVM_PREFIX + name);
      }
      put(DISPVM);
      return undefined;
    }
    case 'adminvm':
      put(ADMINVM);
      return undefined;
    case 'dispvm':
      put(DISPVM);
      return undefined;
    case 'dispvm-tag':
      for (const [name, d] of domains) if (d.templateForDispvms && hasTag(d, tok.value)) put(DISPVM_PREFIX + name);
      return undefined;
    case 'dispvm-of': {
      const d = domains.get(tok.value);
      if (d === undefined) return `qrexec error: no such qube \`${tok.value}\``;
      if (d.templateForDispvms) put(tok.text);
      return undefined;
    }
    case 'type':
      for (const [name, d] of domains) if (d.type === tok.value) put(named(name));
      return undefined;
    case 'tag':
      for (const [name, d] of domains) if (hasTag(d, tok.value)) put(named(name));
      return undefined;
    case 'name':
    case 'uuid':
      // A name (R4.3+ also `dom0`): itself, if it exists.
      if (domains.has(tok.text)) put(tok.text);
      return undefined;
    default:
      return undefined;
  }
}

/** The qube names that rules single out: plain names in any column, and the Q of `@dispvm:Q`. */
export function singledOut(tok: Token): string | undefined {
  if (tok.kind === 'name') return tok.text;
  if (tok.kind === 'dispvm-of') return tok.value;
  return undefined;
}

// ---------------------------------------------------------------------------
// What qpc writes
// ---------------------------------------------------------------------------

/** Why a token cannot be written: a value outside the character rules (`value`), or a well-formed token this column or release does not take (`column`, `release`). */
export type TokenFault =
  | { readonly fault: 'value'; readonly what: string }
  | { readonly fault: 'column' }
  | { readonly fault: 'release'; readonly why: string }
  | { readonly fault: 'unknown' };

/**
 * Checks a token qpc is about to write in a column, beyond what Qubes'
 * loader accepts: the values' character rules, the classes of the release,
 * only dom0's UUID (the one qpc can resolve), and no token that never
 * matches there ({@link neverMatchesIn}). Undefined when the token is one
 * qpc writes.
 */
export function writeFault(text: string, column: 'source' | 'target' | 'redirect', release: QubesRelease): TokenFault | undefined {
  const t = token(text, release);
  const value = (ok: boolean, what: string): TokenFault | undefined => (ok ? undefined : { fault: 'value', what });
  let bad: TokenFault | undefined;
  switch (t.kind) {
    case 'invalid':
      if (text.startsWith(UUID_PREFIX)) return { fault: 'value', what: 'UUID token' };
      if (text.charCodeAt(0) !== AT) return { fault: 'value', what: 'qube name' };
      if (!/^@[A-Za-z0-9_:.-]*$/.test(text)) return { fault: 'value', what: 'qrexec token' };
      return text === '@dispvm:' || text === TAG_PREFIX || text === TYPE_PREFIX || text === DISPVM_TAG_PREFIX ? { fault: 'value', what: text === TYPE_PREFIX ? 'qube class' : text === '@dispvm:' ? 'disposable template name' : 'tag' } : { fault: 'unknown' };
    case 'dispvm-tag':
    case 'tag':
      bad = value(TAG.test(t.value), 'tag');
      break;
    case 'dispvm-of':
      if (!isQubeName(t.value, release)) return nameFault(t.value, release, 'disposable template name');
      break;
    case 'type':
      if (!/^[A-Za-z]+$/.test(t.value)) return { fault: 'value', what: 'qube class' };
      // A class this release does not have parses, but matches nothing (`TypeVM.match`).
      if (!qubeClasses(release).includes(t.value)) return { fault: 'release', why: `\`${text}\` on Qubes ${release}, which has no qube class \`${t.value}\`` };
      break;
    case 'uuid':
      if (!UUID_VALUE.test(t.value)) return { fault: 'value', what: 'UUID token' };
      if (text !== DOM0_UUID) return { fault: 'release', why: `\`${text}\`: a qube UUID the checker cannot resolve (only dom0's UUID is known)` };
      break;
    case 'name':
      if (release === '4.2' && text.startsWith(UUID_PREFIX)) {
        // R4.2 reads `uuid:…` as the name of a qube that cannot exist.
        if (!/^uuid:[0-9a-f-]{1,36}$/.test(text)) return { fault: 'value', what: 'UUID token' };
        return { fault: 'release', why: `\`${text}\` on Qubes 4.2 (\`uuid:\` tokens exist from Qubes 4.3 on)` };
      }
      if (!isQubeName(text, release)) return nameFault(text, release, 'qube name');
      break;
    default:
      break;
  }
  if (bad !== undefined) return bad;
  if (!acceptedIn(t.kind, column) || neverMatchesIn(t.kind, column)) return { fault: 'column' };
  return undefined;
}

/** Why a name is not a qube name of this release: a release feature for a 4.3 name on 4.2, else a bad value. */
export function nameFault(name: string, release: QubesRelease, what: string): TokenFault {
  // A name Qubes 4.3 accepts (it has a dot) but 4.2 does not: a release feature, not an unsafe value.
  if (release === '4.2' && isQubeName(name, '4.3')) return { fault: 'release', why: `the qube name \`${name}\` on Qubes 4.2 (dots in qube names exist from Qubes 4.3 on)` };
  return { fault: 'value', what };
}
