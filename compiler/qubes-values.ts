/**
 * Qubes' own value tables (reference qrexec-and-provisioning §1.8), in one
 * place: the checker reports values outside them, the targets check every
 * value again before they write it, and the language server completes them.
 */
import type { QubesRelease } from './program.js';

/** The labels Qubes ships (qubes-core-admin's default labels). */
export const qubeLabels: readonly string[] = ['red', 'orange', 'yellow', 'green', 'gray', 'blue', 'purple', 'black'];

/** The characters and length of a qube name on any release; Qubes 4.2 also refuses dots. */
export const qubeNameSyntax = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/;
const qubeNameSyntax42 = /^[A-Za-z][A-Za-z0-9_-]{0,30}$/;

/** The name syntax of one release. */
export function qubeNameSyntaxOf(release: QubesRelease): RegExp {
  return release === '4.2' ? qubeNameSyntax42 : qubeNameSyntax;
}
