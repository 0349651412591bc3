/**
 * The `qpc` command line: arguments → compiler API → rendered diagnostics →
 * exit code. Standard streams, the environment and files come in through
 * `CliIo`, so tests run it in-process. Exit codes: 0 ok, 1 policy errors, 2
 * usage or I/O, 3 internal.
 */
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath, sep as pathSep } from 'node:path';
import { check, explain, format, allCodes, codes, nodeHost, type CompilerHost, type Diagnostic, SourceFile, diag, ioReason, overlayHost, packageDir, notPolicyReason, render, summaryLine, decisionText, parseRequest, query, queryStates, ruleText, ruleWhere, type QrexecRule, evaluateExpects, expectName, version, compile, type CheckResult, graph, snapshotScript, lint, lintGraph, importSnapshot, verifyImport, plan, renderPlan, planJson, planFile } from '../index.js';

import { diffOutput, nodeOutputFs, outputTextChanges, replaceFile, writeOutput, type OutputFs } from './output.js';
import { defaultOptions, parseCommandLine, STDIN_ARG, UsageError, type Options } from './args.js';
import { useColor, type Environment } from './color.js';
import { unifiedDiff } from './diff.js';
import { boundStdin, readBounded, STDIN_NAME } from './stdin.js';
import { caseLine, junitXml, passed, summaryText, totals, type TestCase, type TestSuite } from './test-report.js';

export { version };

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Reads standard input whole (`qpc check -`, `fmt -`, `query --requests -`); refuses more than 4 MiB. */
  readonly stdin: () => string;
  /** Whether stderr is a terminal (colour). */
  readonly isTTY: boolean;
  /** The environment: FORCE_COLOR, NO_COLOR, NODE_DISABLE_COLORS, TERM decide colour. */
  readonly env: Environment;
  readonly host: CompilerHost;
  /** Replaces a file's contents atomically. */
  readonly writeFile: (path: string, text: string) => void;
  /** The output directory of `compile`. */
  readonly output: OutputFs;
  /** The working directory relative file names are relative to: SARIF's `SRCROOT` (absent: left unsaid in the log). */
  readonly cwd?: string;
}

/** CLI findings that mean "would change" (exit 1), not a usage or I/O failure. */
const DRIFT = new Set(['QP5004', 'QP5006', 'QP5010']);

/** The exit code for a set of diagnostics. */
export function exitCode(ds: readonly Diagnostic[], denyWarnings: boolean): number {
  if (ds.some((d) => d.code.startsWith('QP9'))) return 3;
  if (ds.some((d) => d.code.startsWith('QP5') && d.severity === 'error' && !DRIFT.has(d.code))) return 2;
  if (ds.some((d) => d.severity === 'error' || (denyWarnings && d.severity === 'warning'))) return 1;
  return 0;
}

function emit(io: CliIo, o: Options, ds: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>): void {
  if (o.errorFormat === 'json' || o.errorFormat === 'sarif' || o.errorFormat === 'gcc') {
    // SARIF names where its two bases are: the working directory and the installed package.
    const bases = o.errorFormat === 'sarif' ? { ...(io.cwd ? { baseDir: io.cwd } : {}), packageDir: packageDir() } : {};
    io.stdout(render(o.errorFormat, ds, sources, { color: false, toolVersion: version, ...bases }));
    return;
  }
  if (ds.length === 0) return;
  const color = o.errorFormat === 'human' && useColor(o.color, io.env, io.isTTY);
  io.stderr(render(o.errorFormat, ds, sources, { color, toolVersion: version }));
  io.stderr(`${summaryLine(ds)}\n`);
}

/** Standard input, whole, within the bound every input has. */
function readStdin(io: CliIo): string {
  return boundStdin(io.stdin());
}

/** A policy entry named on the command line: a file, or standard input (`-`), which has no lock file. */
interface Entry {
  /** The name the pipeline and the diagnostics know it by. */
  readonly name: string;
  readonly host: CompilerHost;
  readonly stdin: boolean;
}

