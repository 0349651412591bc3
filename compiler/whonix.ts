/**
 * Whonix in the policy: the `$whonix` placeholder of names and the Whonix
 * items of a declaration, read the same way by the graph, the checks, the
 * qrexec lowering and the language server.
 */
import { lastItem, type Decl } from './program.js';

/** Replaces the `$whonix` placeholder. */
export function substitute(text: string, whonix: number): string {
  return text.replace(/\$whonix(?![A-Za-z0-9_])/g, String(whonix));
}

/** The Whonix role a template declares, if any. */
export function whonixRole(d: Decl | undefined): string | undefined {
  return d ? lastItem(d, 'ValueItem', 'whonix')?.value.text : undefined;
}

/** `whonix-tags off` on the qube, or (a named disposable) on its disposable template. */
export function whonixTagsOff(g: { facts(name: string): { readonly template?: Decl } | undefined }, d: Decl): boolean {
  const own = lastItem(d, 'ValueItem', 'whonix-tags');
  if (own) return own.value.text === 'off';
  const t = d.form === 'named-disposable' ? g.facts(d.name)?.template : undefined;
  return t !== undefined && lastItem(t, 'ValueItem', 'whonix-tags')?.value.text === 'off';
}
