/**
 * The stage table (peggy's `lib/compiler/index.js`): named stages, each a
 * list of passes of one shape, `(work, ctx) => what it adds to the work`,
 * reporting through `ctx`. One loop runs them: every pass of a stage runs
 * and reports every problem it finds, the loop records the stage on each
 * diagnostic, and the stage's gate decides whether the next stage runs.
 *
 *   load   — read and parse the entry file and its imports, and read the
 *            lock file beside the entry (QP1xxx, QP2005–2007, QP5001, QP5007)
 *   bind   — symbol table, items, rules, text lint, hygiene (QP2xxx)
 *   graph  — the policy graph, network checks, the lock file's entries,
 *            SOCKS and qube number allocation, the complete qrexec policy
 *            with the rules that close the Tor identities, its channels,
 *            dangerous grants, dead rules, `require` and `expect` (QP3xxx)
 *   target — the model, and each given target's own check over it (QP4xxx):
 *            what `compile` would refuse, so that a clean check compiles
 *
 * The gates. Load errors stop the check (binding needs every file's tree);
 * a lock file that cannot be used (QP5007) does not: the analysis goes on
 * as without a lock, and nothing is allocated or written. Binding errors do
 * not stop it either, as long as each is inside a declaration, rule,
 * `expect`, `require` or `waive`: that statement is poisoned
 * (passes/contain-errors.ts), the graph stage runs over everything that
 * bound, and reports only the findings nothing poisoned could change, so
 * that one typo costs no other finding and causes none: a finding stands
 * unless its subject depends on a poisoned declaration, or (decided on the
 * qrexec policy) a poisoned rule could be a rule of its service or a
 * poisoned qube's tags or identity are in doubt, or a broken `waive` could
 * have waived it. Any other binding error stops the check after binding.
 * The target stage never runs after an error, so neither the model nor the
 * lock file comes of a policy with errors.
 *
 * Waivers are not a pass: they weigh the findings of every stage at once
 * (passes/apply-waivers.ts), so the loop applies them where the check ends
 * and at the target stage's gate (a waived error does not stop it). Target
 * findings are never waived (QP4xxx are of waiver class `never`).
 */
import * as path from 'node:path';
import { diag, DiagnosticBag, hasErrors, type Diagnostic, type Reporter, type Stage as StageName } from './diagnostics/diagnostic.js';
import { ioReason, type CompilerHost } from './host.js';
import { emptyLock, lockText, type Lock } from './lock-file.js';
import { bindProgram } from './passes/bind-program.js';
import { checkItems } from './passes/check-items.js';
import { checkRules } from './passes/check-rules.js';
import { checkText } from './passes/check-text.js';
import { checkUnused } from './passes/check-unused.js';
import { applyWaivers } from './passes/apply-waivers.js';
import { loadFiles } from './passes/load-files.js';
import { readLock, type LockFile } from './passes/read-lock.js';
import { resolverFor, standardStockModules } from './passes/standard-library.js';
import { substitute, type Resolver } from './passes/names.js';
import type { Program } from './program.js';
import { buildGraph, type PolicyGraph } from './graph/policy-graph.js';
import { checkNetwork } from './passes/check-network.js';
import type { EvaluatedPolicy } from './qrexec/query.js';
import { closeIdentities, type ClosedPolicy } from './qrexec/close-identities.js';
import { checkChannels, checkRequires, policyChannels } from './qrexec/check-channels.js';
import { checkDanger } from './qrexec/check-danger.js';
import { checkShadowed } from './qrexec/check-shadowed.js';
import { checkExpects } from './qrexec/expects.js';
import type { Channel } from './qrexec/channels.js';
import { checkPolicyFile } from './qrexec/check-policy-file.js';
import { checkUpdates } from './qrexec/check-updates.js';
import { checkLock } from './passes/check-lock.js';
import { allocateSocks, type Allocation, type SocksLock } from './passes/allocate-socks.js';
import { allocateQids } from './passes/allocate-qids.js';
import type { SourceFile } from './source.js';
import type { PolicyFile } from './syntax/ast.js';
import type { PolicyModel } from './model.js';
import { lowerModel } from './passes/lower-model.js';
import { boundPart, containment, isEmpty, poisonOf, policyKnown, type Containment, type Poison } from './passes/contain-errors.js';
import type { Target } from './target.js';

export { lockPath } from './lock-file.js';

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

/** What the command line adds to the policy's own say. */
export interface PipelineOptions {
  /** Codes of waiver class `explicit` whose waivers in the policy count (`--allow-waived CODE`). */
  readonly allowWaived?: readonly string[];
  /** Told the time each pass took, in milliseconds (`npm run bench` prints them). */
  readonly timings?: (stage: StageName, pass: string, ms: number) => void;
}