/**
 * The entry `arg` names. Standard input is read once, into a host where it is
 * `<stdin>` beside the current directory (so its relative `use` paths
 * resolve from there) and where it has no lock file. It is taken for a
 * policy, as `fmt -` takes it: its syntax errors are quoted.
 */
function entryOf(io: CliIo, arg: string): Entry | Diagnostic {
  if (arg !== STDIN_ARG) return { name: arg, host: io.host, stdin: false };
  let text: string;
  try {
    text = readStdin(io);
  } catch (e) {
    return diag('QP5001', undefined, { path: STDIN_NAME, reason: ioReason(e) });
  }
  const noLock = `${STDIN_NAME}.lock`;
  const host: CompilerHost = {
    readFile: (p, options) => {
      if (p === noLock) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return overlayHost(new Map([[STDIN_NAME, text]]), io.host).readFile(p, options);
    },
    realPath: (p) => (p === STDIN_NAME ? `${STDIN_NAME}.qpol` : (io.host.realPath?.(p) ?? p)),
  };
  return { name: STDIN_NAME, host, stdin: true };
}

const isDiagnostic = (x: Entry | Diagnostic): x is Diagnostic => 'code' in x;

/**
 * Writes the lock file when the allocations changed and nothing is wrong;
 * under `--frozen`, reports the change instead (QP5006), and with `--diff`
 * prints it. With `write` false it only reports, for a caller that writes
 * once its own writing succeeded. Standard input has no lock file.
 */
function settleLock(io: CliIo, o: Options, r: CheckResult, write = true, stdin = false): Diagnostic[] {
  if (stdin || !r.lock?.changed || r.diagnostics.some(failing(o))) return [];
  if (o.frozen) {
    if (o.diff) io.stdout(unifiedDiff(r.lock.path, r.lock.previous, r.lock.text));
    return [diag('QP5006', undefined, { path: r.lock.path }, { help: 'run qpc without `--frozen`, review the change and commit the lock file' })];
  }
  if (!write || (o.command === 'compile' && o.check)) return [];
  try {
    io.writeFile(r.lock.path, r.lock.text);
    return [];
  } catch (e) {
    return [diag('QP5005', undefined, { path: r.lock.path, reason: ioReason(e) })];
  }
}

const allowWaived = (o: Options) => (o.allowWaived ? { allowWaived: o.allowWaived } : {});

/** Whether a finding fails the run: an error, or under `--deny-warnings` a warning (then nothing is written either). */
const failing = (o: Options) => (d: Diagnostic): boolean => d.severity === 'error' || (o.denyWarnings && d.severity === 'warning');

async function runCompile(io: CliIo, o: Options): Promise<number> {
  const file = o.files[0];
  const dir = o.output!;
  const r = await compile(file, { host: io.host, ...(o.targets ? { targets: o.targets } : {}), ...allowWaived(o) });
  const ds: Diagnostic[] = [...r.diagnostics];
  if (r.artifacts) {
    // The lock changes only once the artifacts it allocated for are written: a compile that
    // reports an error writes nothing (under --frozen, a lock change is that error).
    ds.push(...settleLock(io, o, r, false));
    if (!ds.some(failing(o))) {
      if (o.check) {
        for (const d of diffOutput(io.output, dir, r.artifacts)) ds.push(diag('QP5010', undefined, { path: d.path, change: d.change }, { help: 'run `qpc compile` without `--check` and review the difference' }));
        if (o.diff) for (const c of outputTextChanges(io.output, dir, r.artifacts)) io.stdout(unifiedDiff(c.path, c.before, c.after));
      } else {
        let written = false;
        try {
          writeOutput(io.output, dir, r.artifacts);
          written = true;
        } catch (e) {
          ds.push(diag('QP5009', undefined, { path: dir, reason: ioReason(e) }));
        }
        if (written) {
          ds.push(...settleLock(io, o, r));
          if (o.errorFormat === 'human' || o.errorFormat === 'plain') io.stdout(`${file}: wrote ${r.artifacts.length} files to ${dir}\n`);
        }
      }
    }
  }
  emit(io, o, ds, r.sources);
  return exitCode(ds, o.denyWarnings);
}

