/**
 * The syntax tree of a `.qpol` file, as the grammar builds it. Every node is
 * read-only and carries its span; named nodes also carry the span of the name.
 * Values are kept as written (words, not enums) so the binder can report a
 * misspelt keyword value with a "did you mean" at the exact place.
 */
import type { Span } from '../source.js';

/** A word as written: a name, keyword value, service or number. */
export interface Word {
  readonly kind: 'Word';
  readonly text: string;
  readonly span: Span;
}

/** A double-quoted string; `value` has escapes resolved. */
export interface StringLit {
  readonly kind: 'StringLit';
  readonly value: string;
  readonly span: Span;
}

/** An unsigned integer as written. */
export interface IntLit {
  readonly kind: 'IntLit';
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}

/** A `#` comment, kept for the formatter. `text` starts after the `#`. */
export interface Comment {
  readonly kind: 'Comment';
  readonly text: string;
  readonly span: Span;
}

/** One parsed file. */
export interface PolicyFile {
  readonly kind: 'PolicyFile';
  readonly path: string;
  readonly statements: readonly Statement[];
  readonly comments: readonly Comment[];
  readonly span: Span;
}

export type Statement =
  | UseStatement
  | SettingsBlock
  | Declaration
  | Rule
  | PolicyFileBlock
  | Require
  | Expect
  | Waive;

/** `use "qubes"`, `use "./shared.qpol"`. */
export interface UseStatement {
  readonly kind: 'UseStatement';
  readonly path: StringLit;
  readonly span: Span;
}

/** `settings { … }`. */
export interface SettingsBlock {
  readonly kind: 'SettingsBlock';
  readonly settings: readonly Setting[];
  readonly span: Span;
}

/** One `KEY VALUE` line of `settings`; the value is checked by the binder. */
export interface Setting {
  readonly kind: 'Setting';
  readonly key: Word;
  /** The value; for a string (`kernel "6.6.63-1.fc37"`), its text at the string's span. */
  readonly value: Word;
  /** The string as written, when the value is one (only `kernel` takes a string). */
  readonly string?: StringLit;
  readonly span: Span;
}

/** The declaration forms; `amend` adds items to a declaration made elsewhere; `adminvm` declares dom0 (standard library). */
export type DeclarationForm =
  | 'adminvm'
  | 'template'
  | 'gateway'
  | 'identity'
  | 'qube'
  | 'disposable'
  | 'named-disposable'
  | 'standalone'
  | 'amend';

/** `FORM NAME [in IDENTITY] [{ items }]`. */
export interface Declaration {
  readonly kind: 'Declaration';
  readonly form: DeclarationForm;
  readonly name: Word;
  /** The identity after `in`, for qube-like forms. */
  readonly identity?: Word;
  readonly items: readonly Item[];
  /** Whether the declaration was written with braces. */
  readonly block: boolean;
  readonly span: Span;
}

export type Item =
  | RefItem
  | ValueItem
  | MemoryItem
  | CountItem
  | StringItem
  | DeviceItem
  | FeatureItem
  | ServiceItem
  | FlagItem
  | NetworkItem
  | AppItem
  | ListenerItem;

/** Items whose value names a declaration or is `none`: `template`, `netvm`, `default-disposable`, `disposable`. */
export interface RefItem {
  readonly kind: 'RefItem';
  readonly key: 'template' | 'netvm' | 'default-disposable' | 'disposable';
  readonly keySpan: Span;
  /** `undefined` for `none`. */
  readonly target?: Word;
  readonly span: Span;
}

/** Items whose value is one word: `label`, `virt-mode`, `isolation`, `whonix`, `tag`. */
export interface ValueItem {
  readonly kind: 'ValueItem';
  readonly key: 'label' | 'virt-mode' | 'isolation' | 'whonix' | 'whonix-tags' | 'tag';
  readonly keySpan: Span;
  readonly value: Word;
  readonly span: Span;
}

/** `memory N [max M]` (MiB). */
export interface MemoryItem {
  readonly kind: 'MemoryItem';
  readonly keySpan: Span;
  readonly memory: IntLit;
  readonly max?: IntLit;
  readonly span: Span;
}

/** `vcpus N`. */
export interface CountItem {
  readonly kind: 'CountItem';
  readonly key: 'vcpus';
  readonly keySpan: Span;
  readonly value: IntLit;
  readonly span: Span;
}

/** `kernel "V"|none`, `kernelopts "…"`. */
export interface StringItem {
  readonly kind: 'StringItem';
  readonly key: 'kernel' | 'kernelopts';
  readonly keySpan: Span;
  /** `undefined` for `kernel none`. */
  readonly value?: StringLit;
  readonly span: Span;
}

/** `device pci|usb|block|mic ["ID"] [no-strict-reset]`. */
export interface DeviceItem {
  readonly kind: 'DeviceItem';
  readonly keySpan: Span;
  readonly deviceClass: Word;
  readonly id?: StringLit;
  /** The words after the id: `no-strict-reset` (PCI only). */
  readonly options: readonly Word[];
  readonly span: Span;
}

/** `feature KEY "VALUE"`. */
export interface FeatureItem {
  readonly kind: 'FeatureItem';
  readonly keySpan: Span;
  readonly key: Word;
  readonly value: StringLit;
  readonly span: Span;
}

