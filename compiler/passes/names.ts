/**
 * Resolution: what the checking passes make of a written name. The binder
 * (bind-program.ts) has already recorded every name use with the
 * declaration it names (`Program.references`); `resolveRef` reads that
 * record, checks the kind, and reports an unknown name with "did you mean"
 * or the `use` that declares it. The name tables it reads are name-rules.ts.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { replaceFix, suggest, suggestion } from '../diagnostics/suggest.js';
import type { Decl, DeclKind, Program } from '../program.js';
import type { Word } from '../syntax/ast.js';
import { kindWords } from '../syntax/forms.js';
import { substitute } from '../whonix.js';
import { kindNouns } from './name-rules.js';

export { kindWords, substitute };

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
  // The binder's record of this place (a word, or the endpoint of `@dispvm:Q`); a word it did not see is looked up here.
  const known = r.program.references.site(word.span);
  const name = known?.name ?? substitute(word.text, r.program.settings.whonix);
  const d = known ? known.decl : r.program.decls.get(name);
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
