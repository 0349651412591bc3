/**
 * The public API of the compiler. The command line and the language server
 * are thin adapters over these functions and import nothing else of the
 * compiler: what they need beyond check, compile and format (the renderers,
 * the explain texts, `qpc query`, the syntax tree and bound program the
 * language server walks) is exported here by name. This module sits on top
 * of the layers (see README, Layout): it may import every module below it,
 * the target registry included, and nothing imports it but the adapters.
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
import type { Artifact, Deployment, Target } from './target.js';
import { targets as registry } from '../targets/index.js';
import type { PolicyModel } from './model.js';
import type { EvaluatedPolicy } from './qrexec/query.js';
import { findChannels, ANY_ARGUMENT, OTHER_SERVICE } from './qrexec/channels.js';
import { lintNative, type LintResult } from './native/lint.js';
import type { NativeHost } from './native/read.js';
import { defaultSettings } from './program.js';
import type { QrexecRule, QubesRelease } from './qrexec/types.js';
import { readSnapshot, readSystemInfo, readSystemInfoFile, systemInfoOf } from './snapshot/read.js';
import { overlayHost } from './host.js';
import { dangerous } from './qrexec/check-danger.js';

export type { Diagnostic, Code, CodeSpec, Program, CompilerHost, PolicyGraph, Allocation, LockState, CompileResult, Artifact, Deployment, Target, PolicyModel };
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
    const r = analyse(result.bound, opts, opts.targets ?? registry);
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

/** Building diagnostics and the names of waiver classes (the command line's own QP5xxx). */
export { diag, type Fix, type Severity } from './diagnostics/diagnostic.js';
export { waiverClass } from './diagnostics/codes.js';
export { suggest } from './diagnostics/suggest.js';
/** The renderers of `--error-format` and the summary line of the human one. */
export { render, errorFormats, isErrorFormat, type ErrorFormat } from './diagnostics/render.js';
export { summaryLine } from './diagnostics/render-text.js';
/** The file system as the compiler sees it: overlays, error texts, size limit, where the package and its standard library are. */
export { ioReason, overlayHost, packageDir, standardLibraryDir, MAX_FILE_BYTES } from './host.js';
export type { Span } from './source.js';
/** Why a file that does not parse is not taken for a policy (the reason of QP2006 or QP5001). */
export { notPolicyReason } from './passes/load-files.js';
/** `qpc query` and the language server's hovers: the qrexec decision for one request. */
export { decisionText, parseRequest, query, queryStates, ruleText, ruleWhere } from './qrexec/query.js';
export type { QrexecRule } from './qrexec/types.js';
export { decidedBy } from './qrexec/expects.js';
/** qpc's version (`--version`, `manifest.json`, SARIF). */
export { version } from './version.js';
/** The path of `manifest.json` among the artifacts. */
export { manifestPath } from '../targets/paths.js';
/** The syntax tree and the bound program, for the language server's navigation and completion. */
export { parseFile } from './syntax/parse.js';
export { walk } from './syntax/visit.js';
export type { Declaration, Endpoint, PolicyFile, Rule, Statement, Word } from './syntax/ast.js';
export { lastItem, type Decl, type Reference, type ReferenceIndex } from './program.js';
export { itemsByForm, keywords, kindWords, statementWords, type DeclKind } from './syntax/forms.js';
export { substitute } from './whonix.js';
export { qubeLabels, qubeNameSyntax } from './qubes-values.js';
export { showPath } from './graph/policy-graph.js';

/** `qpc graph`: the drawing of a policy (DESIGN §6), from its evaluated policy and, when known, its topology and findings. */
export { drawModel, renderDot, renderJson, COLLAPSE_ABOVE, FOLD_ABOVE, type DrawInput, type DrawModel, type DrawOptions, type GraphView } from './graph/draw.js';
/**
 * The input of {@link drawModel} for an evaluated policy (rules, system
 * information, release) with the qrexec analysis wired in; the topology and
 * the findings when known. `qpc lint --graph` can call it with a native
 * policy.d and a system-info, without a topology.
 */
