/**
 * Name rules and reference resolution shared by the binding passes.
 * Qubes' rules for qube names: qubes-core-admin `qubes/vm/__init__.py validate_name`.
 */
import { diag, type Diagnostic, type Reporter } from '../diagnostics/diagnostic.js';
import { replaceFix, suggest, suggestion } from '../diagnostics/suggest.js';
import type { Decl, DeclKind, Program, QubesRelease } from '../program.js';
import type { Span } from '../source.js';
import type { Word } from '../syntax/ast.js';
import { kindWords } from '../syntax/forms.js';
import { substitute } from '../whonix.js';

export { kindWords, substitute };

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
    if (ch.charCodeAt(0) > 0x7e) {
      if (isBidi(ch)) return undefined; // reported once, as QP2010, by check-text
      return diag('QP2008', span, { char: codePoint(ch), name }, { help: 'Qubes names are ASCII; retype the name' });
    }
  }
  const dots = opts.dots ?? true;
  if (!/^[A-Za-z]/.test(name)) return diag('QP2003', span, { name, reason: 'it must start with a letter' }, { help: `rename it so that it starts with a letter, such as \`vm-${name}\`` });
  const bad = /[^A-Za-z0-9_.-]/.exec(name);
  if (bad) return diag('QP2003', span, { name, reason: `\`${bad[0]}\` is not allowed` }, { help: 'use letters, digits, `_` and `-`' });
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

/** Declared names of the standard library modules, for "add `use`" help. */
export type StdNames = ReadonlyMap<string, string>;

export interface Resolver {
  readonly program: Program;
  readonly stdNames: () => StdNames;
  readonly usedModules: ReadonlySet<string>;
}

const candidateIndex = new WeakMap<Program, Map<string, Map<number, string[]>>>();
const suggestionsMade = new WeakMap<Program, number>();

/**
 * "Did you mean" compares a name with every declared name of similar length;
 * a policy with thousands of unknown names would make that quadratic. The
 * first 200 unknown names of a program get suggestions, the rest only the error.
 */
function suggestionBudget(program: Program): boolean {
  const n = suggestionsMade.get(program) ?? 0;
  suggestionsMade.set(program, n + 1);
  return n < 200;
}

/**
 * Declared names of some kinds whose length is close enough to `length` to be
 * a typo of a name that long (suggest() allows a third of the length), from an
 * index built once per program: unknown names cost little even in large policies.
 */
function candidatesNear(program: Program, kinds: readonly DeclKind[], length: number): string[] {
  let byKinds = candidateIndex.get(program);
  if (!byKinds) candidateIndex.set(program, (byKinds = new Map()));
  const key = kinds.join(' ');
  let byLength = byKinds.get(key);
  if (!byLength) {
    byLength = new Map();
    for (const d of program.decls.values()) {
      if (!kinds.includes(d.form)) continue;
      const list = byLength.get(d.name.length) ?? [];
      list.push(d.name);
      byLength.set(d.name.length, list);
    }
    byKinds.set(key, byLength);
  }
  const limit = Math.max(1, Math.floor(length / 3));
  const out: string[] = [];
  for (let l = length - limit; l <= length + limit; l++) out.push(...(byLength.get(l) ?? []));
  return out;
}

/**
 * Resolves a reference that must name a declaration of one of `kinds`;
 * reports QP2001 (unknown, with "did you mean") or QP2004 (wrong kind).
 */
export function resolveRef(r: Resolver, word: Word, kinds: readonly DeclKind[], context: string, ctx: Reporter, expected?: string): Decl | undefined {
  const name = substitute(word.text, r.program.settings.whonix);
  const d = r.program.decls.get(name);
  const what = expected ?? kinds.map((k) => kindNouns[k]).join(' or ');
  if (!d) {
    const s = suggestionBudget(r.program) ? suggest(name, candidatesNear(r.program, kinds, name.length)) : undefined;
    let help = s === undefined ? undefined : `did you mean \`${s}\`?`;
    const related = s === undefined ? [] : [{ span: r.program.decls.get(s)!.node.name.span, message: `\`${s}\` is declared here` }];
    if (!help) {
      const module = r.stdNames().get(name);
      if (module && !r.usedModules.has(module)) help = `\`${name}\` is declared by the standard library: add \`use "${module}"\``;
    }
    const fixes = s === undefined ? [] : [replaceFix(word.span, s)];
    ctx.report(diag('QP2001', word.span, { what, name }, { label: 'not declared in this policy set', ...(help ? { help } : {}), related, fixes }));
    return undefined;
  }
  if (!kinds.includes(d.form)) {
    ctx.report(
      diag('QP2004', word.span, { name, actual: kindWords[d.form], context, expected: expected ? `a ${expected}` : kinds.map((k) => kindWords[k]).join(' or ') }, {
        related: [{ span: d.node.name.span, message: `\`${name}\` is declared here` }],
      }),
    );
    return undefined;
  }
  return d;
}

/** Checks a word against a closed set of values; reports QP2013 with "did you mean". */
export function checkChoice(word: Word, choices: readonly string[], what: string, ctx: Reporter): boolean {
  if (choices.includes(word.text)) return true;
  const s = suggestion(word.text, choices, word.span);
  ctx.report(diag('QP2013', word.span, { value: word.text, what }, { help: s.help ?? `expected ${choices.map((c) => `\`${c}\``).join(', ')}`, fixes: s.fixes }));
  return false;
}