/** A file of the policy set that loaded: parsed without error. */
interface LoadedPolicyFile {
  readonly source: SourceFile;
  readonly ast: PolicyFile;
  readonly std: boolean;
}

/**
 * What the passes of one check share. Each pass reads what the passes before
 * it made and returns what it adds; nothing is changed once made. A field is
 * there once the pass that makes it ran (named beside it).
 */
export interface Work {
  readonly entry: string;
  readonly host: CompilerHost;
  readonly options: PipelineOptions;
  /** The targets whose checks the target stage runs. */
  readonly targets: readonly Target[];
  /** load-files: every file read, by display path (none when the entry is not a policy). */
  readonly sources?: ReadonlyMap<string, SourceFile>;
  /** load-files: the policy set, imports before importers, when every file of it parsed. */
  readonly files?: readonly LoadedPolicyFile[];
  /** read-lock */
  readonly lock?: LockFile;
  /** bind-program: the whole program. */
  readonly program?: Program;
  /** bind-program: how the checks of binding name things. */
  readonly resolver?: Resolver;
  /** The bind stage's gate: what its errors poison (empty without errors). */
  readonly poison?: Poison;
  /** The bind stage's gate: the program the graph stage analyses, without what is poisoned. */
  readonly part?: Program;
  /** build-graph */
  readonly graph?: PolicyGraph;
  /** check-lock: the entries of the lock file that qpc could have written. */
  readonly previousLock?: Lock;
  /** allocate-socks */
  readonly socks?: { readonly allocation: Allocation; readonly lock: SocksLock };
  /** allocate-qids */
  readonly qids?: Readonly<Record<string, number>>;
  /** close-identities: the complete qrexec policy, with the rules that close the Tor identities, and who is on which side. */
  readonly closed?: ClosedPolicy;
  /** close-identities: the complete qrexec policy. */
  readonly policy?: EvaluatedPolicy;
  /** find-channels: the calls that cross a Tor identity's side or a `require`. */
  readonly channels?: readonly Channel[];
  /** contain-findings: which graph findings the poison could change (absent when nothing is poisoned). */
  readonly containment?: Containment;
  /** lower-model */
  readonly model?: PolicyModel;
}

/** The one shape of a pass: what it adds to the work, reporting through `ctx`. */
export type Pass = (work: Work, ctx: Reporter) => Partial<Work>;

interface Stage {
  readonly name: StageName;
  /** The passes, in order, by the name of their file. */
  readonly passes: Readonly<Record<string, Pass>>;
  /** Which of the stage's findings stand (default: all). */
  readonly keep?: (work: Work) => (d: Diagnostic) => boolean;
  /** Whether waivers weigh the stage's findings. */
  readonly waived: boolean;
  /**
   * Whether the next stage runs: the work it runs over, or undefined to
   * stop. `found` is the stage's own findings (kept, before waivers),
   * `waived` every finding so far with waivers applied.
   */
  readonly gate: (work: Work, found: readonly Diagnostic[], waived: () => readonly Diagnostic[]) => Work | undefined;
}

/** A field a pass reads, made by an earlier pass; missing only by a bug in the table. */
function need<K extends keyof Work>(w: Work, key: K): NonNullable<Work[K]> {
  const v = w[key];
  if (v === undefined) throw new Error(`pipeline: \`${key}\` is read before the pass that makes it ran`);
  return v as NonNullable<Work[K]>;
}

