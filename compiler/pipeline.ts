/**
 * The stage table. Each stage runs all its passes and reports every problem
 * they find.
 *
 *   load  — read and parse the entry file and its imports (QP1xxx, QP2005–2007)
 *   bind  — symbol table, items, rules, text lint, hygiene (QP2xxx)
 *   graph — the policy graph, network checks, SOCKS allocation, the
 *           complete qrexec policy and `expect` (QP3xxx)
 *   target — the model, and each given target's own check over it (QP4xxx):
 *           what `compile` would refuse, so that a clean check compiles
 *
 * Load errors stop the check. Binding errors do not, as long as each is
 * inside a declaration, rule, `expect`, `require` or `waive`: that
 * statement is poisoned (passes/contain-errors.ts), the graph stage runs
 * over everything that bound, and reports only the findings nothing
 * poisoned could change, so that one typo costs no other finding and causes
 * none: a finding stands unless its subject depends on a poisoned
 * declaration, or (decided on the qrexec policy) a poisoned rule could be a
 * rule of its service or a poisoned qube's tags or identity are in doubt,
 * or a broken `waive` could have waived it. Any other binding error stops
 * the check after binding. The target stage never runs after an error, so
 * neither the model nor the lock file comes of a policy with errors.
 */
import * as path from 'node:path';
import { diag, DiagnosticBag, hasErrors, type Diagnostic } from './diagnostics/diagnostic.js';
import { ioReason, nodeHost, standardLibraryDir, standardLibraryPath, type CompilerHost } from './host.js';
import { cachedStdlibTree } from './stdlib-cache.js';
import { bindProgram } from './passes/bind-program.js';
import { checkItems } from './passes/check-items.js';
import { checkRules } from './passes/check-rules.js';
import { checkText } from './passes/check-text.js';
import { checkUnused } from './passes/check-unused.js';
import { applyWaivers } from './passes/apply-waivers.js';
import { isFileImport, loadFiles, standardModules } from './passes/load-files.js';
import { substitute, type Resolver, type StdNames } from './passes/names.js';
import type { Program } from './program.js';
import { buildGraph, type PolicyGraph } from './graph/policy-graph.js';
import { checkNetwork } from './passes/check-network.js';
import type { EvaluatedPolicy } from './qrexec/query.js';
import { checkChannels } from './qrexec/check-channels.js';
import { checkPolicyFile } from './qrexec/check-policy-file.js';
import { checkUpdates } from './qrexec/check-updates.js';
import { allocateSocks, checkLock, emptyLock, lockText, parseLock, type Allocation, type RawLock } from './passes/allocate-socks.js';
import { SourceFile } from './source.js';
import type { PolicyModel } from './model.js';
import { lowerModel } from './passes/lower-model.js';
import { boundPart, containment, isEmpty, poisonOf, policyKnown, type Poison } from './passes/contain-errors.js';
import { parseFile } from './syntax/parse.js';
import type { Target } from './target.js';

/** The lock file beside a policy, as read and as it should now be. */
export interface LockState {
  readonly path: string;
  /** The file's text, or undefined when there is none. */
  readonly previous?: string;
  readonly text: string;
  readonly changed: boolean;
}

export interface StageResult {
  /** Diagnostics of every file of the policy set (sorted by `check`). */
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, by display path, for rendering. */
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** The bound program, when binding ran. */
  readonly program?: Program;
  /** The policy graph, when the graph stage ran (past binding errors: of the part that bound). */
  readonly graph?: PolicyGraph;
  /** SOCKS port allocations, when the graph stage ran (past binding errors: of the part that bound). */
  readonly allocation?: Allocation;
  /** The lock file as it should be after this check (written by the CLI, and only when there is no error). */
  readonly lock?: LockState;
  /**
   * The complete qrexec policy (ours and the stock files) and the system
   * information, when the graph stage ran and no binding error leaves a rule,
   * an `expect` or a qube's system information in doubt.
   */
  readonly policy?: EvaluatedPolicy;
  /** Past binding errors: the declarations whose facts in `graph` depend on one with an error (they are not what the policy says). */
  readonly doubtful?: ReadonlySet<string>;
  /** The model targets read: only when the stages before the target checks found no error. */
  readonly model?: PolicyModel;
  /** When the check stopped after binding and the analysis can go on (no error, or only errors it contains): where the whole check goes on from. */
  readonly bound?: Bound;
}

/** The lock file of a policy: `POLICY.qpol.lock` beside it. */
export function lockPath(entry: string): string {
  return `${entry}.lock`;
}

