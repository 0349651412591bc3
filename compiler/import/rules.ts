/**
 * One native qrexec rule written as the language's rule: the inverse of
 * compiler/qrexec/lower.ts's `lowerRule`. An argument of `*` is left out,
 * `target=` is `target`, `default_target=` is `default`, `notify=yes|no` is
 * `notify`/`no-notify`, `autostart=no` is `no-autostart`; qube names and
 * tokens stay as written. What the language has no words for is returned as
 * the reason instead of a rule.
 */
import type { QrexecRule } from '../qrexec/types.js';
import { tokenShape } from '../qrexec/token.js';

/** A name a rule may use: the qubes the import declares (the standard library's included). */
export type Known = (name: string) => boolean;

/** The endpoint's text in the language, or why it cannot be written. */
function endpoint(text: string, known: Known): string | { readonly why: string } {
  if (text === '*') return { why: '`*` (every qube, dom0 and every token included) has no spelling in the language: `@anyvm` does not match dom0' };
  if (text.startsWith('uuid:')) return { why: `\`${text}\` names a qube by UUID, which the snapshot does not record` };
  const shape = tokenShape(text);
  if (text.startsWith('@')) {
    if (shape.kind === 'dispvm-of' && !shape.value.startsWith('@') && !known(shape.value)) return { why: `\`${text}\` names \`${shape.value}\`, which is not a qube of the snapshot` };
    return text;
  }
  if (!known(text)) return { why: `it names \`${text}\`, which is not a qube of the snapshot` };
  return text;
}

/**
 * The language's text of a native rule (`allow qubes.Gpg from a to b`), or
 * why it has none; `known` says which names are declared.
 */
export function ruleInLanguage(r: QrexecRule, known: Known): string | { readonly why: string } {
  const parts: string[] = [r.action, r.service];
  if (r.argument !== '*') parts.push(r.argument);
  const cols: [string, string | undefined][] = [
    ['from', r.source],
    ['to', r.target],
    ['target', r.redirect],
    ['default', r.defaultTarget],
  ];
  for (const [word, text] of cols) {
    if (text === undefined) continue;
    const e = endpoint(text, known);
    if (typeof e !== 'string') return e;
    parts.push(word, e);
  }
  if (r.user !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(r.user)) return { why: `the user \`${r.user}\` is not a name the language takes` };
    parts.push('user', r.user);
  }
  if (r.notify === true) parts.push('notify');
  if (r.notify === false) parts.push('no-notify');
  if (r.autostart === false) parts.push('no-autostart');
  return parts.join(' ');
}

/** A native rule as dom0 has it, for messages: `qubes.Gpg * a b allow target=c`. */
export function nativeText(r: QrexecRule): string {
  const params: string[] = [];
  if (r.redirect !== undefined) params.push(`target=${r.redirect}`);
  if (r.defaultTarget !== undefined) params.push(`default_target=${r.defaultTarget}`);
  if (r.user !== undefined) params.push(`user=${r.user}`);
  if (r.notify !== undefined) params.push(`notify=${r.notify ? 'yes' : 'no'}`);
  if (r.autostart !== undefined) params.push(`autostart=${r.autostart ? 'yes' : 'no'}`);
  return [r.service, r.argument, r.source, r.target, r.action, ...params].join(' ');
}
