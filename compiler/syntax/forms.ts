/**
 * The vocabulary of the language: the keywords of each position (the
 * grammar's predicates test words against them, the parser's messages list
 * and suggest them), the words inside statements, the declaration forms,
 * how messages name them, and the items each takes. The parser, the checker
 * (check-items.ts), the language server's completion and the test of the
 * editor grammar all read these tables, so that a word added here is
 * accepted, checked, offered and coloured, or a test says where it is not.
 */
import type { DeclarationForm } from './ast.js';

/**
 * The keywords of each position, by the name of the grammar rule that says
 * what may come there ("expected a setting (qubes, …)").
 */
export const keywords = {
  statement: ['use', 'settings', 'adminvm', 'template', 'gateway', 'identity', 'qube', 'disposable', 'named-disposable', 'standalone', 'amend', 'allow', 'ask', 'deny', 'policy-file', 'require', 'expect', 'waive'],
  item: ['template', 'label', 'memory', 'vcpus', 'virt-mode', 'kernel', 'kernelopts', 'netvm', 'default-disposable', 'device', 'tag', 'feature', 'service', 'autostart', 'app', 'network', 'disposable', 'isolation', 'tor', 'uplink', 'whonix', 'whonix-tags', 'listener'],
  setting: ['qubes', 'whonix', 'policy-file', 'default-disposable', 'kernel'],
  rule: ['allow', 'ask', 'deny'],
  'rule parameter': ['target', 'default', 'user', 'notify', 'no-notify', 'no-autostart', 'because'],
  decision: ['allow', 'ask', 'deny'],
  expectation: ['target', 'targets', 'default', 'user'],
  'socks mode': ['dedicated', 'port', 'auth', 'none'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** The words inside statements, each where the grammar has it. */
export const statementWords = {
  /** `qube NAME in IDENTITY`. */
  declaration: ['in'],
  /** `memory N max M`, `network MODE via GATEWAY`, `listener … isolate …`. */
  item: ['max', 'via', 'isolate'],
  /** The block of `app NAME { socks MODE }`. */
  app: ['socks'],
  /** `allow SERVICE from SOURCE to TARGET`. */
  rule: ['from', 'to'],
  /** `policy-file NAME stock sha256 "…" for VERSION {`. */
  'policy-file': ['stock', 'sha256', 'for'],
  /** `require A isolated-from B`. */
  require: ['isolated-from', 'never-reaches'],
  /** `waive CODE on NAME "…"`. */
  waive: ['on'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** What a declaration declares: every form but `amend`. */
export type DeclKind = Exclude<DeclarationForm, 'amend'>;

/** How a kind of declaration is named in messages. */
export const kindWords: Readonly<Record<DeclKind, string>> = {
  adminvm: 'the admin qube',
  template: 'a template',
  gateway: 'a gateway',
  identity: 'an identity',
  qube: 'a qube',
  disposable: 'a disposable template',
  'named-disposable': 'a named disposable',
  standalone: 'a standalone qube',
};

const COMMON = ['template', 'label', 'memory', 'vcpus', 'virt-mode', 'kernel', 'kernelopts', 'netvm', 'default-disposable', 'tag', 'feature', 'service'];

/** The items each declaration form takes. */
export const itemsByForm: Readonly<Record<DeclKind, readonly string[]>> = {
  adminvm: ['label'],
  template: ['whonix', 'label', 'memory', 'vcpus', 'virt-mode', 'kernel', 'kernelopts', 'default-disposable', 'tag', 'feature', 'service', 'listener'],
  gateway: [...COMMON, 'device', 'autostart', 'tor', 'uplink', 'listener'],
  identity: ['network', 'label', 'disposable', 'isolation'],
  qube: [...COMMON, 'device', 'autostart', 'app', 'whonix-tags'],
  standalone: [...COMMON, 'device', 'autostart', 'app', 'whonix-tags'],
  disposable: [...COMMON, 'app', 'whonix-tags'],
  'named-disposable': [...COMMON, 'device', 'autostart', 'app', 'whonix-tags'],
};