function runCheck(io: CliIo, o: Options): number {
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  const seen = new Set<string>();
  for (const f of o.files) {
    const entry = entryOf(io, f);
    if (isDiagnostic(entry)) {
      all.push(entry);
      continue;
    }
    const r = check(entry.name, { host: entry.host, ...allowWaived(o) });
    for (const [k, v] of r.sources) sources.set(k, v);
    const ds = [...r.diagnostics, ...settleLock(io, o, r, true, entry.stdin)];
    for (const d of ds) {
      const key = JSON.stringify([d.code, d.span?.file, d.span?.start, d.message]);
      if (seen.has(key)) continue;
      seen.add(key);
      all.push(d);
    }
    if (r.program && o.errorFormat !== 'json' && o.errorFormat !== 'sarif' && o.errorFormat !== 'gcc' && !ds.some((d) => d.severity === 'error')) {
      const decls = [...r.program.decls.values()].filter((d) => !d.std);
      const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
      const count = (form: string) => decls.filter((d) => d.form === form).length;
      const qubes = decls.filter((d) => d.form !== 'identity' && d.form !== 'template').length;
      const parts = [n(count('identity'), 'identity', 'identities'), n(qubes, 'qube', 'qubes'), n(count('template'), 'template', 'templates'), n(r.program.rules.filter((x) => !x.stock).length, 'rule', 'rules'), n(r.allocation?.apps.length ?? 0, 'SOCKS binding', 'SOCKS bindings')];
      io.stdout(`${entry.name}: ok (${parts.join(', ')})\n`);
    }
  }
  emit(io, o, all, sources);
  return exitCode(all, o.denyWarnings);
}

function runFmt(io: CliIo, o: Options): number {
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  for (const f of o.files) {
    const stdin = f === STDIN_ARG;
    const shown = stdin ? STDIN_NAME : f;
    let text: string;
    try {
      text = stdin ? readStdin(io) : io.host.readFile(f);
    } catch (e) {
      all.push(diag('QP5001', undefined, { path: shown, reason: ioReason(e) }));
      continue;
    }
    const r = format(shown, text);
    // A file that does not parse and does not look like a policy (a link to
    // a secret, say) is reported without quoting any of it.
    const hidden = r.text === undefined && !stdin ? notPolicyReason(f, io.host.realPath?.(f) ?? f, text) : undefined;
    if (hidden !== undefined) {
      all.push(diag('QP5001', undefined, { path: f, reason: hidden }));
      continue;
    }
    sources.set(r.source.path, r.source);
    all.push(...r.diagnostics);
    if (r.text === undefined) continue;
    if (o.check) {
      if (r.text !== text) {
        all.push(diag('QP5004', undefined, { path: shown }));
        if (o.diff) io.stdout(unifiedDiff(shown, text, r.text));
      }
    } else if (stdin) io.stdout(r.text);
    else if (r.text !== text) {
      try {
        io.writeFile(f, r.text);
      } catch (e) {
        all.push(diag('QP5005', undefined, { path: f, reason: ioReason(e) }));
      }
    }
  }
  emit(io, o, all, sources);
  return exitCode(all, o.denyWarnings);
}