function readLock(path: string, host: CompilerHost): { lock: RawLock; previous?: string } | Diagnostic {
  let text: string;
  try {
    // qpc writes lock files as regular files: a link (committed, say, to a file of secrets) is refused, not followed.
    text = host.readFile(path, { noFollow: true });
  } catch (e) {
    if ((e as { code?: string })?.code === 'ENOENT') return { lock: emptyLock };
    return diag('QP5007', undefined, { path, reason: ioReason(e) });
  }
  const lock = parseLock(text);
  return typeof lock === 'string' ? diag('QP5007', undefined, { path, reason: lock }) : { lock, previous: text };
}

const stdDeclCache = new Map<string, readonly string[]>();

/** Names each standard library module declares (with `$whonix` unreplaced). */
function stdDeclarations(module: string): readonly string[] {
  let names = stdDeclCache.get(module);
  if (!names) {
    names = [];
    try {
      const text = nodeHost.readFile(path.join(standardLibraryDir(), `${module}.qpol`));
      const source = new SourceFile(standardLibraryPath(module), text);
      const ast = cachedStdlibTree(source) ?? parseFile(source).ast;
      for (const st of ast?.statements ?? []) if (st.kind === 'Declaration' && st.form !== 'amend') (names as string[]).push(st.name.text);
    } catch {
      // The standard library is part of the package; if it is missing, the help is simply not given.
    }
    stdDeclCache.set(module, names);
  }
  return names;
}

let stdStockCache: ReadonlyMap<string, string> | undefined;

/**
 * The stock policy files the standard library models (any release), each to
 * the module that models it: the module's file and the files it imports with
 * a relative `use`, whether or not a policy loads the module.
 */
function stdStockModules(): ReadonlyMap<string, string> {
  if (stdStockCache) return stdStockCache;
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const module of standardModules) {
    const queue = [`${module}.qpol`];
    for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      try {
        const source = new SourceFile(`policies/${rel}`, nodeHost.readFile(path.join(standardLibraryDir(), rel)));
        for (const st of (cachedStdlibTree(source) ?? parseFile(source).ast)?.statements ?? []) {
          if (st.kind === 'PolicyFileBlock' && st.stock && !out.has(st.name.text)) out.set(st.name.text, module);
          if (st.kind === 'UseStatement' && isFileImport(st.path.value)) queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(rel), st.path.value)));
        }
      } catch {
        // The standard library is part of the package; a missing file models nothing.
      }
    }
  }
  return (stdStockCache = out);
}

/** What the command line adds to the policy's own say. */
export interface PipelineOptions {
  /** Codes of waiver class `explicit` whose waivers in the policy count (`--allow-waived CODE`). */
  readonly allowWaived?: readonly string[];
}

/**
 * What the given targets refuse in a model: each target's `check`, in
 * registry order. Pure and cheap (no target emits here).
 */
export function checkTargets(model: PolicyModel, targets: readonly Target[]): Diagnostic[] {
  return targets.flatMap((t) => t.check(model));
}

/**
 * Runs the stages for one entry file; `until` stops after an earlier stage
 * (benchmarks, quick feedback). `targets` are the targets whose checks the
 * target stage runs (none: the model is built, but not checked).
 */
export function runPipeline(entry: string, host: CompilerHost, until: 'bind' | 'all' = 'all', opts: PipelineOptions = {}, targets: readonly Target[] = []): StageResult {
  const bound = loadAndBind(entry, host);
  if (!('raw' in bound)) return bound;
  if (until === 'bind' || bound.poison === undefined) {
    // Which waivers match nothing is known only once the graph stage ran.
    const diagnostics = applyWaivers(bound.program, bound.raw, new Set(opts.allowWaived)).filter((d) => d.code !== 'QP2021');
    const r: StageResult = { diagnostics, sources: bound.sources, program: bound.program };
    return bound.poison !== undefined ? { ...r, bound } : r;
  }
  return analyse(bound, host, opts, targets);
}

/** What loading and binding leave for the analysis: enough to go on without reading or parsing again. */
export interface Bound {
  readonly entry: string;
  readonly program: Program;
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** Load and bind diagnostics before waivers (which apply to all stages at once). */
  readonly raw: readonly Diagnostic[];
  /** What the binding errors poison (nothing without errors); absent when the analysis cannot go on. */
  readonly poison?: Poison;
}

