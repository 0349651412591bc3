/**
 * Diagnostics as data: every problem qpc reports is one of these, built from
 * the catalogue in `codes.ts` so its code, severity and wording are stable.
 */
import type { Span } from '../source.js';
import { compareSpans } from '../source.js';
import { codes, type Code, type CodeSpec } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

/**
 * The stage of the pipeline (pipeline.ts) that reported a diagnostic:
 * `load` (reading and parsing the files, the lock file), `bind` (names,
 * items, rules, text), `graph` (the analysis: network, SOCKS, qrexec, and
 * the waivers that match nothing, known only after it), `target` (each
 * target's own check over the model).
 */
export type Stage = 'load' | 'bind' | 'graph' | 'target';

/** A text edit that fixes a diagnostic; shared by `--fix` and the language server. */
export interface Fix {
  readonly title: string;
  readonly edits: readonly { readonly span: Span; readonly newText: string }[];
}

export interface Related {
  readonly span: Span;
  readonly message: string;
}

export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  /** Absent only for CLI and I/O problems (QP5xxx) that have no place in a file. */
  readonly span?: Span;
  /** Text printed beside the underline. */
  readonly label?: string;
  readonly related: readonly Related[];
  readonly help?: string;
  readonly notes: readonly string[];
  readonly fixes: readonly Fix[];
  /** The declaration the finding is about, for `waive CODE on NAME`. */
  readonly subject?: string;
  /** Set when a `because` or `waive` accepted the finding; quoted by renderers. */
  readonly waivedBecause?: string;
  /**
   * The reason of the `because` on the rule that causes the finding, as the
   * pass reports it; the waivers (passes/apply-waivers.ts) decide what it
   * changes, by the code's waiver class, and remove it.
   */
  readonly because?: string;
  /**
   * The stage that reported the finding, set by the pipeline's gating loop
   * (never by a pass); absent on diagnostics made outside the stages (the
   * command line's own, an internal error). The JSON and SARIF output leave
   * it out.
   */
  readonly stage?: Stage;
}

/** The placeholders `{name}` of a message template, as a union of names. */
type Params<T extends string> = T extends `${string}{${infer P}}${infer R}` ? P | Params<R> : never;

/** The values of a template's placeholders. */
type Fill<T> = T extends string ? { readonly [K in Params<T>]: string | number } : never;

type TemplateOf<C extends Code> = (typeof codes)[C]['template'];

/**
 * Arguments a code's template needs; for a code with a template per kind of
 * finding, the `kind` and the arguments of that kind's template.
 */
export type ArgsOf<C extends Code> =
  TemplateOf<C> extends string ? Fill<TemplateOf<C>> : { [K in keyof TemplateOf<C>]: { readonly kind: K } & Fill<TemplateOf<C>[K]> }[keyof TemplateOf<C>];

export interface Extras {
  readonly label?: string;
  readonly related?: readonly Related[];
  readonly help?: string;
  readonly notes?: readonly string[];
  readonly fixes?: readonly Fix[];
  readonly severity?: Severity;
  readonly subject?: string;
}

/** Fills a message template. */
export function formatMessage(template: string, args: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? shorten(String(args[k])) : m));
}

/** Arguments longer than this (a name pasted 10,000 times) are cut in messages; the span still covers all of it. */
const MAX_ARGUMENT = 400;

function shorten(s: string): string {
  return s.length <= MAX_ARGUMENT ? s : `${s.slice(0, 100)}…(${s.length} characters)`;
}

/** Builds a diagnostic from the catalogue; the template's arguments are type-checked. */
export function diag<C extends Code>(code: C, span: Span | undefined, args: ArgsOf<C>, extras: Extras = {}): Diagnostic {
  const spec: CodeSpec = codes[code];
  const values = args as Readonly<Record<string, string | number>>;
  const template = typeof spec.template === 'string' ? spec.template : spec.template[String(values.kind)];
  if (template === undefined) throw new Error(`${code} has no message for the kind \`${String(values.kind)}\``);
  return {
    code,
    severity: extras.severity ?? spec.severity,
    message: formatMessage(template, values),
    ...(span ? { span } : {}),
    ...(extras.label !== undefined ? { label: extras.label } : {}),
    related: extras.related ?? [],
    ...(extras.help !== undefined ? { help: extras.help } : {}),
    notes: extras.notes ?? [],
    fixes: extras.fixes ?? [],
    ...(extras.subject !== undefined ? { subject: extras.subject } : {}),
  };
}

/** Sorts by file, offset, then code: the order every renderer prints. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => compareSpans(a.span, b.span) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Where a pass reports. */
export interface Reporter {
  report(d: Diagnostic): void;
}

/** Collects diagnostics of one stage. */
export class DiagnosticBag implements Reporter {
  readonly items: Diagnostic[] = [];
  report(d: Diagnostic): void {
    this.items.push(d);
  }
  get hasErrors(): boolean {
    return hasErrors(this.items);
  }
}