export function drawInput(policy: EvaluatedPolicy, extra: { graph?: PolicyGraph; findings?: readonly Diagnostic[] } = {}): import('./graph/draw.js').DrawInput {
  const { rules, info, release } = policy;
  return {
    rules,
    info,
    analysis: {
      channels: (q) => findChannels({ rules, info, release, relevant: q.relevant, key: q.key, ...(q.services ? { services: q.services } : {}) }),
      danger: (service) => {
        let level: 'critical' | 'high' | undefined;
        for (const d of dangerous) if (d.pattern.test(service)) level = d.level === 'critical' || level === 'critical' ? 'critical' : 'high';
        return level;
      },
      anyArgument: ANY_ARGUMENT,
      otherService: OTHER_SERVICE,
    },
    ...(extra.graph ? { graph: extra.graph } : {}),
    ...(extra.findings ? { findings: extra.findings } : {}),
  };
}
export { dotToSvg } from './graph/svg.js';
export type GraphFormat = 'svg' | 'dot' | 'json';
/** The drawing of the policy set whose entry is `entry` in `format`, or the diagnostics that stop it (no evaluated policy). Never throws. */
export async function graph(entry: string, opts: import('./graph/draw.js').DrawOptions & { format?: GraphFormat; host?: CompilerHost; title?: string } & PipelineOptions = {}): Promise<CheckResult & { text?: string }> {
  const r = check(entry, { ...(opts.host ? { host: opts.host } : {}), ...(opts.allowWaived ? { allowWaived: opts.allowWaived } : {}) });
  if (!r.policy) return r;
  try {
    const { drawModel, renderDot, renderJson } = await import('./graph/draw.js');
    const m = drawModel(drawInput(r.policy, { ...(r.graph ? { graph: r.graph } : {}), findings: r.diagnostics }), opts);
    if (opts.format === 'json') return { ...r, text: renderJson(m) };
    const dot = renderDot(m, opts.title ?? (entry.replace(/^.*[\\/]/, '').replace(/\.qpol$/, '') || 'policy'));
    if (opts.format === 'dot') return { ...r, text: dot };
    const { dotToSvg } = await import('./graph/svg.js');
    return { ...r, text: await dotToSvg(dot) };
  } catch (e) {
    return { ...r, diagnostics: [...r.diagnostics, internal(e)] };
  }
}

// Qubes' qrexec token model (what every column of a policy line may hold, and how each release reads it).
export { acceptedIn, isKeyword, keywordTokens, token, tokenIn, tokenShape, qubesColumns, SERVICE, ARGUMENT, TAG, USER } from './qrexec/token.js';
export type { Token, TokenKind, RuleTokens } from './qrexec/types.js';

/** `qpc snapshot`: the dom0 script that records a machine, and the reader of what it records (docs/snapshot.md). */
/** Unified diffs as `diff -u` writes them (`--diff`, `qpc plan`). */
export { unifiedDiff } from './unified-diff.js';
export { readSnapshot, readSystemInfo, readSystemInfoFile, systemInfoOf, systemInfoFromJson, parseOwnership, ownedLine, snapshotScript, SNAPSHOT_FORMAT, DEVICE_CLASSES } from './snapshot/index.js';
export type { MachineState, QubeState, Pref, DeviceAssignment, SnapshotFile, WhonixGateway, SnapshotResult, OwnedItem, OwnershipRecord } from './snapshot/index.js';

/**
 * `qpc lint --graph`: the channel view of `qpc graph` for native policy
 * files, drawn from the rules as read and the system information they were
 * analysed with: qubes as nodes (native files carry no identities), lint's
 * findings in their colours. Rejects only on a bug.
 */
export async function lintGraph(r: LintResult, opts: import('./graph/draw.js').DrawOptions & { format?: GraphFormat; title?: string } = {}): Promise<string> {
  const { drawModel, renderDot, renderJson } = await import('./graph/draw.js');
  const { rules, info, release } = r.policy;
  const m = drawModel(drawInput({ rules, info, release }, { findings: r.diagnostics }), { view: 'channels', ...opts });
  if (opts.format === 'json') return renderJson(m);
  const dot = renderDot(m, opts.title ?? 'policy.d');
  if (opts.format === 'dot') return dot;
  const { dotToSvg } = await import('./graph/svg.js');
  return dotToSvg(dot);
}