/** `service NAME [on|off]`. */
export interface ServiceItem {
  readonly kind: 'ServiceItem';
  readonly keySpan: Span;
  readonly service: Word;
  readonly enabled: boolean;
  /** The `on`/`off` word when written. */
  readonly state?: Word;
  readonly span: Span;
}

/** Items without a value: `autostart`, `tor`, `uplink`. */
export interface FlagItem {
  readonly kind: 'FlagItem';
  readonly flag: 'autostart' | 'tor' | 'uplink';
  readonly span: Span;
}

/** `network clearnet via G`, `network tor via G`, `network none`. */
export interface NetworkItem {
  readonly kind: 'NetworkItem';
  readonly keySpan: Span;
  readonly mode: Word;
  readonly via?: Word;
  readonly span: Span;
}

/** `app NAME [{ socks … }]`. */
export interface AppItem {
  readonly kind: 'AppItem';
  readonly name: Word;
  readonly socks?: SocksBinding;
  readonly span: Span;
}

/** An app's SOCKS binding. */
export interface SocksBinding {
  readonly kind: 'SocksBinding';
  readonly mode: 'dedicated' | 'port' | 'auth' | 'none';
  readonly modeSpan: Span;
  readonly port?: IntLit;
  /** Isolation flags after `isolate`, as written. */
  readonly isolate: readonly Word[];
  readonly span: Span;
}

/**
 * A Tor listener a gateway provides (data of the standard library's Whonix
 * table): `listener socks 9101 isolate dest-addr dest-port`,
 * `listener socks 9152..9159 custom`, `listener control 9052 local`.
 * Options come before `isolate`, whose flags run to the end of the item.
 */
export interface ListenerItem {
  readonly kind: 'ListenerItem';
  readonly keySpan: Span;
  readonly listenerKind: Word;
  readonly from: IntLit;
  readonly to?: IntLit;
  readonly isolate: readonly Word[];
  /** Further words: `custom`, `local`, and tor options such as `keepalive-socks-auth`. */
  readonly options: readonly Word[];
  readonly span: Span;
}

export type RuleAction = 'allow' | 'ask' | 'deny';

/** `allow|ask|deny SERVICE[ +ARG] from SOURCE to TARGET [params]`. */
export interface Rule {
  readonly kind: 'Rule';
  readonly action: RuleAction;
  readonly actionSpan: Span;
  readonly service: Word;
  /** Written with its leading `+`; absent means any argument. */
  readonly argument?: Word;
  readonly source: Endpoint;
  readonly target: Endpoint;
  readonly params: readonly RuleParam[];
  readonly span: Span;
}

/** A rule source or target, or a redirect: a name or an `@` token, as written. */
export interface Endpoint {
  readonly kind: 'Endpoint';
  readonly text: string;
  readonly span: Span;
}

export type RuleParam =
  | { readonly kind: 'EndpointParam'; readonly key: 'target' | 'default'; readonly keySpan: Span; readonly value: Endpoint; readonly span: Span }
  | { readonly kind: 'UserParam'; readonly keySpan: Span; readonly value: Word; readonly span: Span }
  | { readonly kind: 'FlagParam'; readonly flag: 'notify' | 'no-notify' | 'no-autostart'; readonly span: Span }
  | { readonly kind: 'BecauseParam'; readonly keySpan: Span; readonly reason: StringLit; readonly span: Span };

/** `policy-file NN-NAME [stock [sha256 "HEX"]] [for RELEASE…] { rules }`. */
export interface PolicyFileBlock {
  readonly kind: 'PolicyFileBlock';
  readonly name: Word;
  /** A file already in dom0 (Qubes ships it, or a tool wrote it): modelled, not emitted. */
  readonly stock: boolean;
  /** `sha256 "HEX"` after `stock`: the file's bytes as they are in dom0, verified by provisioning. */
  readonly sha256?: StringLit;
  /** The Qubes releases that have the file; empty for all. */
  readonly releases: readonly Word[];
  readonly rules: readonly Rule[];
  readonly span: Span;
}

/** `require A isolated-from B`, `require A never-reaches B`. */
export interface Require {
  readonly kind: 'Require';
  readonly subject: Word;
  readonly relation: 'isolated-from' | 'never-reaches';
  readonly relationSpan: Span;
  readonly object: Word;
  readonly span: Span;
}

/** `expect SERVICE[+ARG] from S to T: DECISION [params]`. */
export interface Expect {
  readonly kind: 'Expect';
  readonly service: Word;
  readonly argument?: Word;
  readonly source: Endpoint;
  readonly target: Endpoint;
  readonly decision: RuleAction;
  readonly decisionSpan: Span;
  readonly params: readonly ExpectParam[];
  readonly span: Span;
}

export type ExpectParam =
  | { readonly kind: 'ExpectTargets'; readonly key: 'target' | 'targets' | 'default'; readonly keySpan: Span; readonly values: readonly Endpoint[]; readonly span: Span }
  | { readonly kind: 'UserParam'; readonly keySpan: Span; readonly value: Word; readonly span: Span };

/** `waive QPnnnn on NAME because "reason"`. */
export interface Waive {
  readonly kind: 'Waive';
  readonly code: Word;
  readonly subject: Word;
  readonly reason: StringLit;
  readonly span: Span;
}

/** Every node kind. */
export type Node =
  | PolicyFile
  | Statement
  | Setting
  | Item
  | SocksBinding
  | RuleParam
  | ExpectParam
  | Endpoint
  | Word
  | StringLit
  | IntLit
  | Comment;