/** The load and bind stages; a result when loading failed. */
function loadAndBind(entry: string, host: CompilerHost): Bound | StageResult {
  let text: string;
  try {
    text = host.readFile(entry);
  } catch (e) {
    return { diagnostics: [diag('QP5001', undefined, { path: entry, reason: ioReason(e) })], sources: new Map() };
  }
  const load = new DiagnosticBag();
  const loaded = loadFiles(entry, text, host, load);
  if (loaded.notPolicy !== undefined) return { diagnostics: [diag('QP5001', undefined, { path: entry, reason: loaded.notPolicy })], sources: new Map() };
  if (load.hasErrors) return { diagnostics: load.items, sources: loaded.sources };

  const bind = new DiagnosticBag();
  const files = loaded.files.map((f) => ({ source: f.source, ast: f.ast!, std: f.std }));
  const program = bindProgram({ entry, files, stdStockModule: (name) => stdStockModules().get(name) }, bind);
  const usedModules = new Set(loaded.files.filter((f) => f.std).map((f) => path.basename(f.source.path, '.qpol')));
  let std: StdNames | undefined;
  const resolver: Resolver = {
    program,
    usedModules,
    stdNames: () => {
      if (!std) {
        const m = new Map<string, string>();
        for (const mod of standardModules) for (const n of stdDeclarations(mod)) m.set(substitute(n, program.settings.whonix), mod);
        std = m;
      }
      return std;
    },
  };
  checkItems(resolver, bind);
  checkRules(resolver, bind);
  for (const f of files) checkText(f.source, f.ast, bind);
  checkUnused(program, bind);
  const poison = poisonOf(program, bind.items);
  return { entry, program, sources: loaded.sources, raw: [...load.items, ...bind.items], ...(poison ? { poison } : {}) };
}

/**
 * The graph and target stages over a bound program: network, SOCKS, qrexec,
 * the model, the checks of `targets`. Past binding errors, the graph stage
 * analyses the part that bound and keeps the findings the poison cannot
 * change; the target stage does not run.
 */
export function analyse(bound: Bound, host: CompilerHost, opts: PipelineOptions = {}, targets: readonly Target[] = []): StageResult {
  const { entry, raw } = bound;
  const full = bound.program;
  const poison = bound.poison;
  const program = poison ? boundPart(full, poison) : full;
  let sources = bound.sources;
  const allowed = new Set(opts.allowWaived);
  const graphStage = new DiagnosticBag();
  const graph = buildGraph(program);
  checkNetwork(graph, graphStage);
  checkPolicyFile(program, graphStage);
  const lp = lockPath(entry);
  const read = readLock(lp, host);
  // A lock file that cannot be read is one error among the stage's others: the
  // analysis goes on as without a lock, and nothing is allocated or written.
  // Its entries are checked like policy input, and one qpc could not have
  // written is an error at the entry and never used.
  const lockSource = 'code' in read || read.previous === undefined ? undefined : new SourceFile(lp, read.previous);
  const previous = 'code' in read ? emptyLock : checkLock(graph, read.lock, lockSource, graphStage);
  const { allocation, lock } = allocateSocks(graph, previous, graphStage);
  const policy = checkChannels(program, graph, graphStage);
  checkUpdates(program, graph, policy, graphStage);
  const contained = poison && !isEmpty(poison) ? containment(poison, program, graph) : undefined;
  const found = contained ? graphStage.items.filter((d) => !contained.unsure(d)) : graphStage.items;
  // The policy of the part that bound answers requests only when it is the policy's own.
  const known = { ...(poison === undefined || policyKnown(poison) ? { policy } : {}), ...(contained ? { doubtful: new Set([...program.decls.keys()].filter((n) => contained.tainted(n))) } : {}) };
  /** Waivers apply over every stage; one that matches nothing only because of a poisoned statement is not reported. */
  const waived = (ds: readonly Diagnostic[]) => {
    const out = applyWaivers(full, ds, allowed);
    if (!contained) return out;
    const wanted = (d: Diagnostic) => {
      if (d.code !== 'QP2021') return true;
      const w = full.waives.find((x) => x.subject.span === d.span);
      if (w === undefined) return true;
      // A broken waiver is reported by its own error.
      return program.waives.includes(w) && !contained.unsureOf(w.code.text, substitute(w.subject.text, full.settings.whonix));
    };
    return out.filter(wanted);
  };
  if ('code' in read) return { diagnostics: waived([...raw, read, ...found]), sources, program: full, graph, ...known };
  // The lock file is shown only with a finding in it: it is not a source of the artifacts.
  if (lockSource && found.some((d) => d.span?.file === lp)) sources = new Map([...sources, [lp, lockSource]]);
  const newLock = lockText(lock);
  const lockState: LockState = { path: lp, ...(read.previous !== undefined ? { previous: read.previous } : {}), text: newLock, changed: newLock !== read.previous };
  const diagnostics = waived([...raw, ...found]);
  const model = hasErrors(diagnostics) ? undefined : lowerModel(program, graph, policy, allocation, lock.qubes);
  // Target findings are never waived (QP4xxx are of waiver class `never`), as in `compile`.
  const checked = model ? checkTargets(model, targets) : [];
  return { diagnostics: checked.length > 0 ? [...diagnostics, ...checked] : diagnostics, sources, program: full, graph, allocation, lock: lockState, ...known, ...(model ? { model } : {}) };
}

export { hasErrors };