/** `qpc lint`: native qrexec policy files of an existing dom0, read as Qubes' loader reads them, then analysed. */
export { readNativePolicy, nodeListDir, POLICY_DIR, type NativeHost, type DirEntry, type NativeReadResult, type Rejection } from './native/read.js';
export { inferredSystemInfo, type LintResult } from './native/lint.js';
export type { NativePolicy } from './native/analyse.js';

export interface LintOptions {
  /** Reads the files; lists directories with its `listDir`, else the local file system. */
  readonly host?: NativeHost;
  /** The Qubes release whose loader to follow: by default the one `check` assumes (`settings { qubes … }`' default). */
  readonly release?: QubesRelease;
  /** The `--system-info` path: the JSON of `internal.GetSystemInfo` (as `qrexec-policy-graph --system-info` reads it), or a directory `qpc snapshot` recorded. */
  readonly systemInfo?: string;
}

const stockModels = new Map<QubesRelease, ReadonlyMap<string, readonly QrexecRule[]>>();

/** The stock policy files of a release as the standard library models them (`use "qubes"`, `use "whonix"`), by file name. */
function stockModel(release: QubesRelease): ReadonlyMap<string, readonly QrexecRule[]> {
  let m = stockModels.get(release);
  if (m !== undefined) return m;
  const entry = 'qpc-lint-stock-model.qpol';
  const r = check(entry, { host: overlayHost(new Map([[entry, `use "whonix"\nsettings { qubes ${release} }\n`]]), nodeHost), targets: [] });
  const byFile = new Map<string, QrexecRule[]>();
  for (const rule of r.policy?.rules ?? []) {
    if (!rule.origin.stock) continue;
    const list = byFile.get(rule.origin.policyFile) ?? [];
    list.push(rule);
    byFile.set(rule.origin.policyFile, list);
  }
  stockModels.set(release, (m = byFile));
  return m;
}

/**
 * `qpc lint DIR|FILE…`: reads each DIR as dom0 reads /etc/qubes/policy.d and
 * each FILE in the order given (compiler/native/read.ts), reports what
 * Qubes' loader would refuse (QP6xxx) and runs the analyses over the rules,
 * with the qubes of `systemInfo` or, without it, those the rules name
 * (`inferredSystemInfo`). Never throws.
 */
export function lint(paths: readonly string[], opts: LintOptions = {}): LintResult | { readonly diagnostics: readonly Diagnostic[]; readonly sources: ReadonlyMap<string, SourceFile> } {
  const host = opts.host ?? nodeHost;
  const release = opts.release ?? defaultSettings.qubes;
  try {
    // A --system-info that cannot be read stops before the files are read: the result has no policy.
    const given = opts.systemInfo === undefined ? undefined : readSystemInfo(opts.systemInfo, host);
    if (given && given.info === undefined) return { diagnostics: sortDiagnostics(given.diagnostics), sources: new Map() };
    return lintNative(paths, { host, release, stock: stockModel(release), ...(given ? { info: given.info!, infoDiagnostics: given.diagnostics } : {}) });
  } catch (e) {
    return { diagnostics: [internal(e)], sources: new Map() };
  }
}

/** `qpc import`: a recorded machine as a policy in the language, and the proof that it decides as the machine does. */
import { importSnapshot as importWith, releaseOf, snapshotHost, type ImportResult, type Library } from './import/import.js';
import { readNativePolicy as readNative } from './native/read.js';
import { verifyPolicies, type VerifyResult } from './import/verify.js';
import { acceptFindings } from './import/accept.js';
export type { ImportResult, VerifyResult };
export type { Difference } from './import/verify.js';

const libraries = new Map<string, Library>();

