/**
 * The name tables of the binding passes: Qubes' rules for qube names
 * (qubes-core-admin `qubes/vm/__init__.py validate_name`), how messages name
 * each kind of declaration, which kinds are qubes. Resolution, which reads
 * these, is `names.ts`.
 */
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DeclKind, QubesRelease } from '../program.js';
import type { Span } from '../source.js';

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** `U+202E` for a character. */
export function codePoint(ch: string): string {
  return 'U+' + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

export function isBidi(ch: string): boolean {
  return BIDI.test(ch);
}

/** Checks a qube (or identity) name against Qubes' rules for a release; returns the problem, if any. */
export function checkQubeName(name: string, span: Span, release: QubesRelease, opts: { dots?: boolean } = {}): Diagnostic | undefined {
  for (const ch of name) {
    if (ch.charCodeAt(0) > 0x7f) {
      if (isBidi(ch)) return undefined; // reported once, as QP2010, by check-text
      return diag('QP2008', span, { char: codePoint(ch), name }, { help: 'Qubes names are ASCII; retype the name' });
    }
  }
  const dots = opts.dots ?? true;
  if (!/^[A-Za-z]/.test(name)) return diag('QP2003', span, { name, reason: 'it must start with a letter' }, { help: `rename it so that it starts with a letter, such as \`vm-${name}\`` });
  const bad = /[^A-Za-z0-9_.-]/.exec(name);
  // A control character is named by its code point, never printed.
  if (bad) return diag('QP2003', span, { name, reason: /[\x00-\x1f\x7f]/.test(bad[0]) ? `${codePoint(bad[0])} is not allowed` : `\`${bad[0]}\` is not allowed` }, { help: 'use letters, digits, `_` and `-`' });
  if (name.includes('.')) {
    if (!dots) return diag('QP2003', span, { name, reason: '`.` is not allowed here' }, { help: 'use letters, digits, `_` and `-`' });
    if (release === '4.2') return diag('QP2022', span, { feature: 'a `.` in a qube name', release: '4.3' }, { help: 'rename it, or select the release with `settings { qubes 4.3 }`' });
  }
  if (name.length > 31) return diag('QP2003', span, { name, reason: `it is ${name.length} characters long and Qubes allows at most 31` });
  if (name === 'none' || name === 'default' || name === 'Domain-0') return diag('QP2003', span, { name, reason: 'Qubes reserves this name' });
  if (name.endsWith('-dm')) return diag('QP2003', span, { name, reason: 'names ending in `-dm` are reserved for device-model stub domains' });
  return undefined;
}

/** The noun of a kind without article, for "unknown template `x`". */
export const kindNouns: Readonly<Record<DeclKind, string>> = {
  adminvm: 'admin qube',
  template: 'template',
  gateway: 'gateway',
  identity: 'identity',
  qube: 'qube',
  disposable: 'disposable template',
  'named-disposable': 'named disposable',
  standalone: 'standalone qube',
};

/** Kinds that are qubes (not identities). */
export const qubeKinds: readonly DeclKind[] = ['adminvm', 'template', 'gateway', 'qube', 'disposable', 'named-disposable', 'standalone'];
