/**
 * Where every named thing of a bound program is declared and referenced:
 * declarations (qubes, templates, gateways, identities …), `in IDENTITY`,
 * items that name a declaration (`template X`, `netvm X`, `via X`,
 * `disposable X`, `default-disposable X`), `amend X`, rule endpoints and
 * redirects (`@dispvm:Q` included), `require`, `expect`, `waive` and the
 * `default-disposable` setting. Names are compared after `$whonix` is
 * replaced, as the binder does. The language server answers definition,
 * references, rename and hover from this index; nothing here parses again.
 */
import { type Program, type Span, type Endpoint, type PolicyFile, type Word, walk, substitute } from '../index.js';

/** What an occurrence of a name is. */
export type OccurrenceRole = 'declaration' | 'reference';

export interface Occurrence {
  /** The name with `$whonix` replaced. */
  readonly name: string;
  /** The name as written at this place. */
  readonly text: string;
  /** The span of exactly the name (for `@dispvm:Q`, of `Q`). */
  readonly span: Span;
  readonly role: OccurrenceRole;
  /** The construct that names it: `qube`, `in`, `template`, `netvm`, `via`, `amend`, `source`, `target`, `require`, `waive` … */
  readonly context: string;
}

export interface SymbolIndex {
  /** Every occurrence, in file order then source order. */
  readonly occurrences: readonly Occurrence[];
  /** Occurrences by name. */
  readonly byName: ReadonlyMap<string, readonly Occurrence[]>;
}

/** The part of an endpoint that names a declaration, if any (`work`, or `Q` of `@dispvm:Q`). */
function endpointName(e: Endpoint): { text: string; span: Span } | undefined {
  if (!e.text.startsWith('@')) {
    return e.text === '*' || e.text === '' ? undefined : { text: e.text, span: e.span };
  }
  const prefix = '@dispvm:';
  if (e.text.startsWith(prefix) && !e.text.startsWith('@dispvm:@')) {
    const start = e.span.start + prefix.length;
    // Spans in one line: the column moves with the offset.
    return { text: e.text.slice(prefix.length), span: { ...e.span, start, column: e.span.column + prefix.length } };
  }
  return undefined;
}

/** Collects the occurrences of names in one parsed file. */
export function fileOccurrences(ast: PolicyFile, whonix: number): Occurrence[] {
  const out: Occurrence[] = [];
  const word = (w: Word | undefined, role: OccurrenceRole, context: string): void => {
    if (w && w.text !== '') out.push({ name: substitute(w.text, whonix), text: w.text, span: w.span, role, context });
  };
  const endpoint = (e: Endpoint, context: string): void => {
    const n = endpointName(e);
    if (n) out.push({ name: substitute(n.text, whonix), text: n.text, span: n.span, role: 'reference', context });
  };
  walk(ast, (n) => {
    switch (n.kind) {
      case 'Declaration':
        word(n.name, n.form === 'amend' ? 'reference' : 'declaration', n.form);
        word(n.identity, 'reference', 'in');
        break;
      case 'RefItem':
        word(n.target, 'reference', n.key);
        break;
      case 'NetworkItem':
        word(n.via, 'reference', 'via');
        break;
      case 'Setting':
        if (n.key.text === 'default-disposable' && n.value.text !== 'none') word(n.value, 'reference', 'default-disposable');
        break;
      case 'Rule':
        endpoint(n.source, 'source');
        endpoint(n.target, 'target');
        for (const p of n.params) if (p.kind === 'EndpointParam') endpoint(p.value, p.key);
        break;
      case 'Expect':
        endpoint(n.source, 'source');
        endpoint(n.target, 'target');
        for (const p of n.params) if (p.kind === 'ExpectTargets') for (const v of p.values) endpoint(v, p.key);
        break;
      case 'Require':
        word(n.subject, 'reference', 'require');
        word(n.object, 'reference', 'require');
        break;
      case 'Waive':
        word(n.subject, 'reference', 'waive');
        break;
      default:
        break;
    }
  });
  return out;
}

const cache = new WeakMap<Program, SymbolIndex>();

/** The index of a bound program (built once per program). */
export function symbolIndex(program: Program): SymbolIndex {
  const hit = cache.get(program);
  if (hit) return hit;
  const occurrences: Occurrence[] = [];
  for (const f of program.files) occurrences.push(...fileOccurrences(f.ast, program.settings.whonix));
  const byName = new Map<string, Occurrence[]>();
  for (const o of occurrences) {
    const list = byName.get(o.name);
    if (list) list.push(o);
    else byName.set(o.name, [o]);
  }
  const index = { occurrences, byName };
  cache.set(program, index);
  return index;
}

/** The occurrence whose name span contains `offset` in `file` (its end counts: the cursor just after a name). */
export function occurrenceAt(index: SymbolIndex, file: string, offset: number): Occurrence | undefined {
  for (const o of index.occurrences) {
    if (o.span.file === file && o.span.start <= offset && offset <= o.span.end) return o;
  }
  return undefined;
}

/** The span of the declaration of a name, if it is declared. */
export function definitionOf(program: Program, name: string): Span | undefined {
  return program.decls.get(name)?.node.name.span;
}

/** Every occurrence of a name; the declaration first when `includeDeclaration`. */
export function referencesOf(index: SymbolIndex, name: string, includeDeclaration: boolean): readonly Occurrence[] {
  const all = index.byName.get(name) ?? [];
  return includeDeclaration ? [...all.filter((o) => o.role === 'declaration'), ...all.filter((o) => o.role !== 'declaration')] : all.filter((o) => o.role !== 'declaration');
}