function runQuery(io: CliIo, o: Options): number {
  const [file, ...given] = o.files;
  const lines = [...given];
  if (o.requests !== undefined) {
    let text: string;
    const stdin = o.requests === STDIN_ARG;
    try {
      text = stdin ? readStdin(io) : io.host.readFile(o.requests);
    } catch (e) {
      emit(io, o, [diag('QP5001', undefined, { path: stdin ? STDIN_NAME : o.requests, reason: ioReason(e) })], new Map());
      return 2;
    }
    for (const l of text.split('\n')) if (l.trim() !== '' && !l.trim().startsWith('#')) lines.push(l.trim());
  }
  const r = check(file, { host: io.host, ...allowWaived(o) });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  // Answered whenever the policy binds (a failing `expect` or an open channel is when a
  // user most needs to ask); only a policy that does not bind has nothing to evaluate.
  if (!r.policy) {
    emit(io, o, r.diagnostics, r.sources);
    return exitCode(r.diagnostics, false) || 1;
  }
  const policy = r.policy;
  const bad: Diagnostic[] = [];
  const answers: { request: string; decision: ReturnType<typeof query>; rule?: QrexecRule; running?: ReturnType<typeof query> }[] = [];
  for (const line of lines) {
    const req = parseRequest(line, policy);
    if (typeof req === 'string') {
      bad.push(diag('QP5008', undefined, { request: line, reason: req }));
      continue;
    }
    const { halted: d, running } = queryStates(policy, req);
    answers.push({ request: line, decision: d, ...(d.rule !== undefined ? { rule: policy.rules[d.rule] } : {}), ...(running ? { running } : {}) });
  }
  if (o.format === 'json') {
    const fields = (d: ReturnType<typeof query>) => ({
      action: d.action,
      ...(d.target !== undefined ? { target: d.target } : {}),
      ...(d.targets !== undefined ? { targets: d.targets } : {}),
      ...(d.defaultTarget !== undefined ? { defaultTarget: d.defaultTarget } : {}),
      ...(d.user !== undefined ? { user: d.user } : {}),
      notify: d.notify,
      autostart: d.autostart,
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
    });
    const out = answers.map((a) => ({
      request: a.request,
      ...fields(a.decision),
      rule: a.rule
        ? { text: ruleText(a.rule), policyFile: `${a.rule.origin.policyFile}.policy`, stock: a.rule.origin.stock, id: a.rule.origin.id, file: a.rule.origin.span.file, line: a.rule.origin.span.line, column: a.rule.origin.span.column }
        : null,
      // The decision when the qubes the request names are running, where that differs (`no-autostart`).
      ...(a.running ? { whenRunning: fields(a.running) } : {}),
    }));
    io.stdout(JSON.stringify(out, null, 2) + '\n');
  } else {
    for (const a of answers) {
      io.stdout(`${a.request}: ${decisionText(a.decision)}\n`);
      if (a.rule) io.stdout(`  rule  ${ruleText(a.rule)}\n  in    ${ruleWhere(a.rule)}\n`);
      else io.stdout('  no rule matches: qrexec denies\n');
      if (a.running) io.stdout(`  when the qubes it names are running: ${decisionText(a.running)}\n`);
    }
  }
  emit(io, o, [...r.diagnostics, ...bad], r.sources);
  if (errors.length > 0) io.stderr(`qpc: the policy has ${errors.length === 1 ? 'an error' : `${errors.length} errors`} (above); the answers are for its rules as written, which \`qpc compile\` will not emit until they are fixed\n`);
  return bad.length > 0 ? 2 : errors.length > 0 ? 1 : 0;
}

/**
 * `qpc test`: every `expect` of each policy, evaluated as the check evaluates
 * it (a failed one is the check's QP3035), one line each on stdout and a
 * summary; the policies' other findings on stderr. Writes no lock file.
 */
