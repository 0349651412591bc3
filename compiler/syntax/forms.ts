/**
 * The declaration forms as the language has them: the kinds a declaration
 * can be, how messages name them, and the items each takes. The parser's
 * recovery and the binding passes both read these tables.
 */
import type { DeclarationForm } from './ast.js';

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
