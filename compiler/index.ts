/**
 * The public API of the compiler. The command line and the language server
 * are thin adapters over these functions.
 */
import { codes, isCode, allCodes, type Code, type CodeSpec } from './diagnostics/codes.js';
import { diag, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { nodeHost, type CompilerHost } from './host.js';
import { analyse, runPipeline, type LockState, type PipelineOptions, type StageResult } from './pipeline.js';
import type { PolicyGraph } from './graph/policy-graph.js';
import type { Allocation } from './passes/allocate-socks.js';
import type { Program } from './program.js';
import { SourceFile } from './source.js';
import { parseFile } from './syntax/parse.js';
import { format as print } from './syntax/print.js';
import { compileChecked, type CompileResult } from './compile.js';
import type { Artifact, Target } from '../targets/types.js';
import { targets as registry } from '../targets/index.js';
import type { PolicyModel } from './model.js';

export type { Diagnostic, Code, CodeSpec, Program, CompilerHost, PolicyGraph, Allocation, LockState, CompileResult, Artifact, Target, PolicyModel };
export { SourceFile, nodeHost, codes, allCodes, isCode, sortDiagnostics };
export { explain, explainMarkdown } from './diagnostics/explain.js';

/** What `check` found: sorted diagnostics, the sources read, and what the stages built. */
export type CheckResult = StageResult;

/** What `check` runs beyond what the command line adds. */
export interface CheckOptions extends PipelineOptions {
  readonly host?: CompilerHost;
  /**
   * The targets whose own checks (QP4xxx) run once the model is built: by
   * default every target of the registry (targets/index.ts), the ones a
   * `compile` without `--target` runs, so that a policy `check` calls ok
   * compiles. `[]` stops at the model.
   */
  readonly targets?: readonly Target[];
}

function internal(e: unknown): Diagnostic {
  const message = e instanceof Error ? e.message : String(e);
  return diag('QP9001', undefined, { message }, { notes: ['this is a bug in qpc; please report it with the policy that caused it'] });
}

/**
 * Checks the policy set whose entry file is `entry`: every stage, and every
 * target's own check over the model (DESIGN §5: what `compile` refuses,
 * `check` reports). `allowWaived` names the codes of waiver class `explicit`
 * whose waivers in the policy count (`--allow-waived`). Never throws.
 */
export function check(entry: string, opts: CheckOptions & { until?: 'bind' | 'all' } = {}): CheckResult {
  try {
    const r = runPipeline(entry, opts.host ?? nodeHost, opts.until ?? 'all', opts, opts.targets ?? registry);
    return { ...r, diagnostics: sortDiagnostics(r.diagnostics) };
  } catch (e) {
    return { diagnostics: [internal(e)], sources: new Map() };
  }
}

/**
 * Checks the policy set and, when nothing is wrong, runs the targets of
 * `registry` (all, or those named and the ones they require): their checks,
 * then the artifacts and `manifest.json`, in path order. Without `targets`
 * it reports what `check` reports. Writes nothing. Never throws.
 */
export function compileWith(entry: string, registry: readonly Target[], opts: { host?: CompilerHost; targets?: readonly string[] } & PipelineOptions = {}): CompileResult {
  try {
    // The selected targets' checks run in compileChecked, so a target left out with `--target` is not checked.
    const checked = check(entry, { ...(opts.host ? { host: opts.host } : {}), ...(opts.allowWaived ? { allowWaived: opts.allowWaived } : {}), targets: [] });
    return compileChecked(checked, entry, registry, opts.targets);
  } catch (e) {
    return { diagnostics: [internal(e)], sources: new Map() };
  }
}

/** {@link compileWith} over every target qpc has (targets/index.ts). */
export async function compile(entry: string, opts: { host?: CompilerHost; targets?: readonly string[] } & PipelineOptions = {}): Promise<CompileResult> {
  return compileWith(entry, registry, opts);
}

/**
 * The whole check of a policy whose check stopped after binding (`until:
 * 'bind'`), target checks included: goes on from the bound program instead
 * of reading and parsing again. A result that is already complete is
 * returned as it is. Never throws.
 */
export function continueCheck(result: CheckResult, opts: CheckOptions = {}): CheckResult {
  if (!result.bound) return result;
  try {
    const r = analyse(result.bound, opts.host ?? nodeHost, opts, opts.targets ?? registry);
    return { ...r, diagnostics: sortDiagnostics(r.diagnostics) };
  } catch (e) {
    return { diagnostics: [internal(e)], sources: result.sources };
  }
}

export interface FormatResult {
  /** The formatted text; absent when the file does not parse. */
  readonly text?: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly source: SourceFile;
}

/** Formats one file's text in the canonical layout. Never throws. */
export function format(path: string, text: string): FormatResult {
  const source = new SourceFile(path, text);
  try {
    const r = parseFile(source);
    const diagnostics = sortDiagnostics(r.diagnostics);
    if (!r.ast || diagnostics.some((d) => d.severity === 'error')) return { diagnostics, source };
    return { text: print(r.ast, text), diagnostics, source };
  } catch (e) {
    return { diagnostics: [internal(e)], source };
  }
}

/** `expect` statements evaluated one by one (`qpc test`); a failed one is the check's QP3035. */
export { evaluateExpects, evaluateExpect, expectName, type ExpectOutcome } from './qrexec/expects.js';