const stages: readonly Stage[] = [
  {
    name: 'load',
    passes: {
      'load-files': (w, ctx) => {
        let text: string;
        try {
          text = w.host.readFile(w.entry);
        } catch (e) {
          ctx.report(diag('QP5001', undefined, { path: w.entry, reason: ioReason(e) }));
          return {};
        }
        const bag = new DiagnosticBag();
        const loaded = loadFiles(w.entry, text, w.host, bag);
        // An entry that is not a policy is not shown, not a word of it.
        if (loaded.notPolicy !== undefined) {
          ctx.report(diag('QP5001', undefined, { path: w.entry, reason: loaded.notPolicy }));
          return {};
        }
        for (const d of bag.items) ctx.report(d);
        if (bag.hasErrors) return { sources: loaded.sources };
        return { sources: loaded.sources, files: loaded.files.map((f) => ({ source: f.source, ast: f.ast!, std: f.std })) };
      },
      // Only beside a policy set that loaded: the lock is of no use to a check that stops here.
      'read-lock': (w, ctx) => (w.files ? { lock: readLock(w.entry, w.host, ctx) } : {}),
    },
    waived: true,
    gate: (w) => (w.files ? w : undefined),
  },
  {
    name: 'bind',
    passes: {
      'bind-program': (w, ctx) => {
        const files = need(w, 'files');
        const program = bindProgram({ entry: w.entry, files, stdStockModule: (name) => standardStockModules().get(name) }, ctx);
        const usedModules = new Set(files.filter((f) => f.std).map((f) => path.basename(f.source.path, '.qpol')));
        return { program, resolver: resolverFor(program, usedModules) };
      },
      'check-items': (w, ctx) => (checkItems(need(w, 'resolver'), ctx), {}),
      'check-rules': (w, ctx) => (checkRules(need(w, 'resolver'), ctx), {}),
      'check-text': (w, ctx) => {
        for (const f of need(w, 'files')) checkText(f.source, f.ast, ctx);
        return {};
      },
      'check-unused': (w, ctx) => (checkUnused(need(w, 'program'), ctx), {}),
    },
    waived: true,
    gate: (w, found) => {
      const program = need(w, 'program');
      const poison = poisonOf(program, found);
      return poison && { ...w, poison, part: boundPart(program, poison) };
    },
  },
  {
    name: 'graph',
    passes: {
      'build-graph': (w) => ({ graph: buildGraph(need(w, 'part')) }),
      'check-network': (w, ctx) => (checkNetwork(need(w, 'graph'), ctx), {}),
      'check-policy-file': (w, ctx) => (checkPolicyFile(need(w, 'part'), ctx), {}),
      'check-lock': (w, ctx) => {
        const lock = need(w, 'lock');
        return { previousLock: lock.usable ? checkLock(need(w, 'graph'), lock.raw, lock.source, ctx) : emptyLock };
      },
      'allocate-socks': (w, ctx) => ({ socks: allocateSocks(need(w, 'graph'), need(w, 'previousLock'), ctx) }),
      'allocate-qids': (w) => ({ qids: allocateQids(need(w, 'graph'), need(w, 'previousLock').qubes) }),
      'close-identities': (w) => {
        const closed = closeIdentities(need(w, 'part'), need(w, 'graph'));
        return { closed, policy: closed.policy };
      },
      'find-channels': (w) => ({ channels: policyChannels(need(w, 'closed')) }),
      'check-channels': (w, ctx) => (checkChannels(need(w, 'closed'), need(w, 'channels'), ctx), {}),
      'check-danger': (w, ctx) => (checkDanger(need(w, 'closed'), ctx), {}),
      'check-shadowed': (w, ctx) => (checkShadowed(need(w, 'closed'), ctx), {}),
      'check-requires': (w, ctx) => (checkRequires(need(w, 'closed'), need(w, 'channels'), ctx), {}),
      'check-expects': (w, ctx) => (checkExpects(need(w, 'part'), need(w, 'policy'), ctx), {}),
      'check-updates': (w, ctx) => (checkUpdates(need(w, 'part'), need(w, 'graph'), need(w, 'policy'), ctx), {}),
      'contain-findings': (w) => {
        const poison = need(w, 'poison');
        return isEmpty(poison) ? {} : { containment: containment(poison, need(w, 'part'), need(w, 'graph')) };
      },
    },
    keep: (w) => (d) => !w.containment?.unsure(d),
    waived: true,
    gate: (w, _found, waived) => (hasErrors(waived()) ? undefined : w),
  },
  {
    name: 'target',
    passes: {
      'lower-model': (w) => {
        const socks = need(w, 'socks');
        return { model: lowerModel(need(w, 'part'), need(w, 'graph'), need(w, 'policy'), socks.allocation, need(w, 'qids')) };
      },
      'check-targets': (w, ctx) => {
        for (const t of w.targets) for (const d of t.check(need(w, 'model'))) ctx.report(d);
        return {};
      },
    },
    waived: false,
    gate: (w) => w,
  },
];

/** The diagnostics of a stage, each marked with it. */
function staged(stage: StageName, ds: readonly Diagnostic[]): Diagnostic[] {
  return ds.map((d) => (d.stage === undefined ? { ...d, stage } : d));
}

/**
 * The waivers over the findings of the stages that ran. Which waivers match
 * nothing (QP2021) is known only once the graph stage ran, and one that
 * matches nothing only because of a poisoned statement is not reported (a
 * broken waiver is reported by its own error). A waiver of a code that is
 * never waived (QP2025) is known at binding.
 */
function waive(w: Work, ds: readonly Diagnostic[]): Diagnostic[] {
  const full = w.program;
  if (!full) return [...ds];
  const out = applyWaivers(full, ds, new Set(w.options.allowWaived));
  const added = out.slice(ds.length).map((d): Diagnostic => ({ ...d, stage: d.code === 'QP2021' ? 'graph' : 'bind' }));
  const wanted = (d: Diagnostic) => {
    if (d.code !== 'QP2021') return true;
    if (!w.graph) return false;
    const contained = w.containment;
    if (!contained) return true;
    const x = full.waives.find((v) => v.subject.span === d.span);
    if (x === undefined) return true;
    return need(w, 'part').waives.includes(x) && !contained.unsureOf(x.code.text, substitute(x.subject.text, full.settings.whonix));
  };
  return [...out.slice(0, ds.length), ...added.filter(wanted)];
}