/** The standard library of a release and Whonix version: its stock files by name (empty ones included) and its declarations. */
function library(release: QubesRelease, whonix: number | undefined): Library {
  const k = `${release} ${whonix ?? ''}`;
  let lib = libraries.get(k);
  if (lib !== undefined) return lib;
  const entry = 'qpc-import-library.qpol';
  const text = `use "${whonix === undefined ? 'qubes' : 'whonix'}"\nsettings { qubes ${release}${whonix === undefined ? '' : `; whonix ${whonix}`} }\n`;
  const r = check(entry, { host: overlayHost(new Map([[entry, text]]), nodeHost), targets: [] });
  const stock = new Map<string, readonly QrexecRule[]>(stockModel(release));
  for (const f of r.program?.files ?? []) {
    if (!f.std) continue;
    for (const s of f.ast.statements) if (s.kind === 'PolicyFileBlock' && s.stock && (s.releases.length === 0 || s.releases.some((v) => v.text === release)) && !stock.has(s.name.text)) stock.set(s.name.text, []);
  }
  const decls = new Map([...(r.program?.decls ?? new Map())].filter(([, d]) => d.std));
  libraries.set(k, (lib = { stock, decls }));
  return lib;
}

/**
 * `qpc import SNAPSHOT`: the policy in the language equivalent to the
 * machine a `qpc snapshot` recorded (compiler/import/), formatted, with what
 * it could not import as diagnostics. Never throws; writes nothing.
 */
export function importSnapshot(dir: string, opts: { host?: CompilerHost; noIdentities?: boolean } = {}): ImportResult | { readonly diagnostics: readonly Diagnostic[] } {
  try {
    const host = opts.host ?? nodeHost;
    const r = importWith(dir, host, { library, ...(opts.noIdentities ? { noIdentities: true } : {}) });
    if (r.text === undefined) return r;
    // What check finds on the machine as it is is marked where it is found (compiler/import/accept.ts).
    const entry = 'imported.qpol';
    const checked = check(entry, { host: overlayHost(new Map([[entry, r.text]]), host), targets: [] });
    return { ...r, text: acceptFindings(r.text, entry, checked.diagnostics) };
  } catch (e) {
    return { diagnostics: [internal(e)] };
  }
}

/**
 * `qpc import --verify`: evaluates the snapshot's policy files (as dom0 reads
 * them) and the complete policy of `importedText` over the same requests and
 * system information, and lists every request they decide differently.
 * The import's own diagnostics come back when it does not check. Never throws.
 */
export function verifyImport(dir: string, importedText: string, opts: { host?: CompilerHost; path?: string } = {}): (VerifyResult & { readonly check: CheckResult }) | { readonly diagnostics: readonly Diagnostic[]; readonly check?: CheckResult } {
  const host = opts.host ?? nodeHost;
  try {
    const snap = readSnapshot(dir, host);
    const release = releaseOf(snap.state);
    const entry = opts.path ?? 'imported.qpol';
    const checked = check(entry, { host: overlayHost(new Map([[entry, importedText]]), host), targets: [] });
    if (!checked.policy) return { diagnostics: [...snap.diagnostics, ...checked.diagnostics], check: checked };
    const base = dir.replace(/\/+$/, '');
    const native = readNative([`${base}/policy.d`], snapshotHost(snap.state, base), release, { stock: stockModel(release) });
    const r = verifyPolicies(native.rules, systemInfoOf(snap.state), checked.policy, release, checked.sources);
    return { ...r, check: checked };
  } catch (e) {
    return { diagnostics: [internal(e)] };
  }
}

/** `qpc plan`: what provisioning would change on a recorded machine, as immer's patches (compiler/plan/, docs/plan.md). */
import { makePlan, sourceOfSnapshot, viewOfSnapshot, viewOfSystemInfo, type Plan, type ProvisionFacts, type MachineSource, type MachineView } from './plan/index.js';
import { freeze } from 'immer';
import { identityTags as provisionIdentityTags, prefsOf as provisionPrefs, provisioningOrder, QUBES_DEFAULT, whonixMarkers } from '../targets/provision/plan.js';
import { collectInputs as provisionInputs } from '../targets/provision/inputs.js';
import { resettablePrefs as provisionResettablePrefs } from '../targets/provision/ownership.js';
import { provisionScriptPath } from '../targets/paths.js';
import { sha256 } from './hash.js';
export { renderPlan, planJson, planSummary, planFile, viewOfSnapshot, viewOfSystemInfo, PLAN_FORMAT, PLAN_FILE_FORMAT } from './plan/index.js';
export type { Plan, QubePlan, FilePlan, GatewayPlan, QubeFilePlan, RecordPlan, PrefChange, MachineView, MachineSource, QubeView, PrefView } from './plan/index.js';