function runTest(io: CliIo, o: Options): number {
  const suites: TestSuite[] = [];
  const shown: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  for (const f of o.files) {
    const entry = entryOf(io, f);
    if (isDiagnostic(entry)) {
      shown.push(entry);
      suites.push({ file: STDIN_NAME, cases: [], errors: 1 });
      continue;
    }
    const r = check(entry.name, { host: entry.host, ...allowWaived(o) });
    for (const [k, v] of r.sources) sources.set(k, v);
    // A failed expectation is reported as a failed test, not a second time as a finding.
    const others = r.diagnostics.filter((d) => d.code !== 'QP3035');
    shown.push(...others);
    const errors = others.filter((d) => d.severity === 'error' || (o.denyWarnings && d.severity === 'warning')).length;
    let cases: TestCase[];
    if (r.program && r.policy) cases = evaluateExpects(r.program, r.policy).map((x) => ({ status: x.passed ? 'passed' : 'failed', outcome: x, name: x.name, span: x.expect.span }));
    else cases = (r.program?.expects ?? []).map((e) => ({ status: 'not-run', name: expectName(e), span: e.span }));
    suites.push({ file: entry.name, cases, errors });
  }
  for (const s of suites) for (const c of s.cases) io.stdout(`${caseLine(c)}\n`);
  const t = totals(suites);
  emit(io, o, shown, sources);
  io.stdout(`${summaryText(t)}\n`);
  let written = true;
  if (o.junit !== undefined) {
    try {
      io.writeFile(o.junit, junitXml(suites));
    } catch (e) {
      written = false;
      emit(io, o, [diag('QP5005', undefined, { path: o.junit, reason: ioReason(e) })], new Map());
    }
  }
  const rc = exitCode(shown, o.denyWarnings);
  if (rc >= 2 || !written) return Math.max(rc, 2);
  return passed(t) ? 0 : 1;
}

/**
 * `qpc lint`: native policy files read as Qubes reads them, then analysed;
 * the findings as `check` renders them, and when none is an error a line
 * saying what was read.
 */
