/**
 * The qrexec policy as Qubes evaluates it: rules in file order with their
 * provenance, the system information the daemon reads, requests and
 * decisions. Shared by the evaluator, the channel analysis and `qpc query`.
 */
import type { Span } from '../source.js';

export type QubesRelease = '4.2' | '4.3';

/** A qube token's class (qrexec `parser.py`; read by compiler/qrexec/token.ts). */
export type TokenKind = 'any' | 'anyvm' | 'adminvm' | 'default' | 'dispvm' | 'dispvm-of' | 'dispvm-tag' | 'tag' | 'type' | 'uuid' | 'name' | 'invalid';

/** One qube token as a release of Qubes reads it. */
export interface Token {
  readonly kind: TokenKind;
  /** The text as written. */
  readonly text: string;
  /** `dispvm-of`: the template; `dispvm-tag`, `tag`: the tag; `type`: the class; `uuid`: the UUID; `name`: the name; otherwise empty. */
  readonly value: string;
  /** The token names dom0: R4.3+ `is_dom0` (`@adminvm`, `dom0`, dom0's UUID); R4.2 `@adminvm` and `dom0`. */
  readonly dom0: boolean;
  /** The release that read it. */
  readonly release: QubesRelease;
  /** `invalid`: Qubes' reason (`PolicySyntaxError`). */
  readonly problem?: string;
}

/** The tokens of a rule's columns as one release reads them. */
export interface RuleTokens {
  readonly release: QubesRelease;
  readonly source: Token;
  readonly target: Token;
  readonly redirect?: Token;
  readonly defaultTarget?: Token;
}

/** One rule line as qrexec parses it (DESIGN §4.2; reference §1.2–1.4). */
export interface QrexecRule {
  /** `*` or a service name. */
  readonly service: string;
  /** `*` (any argument) or `+ARG` (`+` alone: the empty argument). */
  readonly argument: string;
  /** Source column token as qrexec reads it: a name, `@anyvm`, `@adminvm`, `@tag:T`, `@type:T`, `*`, `dom0`. */
  readonly source: string;
  /** Target column token: also `@default`, `@dispvm`, `@dispvm:Q`, `@dispvm:@tag:T`. */
  readonly target: string;
  readonly action: 'allow' | 'ask' | 'deny';
  /** `target=` (allow, ask). */
  readonly redirect?: string;
  /** `default_target=` (ask). */
  readonly defaultTarget?: string;
  readonly user?: string;
  /** `notify=`; undefined means the action's default (deny: yes, others: no). */
  readonly notify?: boolean;
  /** `autostart=`; undefined means yes. */
  readonly autostart?: boolean;
  readonly origin: RuleOrigin;
  /** The columns as the policy's release reads them (token.ts), set by lowering; read them through `ruleTokens`. */
  readonly tokens?: RuleTokens;
}

/** Where a rule comes from: the policy file it is in, and the source line that wrote it. */
export interface RuleOrigin {
  /** Policy file name without `.policy`, e.g. `30-qpc`, `90-default`. */
  readonly policyFile: string;
  /** True for a file Qubes ships (modelled in the standard library). */
  readonly stock: boolean;
  /** The `.qpol` span that declared the rule (for generated rules: the declaration that caused it). */
  readonly span: Span;
  /** A stable id for provenance comments: `30-qpc#3` or a generated id. */
  readonly id: string;
  /** Why qpc generated the rule, when it was not written by the user. */
  readonly generated?: string;
  /** The user's `because` reason, if any. */
  readonly because?: string;
}

/** One domain of `internal.GetSystemInfo` (reference §1.7), as far as evaluation needs it. */
export interface DomainInfo {
  readonly name: string;
  /** AdminVM, AppVM, TemplateVM, StandaloneVM, DispVM. */
  readonly type: string;
  readonly tags: readonly string[];
  /** `default_dispvm`, or null. */
  readonly defaultDispvm: string | null;
  /** The value is Qubes' default, not one set on the qube (so the qube's disposables do not copy it). */
  readonly defaultDispvmIsDefault?: boolean;
  readonly templateForDispvms: boolean;
  /** The `internal` feature's value when the qube has it (Qubes 4.3 leaves a qube whose value is not empty out of ask dialogs). */
  readonly internal?: string;
  /** Whether the qube is running (for `autostart=no`); qpc assumes halted unless told. */
  readonly running?: boolean;
}

export interface SystemInfo {
  readonly domains: ReadonlyMap<string, DomainInfo>;
}

/** A qrexec call: `SERVICE+ARG` from SOURCE to TARGET. */
export interface Request {
  readonly service: string;
  /** `+ARG`; `+` for no argument. */
  readonly argument: string;
  /** A qube name (calls come from a named qube). */
  readonly source: string;
  /** A qube name, `@default`, `@adminvm`/`dom0`, `@dispvm` or `@dispvm:Q`. */
  readonly target: string;
}

export interface Decision {
  readonly action: 'allow' | 'ask' | 'deny';
  /** The rule that decided, by index into the rule list; undefined when no rule matched. */
  readonly rule?: number;
  /** allow: the resolved target (`@dispvm:Q` for a new disposable of Q). */
  readonly target?: string;
  /** ask: the qubes offered, sorted. */
  readonly targets?: readonly string[];
  /** ask: the preselected target, if any and valid. */
  readonly defaultTarget?: string;
  readonly user?: string;
  readonly notify: boolean;
  readonly autostart: boolean;
  /** Why a request was denied when no rule's action says so: `no matching rule`, `loopback`, `requires autostart`, `not a disposable template: Q`. */
  readonly reason?: string;
}

/**
 * Calls the policy allows or asks for: every qube of `sources` may make them
 * to every qube of `targets` (one entry per pair of interchangeable classes).
 */
export interface Channel {
  readonly service: string;
  /** `+ARG` of a request that shows the channel (`+` for none; ANY_ARGUMENT for an argument no rule names). */
  readonly argument: string;
  readonly sources: readonly string[];
  /** The qubes the call reaches (a redirect or a disposable's template resolved). */
  readonly targets: readonly string[];
  /** What the caller asked for: a target's name, `@default` or `@dispvm`. */
  readonly requested: string;
  readonly action: 'allow' | 'ask';
  /** Index of the deciding rule. */
  readonly rule: number;
  /** True when the targets are new disposables of these disposable templates. */
  readonly disposable?: boolean;
}