export interface PlanOptions extends PipelineOptions {
  readonly host?: CompilerHost;
  /** A directory `qpc snapshot` recorded. */
  readonly snapshot?: string;
  /** The JSON of `internal.GetSystemInfo`: the plan of the qrexec part alone. */
  readonly systemInfo?: string;
}

export type PlanResult = CheckResult & {
  readonly plan?: Plan;
  /** sha256 of the provision.sh the plan was made for: `planFile` binds the plan file to it. */
  readonly provisionSha256?: string;
};

/** What the provision target does beyond the model, from the target's own functions and the artifacts it installs. */
function provisionFacts(model: PolicyModel, artifacts: readonly Artifact[]): ProvisionFacts {
  const order = provisioningOrder(model);
  return {
    order: order.map((q) => q.name),
    prefs: new Map(order.map((q) => [q.name, provisionPrefs(q, model).map((p) => ({ name: p.name, value: p.value === QUBES_DEFAULT ? null : p.value }))])),
    identityTags: provisionIdentityTags(model),
    policyFiles: provisionInputs(model, artifacts).policies.map((p) => ({ name: p.name, text: p.contents })),
    deploys: artifacts.flatMap((a) => (a.deploy ? [{ qube: a.deploy.qube, path: a.deploy.path, text: a.contents }] : [])),
    whonixMarkers: whonixMarkers(model),
    resettablePrefs: provisionResettablePrefs,
  };
}

/**
 * `qpc plan POLICY --snapshot DIR` (or `--system-info FILE`): compiles the
 * policy's provisioning artifacts and compares the machine with what
 * provision.sh would make of it. No plan when the policy, the snapshot or
 * the system info has an error. Writes nothing (the lock file neither).
 * Never throws.
 */
export function plan(entry: string, opts: PlanOptions): PlanResult {
  const host = opts.host ?? nodeHost;
  try {
    const ds: Diagnostic[] = [];
    let base: ReturnType<typeof viewOfSnapshot> | undefined;
    let machine: MachineSource | undefined;
    if (opts.snapshot !== undefined) {
      const s = readSnapshot(opts.snapshot, host);
      ds.push(...s.diagnostics);
      if (s.state.format !== 0) {
        base = viewOfSnapshot(s.state);
        machine = sourceOfSnapshot(s.state);
      }
    } else if (opts.systemInfo !== undefined) {
      const r = readSystemInfoFile(opts.systemInfo, host);
      ds.push(...r.diagnostics);
      if (r.info !== undefined) {
        base = viewOfSystemInfo(r.info);
        machine = { coverage: 'system-info' };
      }
    }
    const r = planOn(entry, base, machine, opts);
    const diagnostics = sortDiagnostics([...ds, ...r.diagnostics]);
    return ds.some((d) => d.severity === 'error') ? { diagnostics, sources: r.sources } : { ...r, diagnostics };
  } catch (e) {
    return { diagnostics: [internal(e)], sources: new Map() };
  }
}

/**
 * The plan of the policy set whose entry is `entry` on the machine `base`
 * (a frozen MachineView: `viewOfSnapshot`, `viewOfSystemInfo`); no plan
 * when the policy has an error or there is no machine. Freezes the model
 * it plans with (immer's `freeze`), so nothing after it can change it.
 * Never throws.
 */
export function planOn(entry: string, base: MachineView | undefined, machine: MachineSource | undefined, opts: { host?: CompilerHost } & PipelineOptions = {}): PlanResult {
  try {
    const r = compileWith(entry, registry, { host: opts.host ?? nodeHost, targets: ['provision'], ...(opts.allowWaived ? { allowWaived: opts.allowWaived } : {}) });
    if (!r.model || !r.artifacts || base === undefined || machine === undefined || r.diagnostics.some((d) => d.severity === 'error')) return r;
    const script = r.artifacts.find((a) => a.path === provisionScriptPath);
    return { ...r, plan: makePlan(base, { model: freeze(r.model, true), provision: provisionFacts(r.model, r.artifacts) }, machine), ...(script !== undefined ? { provisionSha256: sha256(script.contents) } : {}) };
  } catch (e) {
    return { diagnostics: [internal(e)], sources: new Map() };
  }
}