function runLint(io: CliIo, o: Options): number | Promise<number> {
  const r = lint(o.files, { host: io.host, ...(o.release ? { release: o.release } : {}), ...(o.systemInfo !== undefined ? { systemInfo: o.systemInfo } : {}) });
  emit(io, o, r.diagnostics, r.sources);
  if ('policy' in r && o.errorFormat !== 'json' && o.errorFormat !== 'sarif' && o.errorFormat !== 'gcc' && !r.diagnostics.some((d) => d.severity === 'error')) {
    const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
    const stock = r.policy.rules.filter((x) => x.origin.stock).length;
    io.stdout(`${o.files.join(' ')}: ok for Qubes ${r.policy.release} (${n(r.files.length, 'file', 'files')}, ${n(r.policy.rules.length, 'rule', 'rules')}, ${stock} of them stock)\n`);
  }
  const rc = exitCode(r.diagnostics, o.denyWarnings);
  const file = o.graphFile;
  if (file === undefined || !('policy' in r)) return rc;
  // The drawing of the rules as read, also when a finding is an error (the drawing colours it).
  const format = file.endsWith('.dot') ? 'dot' : file.endsWith('.json') ? 'json' : 'svg';
  return lintGraph(r, { format, title: o.files.map((f) => f.replace(/\/+$/, '').replace(/^.*\//, '')).join(' ') }).then(
    (text) => (io.writeFile(file, text), rc),
    (e: unknown) => failure(io, o, e),
  );
}

/**
 * `qpc import SNAPSHOT [-o POLICY.qpol] [--verify]`: the policy to standard
 * output or the file (never into the snapshot), what was not imported as
 * diagnostics, and with --verify every request decided differently with a
 * summary line; exit 1 for a difference no closing rule of a Tor identity makes.
 */
function runImport(io: CliIo, o: Options): number {
  const dir = o.files[0]!;
  if (o.output !== undefined) {
    const out = resolvePath(o.output);
    const snap = resolvePath(dir);
    if (out === snap || out.startsWith(snap.endsWith(pathSep) ? snap : snap + pathSep)) throw new UsageError(`\`-o ${o.output}\` is inside the snapshot \`${dir}\`: qpc import never writes into a snapshot`);
  }
  const r = importSnapshot(dir, { host: io.host, ...(o.noIdentities ? { noIdentities: true } : {}) });
  const sources = 'sources' in r ? r.sources : new Map<string, SourceFile>();
  emit(io, o, r.diagnostics, sources);
  if (!('text' in r) || r.text === undefined) return Math.max(exitCode(r.diagnostics, false), 2);
  if (o.output !== undefined) io.writeFile(o.output, r.text);
  else io.stdout(r.text);
  let rc = exitCode(r.diagnostics, o.denyWarnings);
  if (o.verify) {
    const v = verifyImport(dir, r.text, { host: io.host, ...(o.output !== undefined ? { path: o.output } : {}) });
    emit(io, o, v.diagnostics, 'check' in v && v.check ? v.check.sources : new Map());
    if (!('compared' in v)) return Math.max(rc, exitCode(v.diagnostics, false), 1);
    const closing = v.differences.filter((d) => d.documented).length;
    const other = v.differences.length - closing;
    io.stderr(`verify: ${v.compared} requests compared; ${v.differences.length} decide differently: ${closing} by the rules that close the Tor identities (documented), ${other} otherwise\n`);
    if (other > 0) rc = Math.max(rc, 1);
  }
  return rc;
}

/**
 * `qpc plan FILE --snapshot DIR | --system-info FILE`: the plan on standard
 * output (human, or JSON with --format json), the policy's and the
 * snapshot's findings on standard error. Terraform's detailed exit codes:
 * 0 nothing would change, 2 something would, 1 any error (or a problem that
 * would stop provision.sh).
 */
function runPlan(io: CliIo, o: Options): number {
  const file = o.files[0]!;
  const r = plan(file, { host: io.host, ...allowWaived(o), ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}), ...(o.systemInfo !== undefined ? { systemInfo: o.systemInfo } : {}) });
  emit(io, o, r.diagnostics, r.sources);
  if (!r.plan) return 1;
  const source = file.replace(/^.*[\\/]/, '');
  const human = renderPlan(r.plan, file, (o.snapshot ?? o.systemInfo)!);
  io.stdout(o.format === 'json' ? planJson(r.plan, source) : human);
  if (o.output !== undefined) {
    const text = r.provisionSha256 === undefined ? undefined : planFile(r.plan, human, r.provisionSha256);
    if (text === undefined) throw new Error('plan: no provision.sh or no snapshot state to write a plan file from');
    io.writeFile(o.output, text);
    io.stderr(`qpc: plan written to ${o.output}: with the output of \`qpc compile ${file}\` in dom0, \`sudo sh OUT/qubes/provision.sh --plan ${o.output} --only-changes\` applies it while the machine is in the state it was planned on\n`);
  }
  // plan writes nothing: a lock file that would change is said, and `qpc compile` writes it.
  if (r.lock?.changed) io.stderr(`qpc: ${r.lock.path} would change: the plan uses the SOCKS ports \`qpc compile\` allocates and records there\n`);
  if (r.plan.blockers.length > 0 || exitCode(r.diagnostics, o.denyWarnings) !== 0) return 1;
  return r.plan.changes ? 2 : 0;
}

function runExplain(io: CliIo, o: Options): number {
  if (o.files.length === 0) {
    for (const c of allCodes) io.stdout(`${c}  ${codes[c].severity.padEnd(7)}  ${codes[c].summary}\n`);
    return 0;
  }
  let rc = 0;
  for (const c of o.files) {
    const text = explain(c);
    if (text === undefined) {
      emit(io, o, [diag('QP5003', undefined, { code: c })], new Map());
      rc = 2;
    } else io.stdout(text);
  }
  return rc;
}

/** Runs the command line; returns the exit code (a promise of it for `compile`). Never throws. */
export function runCli(argv: readonly string[], io: CliIo): number | Promise<number> {
  const o = defaultOptions();
  try {
    const parsed = parseCommandLine(argv, o);
    if (parsed.kind === 'help') {
      io.stdout(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout(`qpc ${version}\n`);
      return 0;
    }
    if (o.diff && (o.errorFormat === 'json' || o.errorFormat === 'sarif')) throw new UsageError(`\`--diff\` prints to standard output, where \`--error-format ${o.errorFormat}\` writes its document: use one or the other`);
    switch (o.command) {
      case 'check':
        return runCheck(io, o);
      case 'compile':
        // Asynchronous only because the API's `compile` returns a promise; its work is synchronous.
        return runCompile(io, o).catch((e: unknown) => failure(io, o, e));
      case 'fmt':
        return runFmt(io, o);
      case 'explain':
        return runExplain(io, o);
      case 'query':
        return runQuery(io, o);
      case 'test':
        return runTest(io, o);
      case 'graph':
        return graph(o.files[0], { host: io.host, ...allowWaived(o), format: o.format === 'human' ? 'svg' : o.format, ...(o.view ? { view: o.view } : {}), ...(o.services ? { services: o.services } : {}), ...(o.templates ? { templates: true } : {}), ...(o.collapse ? { collapse: true } : {}) }).then((r) => (r.text === undefined ? (emit(io, o, r.diagnostics, r.sources), exitCode(r.diagnostics, false) || 1) : (o.output ? io.writeFile(o.output, r.text) : io.stdout(r.text), 0)), (e: unknown) => failure(io, o, e));
      case 'lint':
        return runLint(io, o);
      case 'import':
        return runImport(io, o);
      case 'plan':
        return runPlan(io, o);
      case 'snapshot':
        if (o.output !== undefined) io.writeFile(o.output, snapshotScript());
        else io.stdout(snapshotScript());
        return 0;
      case 'lsp': {
        // The language server speaks LSP on stdin/stdout until the client exits; loaded only here,
        // so the other commands do not pay for its libraries.
        const start = o.clientProcessId !== undefined ? { clientProcessId: o.clientProcessId } : {};
        void import('../lsp/server.js').then((m) => m.startServer(process.stdin, process.stdout, start));
        return 0;
      }
      default:
        throw new UsageError('no command given; try `qpc --help`');
    }
  } catch (e) {
    return failure(io, o, e);
  }
}

/** A usage error (exit 2) or a bug (exit 3), reported in the requested format. */
function failure(io: CliIo, o: Options, e: unknown): number {
  if (e instanceof UsageError) {
    const help = o.command !== undefined ? `run \`qpc help ${o.command}\` for its options` : 'run `qpc --help` for usage';
    emit(io, o, [diag('QP5002', undefined, { message: e.message }, { help })], new Map());
    // `qpc plan` exits 2 when something would change, so its usage errors exit 1, as Terraform's.
    return o.command === 'plan' ? 1 : 2;
  }
  emit(io, o, [diag('QP9001', undefined, { message: e instanceof Error ? e.message : String(e) }, { notes: ['this is a bug in qpc; please report it'] })], new Map());
  return 3;
}

/** The real process's streams, environment and file system. */
export function processIo(): CliIo {
  return {
    stdout: streamWriter(process.stdout, 'standard output'),
    stderr: streamWriter(process.stderr, 'standard error'),
    stdin: () => readBounded(0),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    host: nodeHost,
    output: nodeOutputFs,
    writeFile: replaceFile,
    cwd: process.cwd(),
  };
}

/** Set when writing to a standard stream failed other than by its reader going away: the exit code is then at least 2. */
let outputFailed = false;

function setExitCode(code: number): void {
  process.exitCode = outputFailed ? Math.max(code, 2) : code;
}

/**
 * Writes to a standard stream. When the reader goes away (EPIPE: `qpc
 * explain | head -1`), the rest of the output is dropped and the command ends
 * as it would have, with its own exit code. Any other write error is said
 * once on standard error and makes the exit code 2 (an I/O error).
 */
function streamWriter(stream: NodeJS.WriteStream, name: string): (s: string) => void {
  let open = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (!open) return;
    open = false;
    if (e.code === 'EPIPE') return;
    outputFailed = true;
    setExitCode(Number(process.exitCode ?? 0));
    if (stream !== process.stderr) process.stderr.write(`qpc: cannot write to ${name}: ${ioReason(e)}\n`);
  });
  return (s) => {
    if (open) stream.write(s);
  };
}

/** Runs the command line in this process and sets its exit code. */
export function main(): void {
  const code = runCli(process.argv.slice(2), processIo());
  if (typeof code === 'number') setExitCode(code);
  else void code.then(setExitCode);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