/** What a check that ended with `work` returns. */
function resultOf(w: Work, diagnostics: Diagnostic[], bound?: Bound): StageResult {
  let sources = w.sources ?? new Map<string, SourceFile>();
  const r: { -readonly [K in keyof StageResult]: StageResult[K] } = { diagnostics, sources };
  if (w.program) r.program = w.program;
  if (bound) r.bound = bound;
  if (!w.graph) return r;
  r.graph = w.graph;
  const lock = need(w, 'lock');
  const socks = need(w, 'socks');
  const poison = need(w, 'poison');
  // The policy of the part that bound answers requests only when it is the policy's own.
  if (policyKnown(poison)) r.policy = w.policy;
  if (w.containment) r.doubtful = new Set([...need(w, 'part').decls.keys()].filter((n) => w.containment!.tainted(n)));
  if (lock.usable) {
    // The lock file is shown only with a finding in it: it is not a source of the artifacts.
    if (lock.source && diagnostics.some((d) => d.span?.file === lock.path)) r.sources = sources = new Map([...sources, [lock.path, lock.source]]);
    const text = lockText({ ...socks.lock, qubes: need(w, 'qids') });
    const previous = lock.source?.text;
    r.allocation = socks.allocation;
    r.lock = { path: lock.path, ...(previous !== undefined ? { previous } : {}), text, changed: text !== previous };
  }
  if (w.model) r.model = w.model;
  return r;
}

/**
 * The gating loop: runs the stages from `from` over `work`, after the
 * findings `found` of the stages before; stops after the stage `until` (the
 * result then says where the check goes on from), or where a gate says so.
 */
function run(from: number, work: Work, found: readonly Diagnostic[], until?: StageName): StageResult {
  let w = work;
  let waivable = [...found];
  const after: Diagnostic[] = [];
  const waived = () => waive(w, waivable);
  for (const stage of stages.slice(from)) {
    const reported: Diagnostic[] = [];
    const ctx: Reporter = { report: (d) => void reported.push(d) };
    const timings = w.options.timings;
    for (const [name, pass] of Object.entries(stage.passes)) {
      const t0 = timings ? performance.now() : 0;
      w = { ...w, ...pass(w, ctx) };
      if (timings) timings(stage.name, name, performance.now() - t0);
    }
    const keep = stage.keep?.(w);
    const kept = staged(stage.name, keep ? reported.filter(keep) : reported);
    if (stage.waived) waivable = [...waivable, ...kept];
    else after.push(...kept);
    const next = stage.gate(w, kept, waived);
    if (next === undefined) break;
    w = next;
    if (stage.name === until) return resultOf(w, waived(), { work: w, found: waivable });
  }
  return resultOf(w, [...waived(), ...after]);
}

/**
 * What the given targets refuse in a model: each target's `check`, in
 * registry order, as the target stage reports it. Pure and cheap (no
 * target emits here).
 */
export function checkTargets(model: PolicyModel, targets: readonly Target[]): Diagnostic[] {
  return staged('target', targets.flatMap((t) => t.check(model)));
}

/**
 * Runs the stages for one entry file; `until` stops after an earlier stage
 * (benchmarks, quick feedback). `targets` are the targets whose checks the
 * target stage runs (none: the model is built, but not checked).
 */
export function runPipeline(entry: string, host: CompilerHost, until: 'bind' | 'all' = 'all', opts: PipelineOptions = {}, targets: readonly Target[] = []): StageResult {
  return run(0, { entry, host, options: opts, targets }, [], until === 'bind' ? 'bind' : undefined);
}

/** What loading and binding leave for the analysis: enough to go on without reading or parsing again. */
export interface Bound {
  /** The work of the load and bind stages (the lock file included), and what the binding errors poison. */
  readonly work: Work;
  /** Their findings before waivers (which apply to all stages at once). */
  readonly found: readonly Diagnostic[];
}

/**
 * The graph and target stages over a bound program: network, SOCKS, qrexec,
 * the model, the checks of `targets`. Past binding errors, the graph stage
 * analyses the part that bound and keeps the findings the poison cannot
 * change; the target stage does not run. Nothing is read: the lock file is
 * the one the load stage read.
 */
export function analyse(bound: Bound, opts: PipelineOptions = {}, targets: readonly Target[] = []): StageResult {
  return run(
    stages.findIndex((s) => s.name === 'graph'),
    { ...bound.work, options: opts, targets },
    bound.found,
  );
}

export { hasErrors };
