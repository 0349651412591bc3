/**
 * The `qpc` command line: arguments → compiler API → rendered diagnostics →
 * exit code. Standard streams and files come in through `CliIo`, so tests run
 * it in-process. Exit codes: 0 ok, 1 policy errors, 2 usage or I/O, 3 internal.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { check, explain, format, allCodes, codes, nodeHost, type CompilerHost, type Diagnostic, SourceFile } from '../index.js';
import { diag } from '../diagnostics/diagnostic.js';
import { isCode, waiverClass } from '../diagnostics/codes.js';
import { ioReason } from '../host.js';
import { notPolicyReason } from '../passes/load-files.js';
import { errorFormats, isErrorFormat, render, type ErrorFormat } from '../diagnostics/render.js';
import { summaryLine } from '../diagnostics/render-text.js';
import { decisionText, parseRequest, query, queryStates, ruleText, ruleWhere } from '../qrexec/query.js';
import type { QrexecRule } from '../qrexec/types.js';

import { version } from '../version.js';
import { compile } from '../index.js';
import { diffOutput, nodeOutputFs, replaceFile, writeOutput, type OutputFs } from './output.js';
import type { CheckResult } from '../index.js';

export { version };

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Reads standard input whole (for `qpc fmt -`). */
  readonly stdin: () => string;
  /** Whether stderr is a terminal (colour). */
  readonly isTTY: boolean;
  readonly host: CompilerHost;
  /** Replaces a file's contents atomically. */
  readonly writeFile: (path: string, text: string) => void;
  /** The output directory of `compile`. */
  readonly output: OutputFs;
}

const usage = `qpc ${version} — the Qubes-Whonix policy compiler

usage:
  qpc check FILE...            check policies (each FILE is the entry of a policy set);
                               allocates SOCKS ports and updates FILE.lock
  qpc compile FILE -o DIR      check, then write every artifact into DIR (replaced as a whole,
                               only when there is no error); --target LIST picks targets
                               (qrexec, whonix, provision, xen); --check compares instead
  qpc fmt [--check] FILE...    format files in place (FILE - reads stdin, writes stdout)
  qpc query FILE REQUEST...     evaluate requests ('SERVICE[+ARG] SOURCE TARGET') against
                               the complete policy, stock files included, and name the
                               deciding rule; --requests FILE (or -) reads one per line
  qpc explain [QPnnnn]         explain a diagnostic code, or list all codes
  qpc lsp [--stdio]            run the language server on stdin/stdout (for editors)

options:
  --error-format FORMAT        human (default), plain, json, gcc or sarif
  --deny-warnings              treat warnings as errors (exit 1)
  --allow-waived CODE          let the policy's waivers of CODE count, for a code of waiver
                               class explicit (repeatable; qpc explain CODE shows the class)
  --frozen                     refuse to change a lock file (exit 1 if it would change)
  -o, --output DIR             compile: the output directory
  --target LIST                compile: comma-separated targets (default: all)
  --format human|json          output of query (default human)
  --requests FILE              query: read requests from FILE, one per line (- for stdin)
  --color auto|always|never    colour in human output (auto: only on a terminal)
  -h, --help                   this text
  -V, --version                the version

exit codes: 0 ok, 1 policy errors (or unformatted files with fmt --check),
            2 usage or I/O error, 3 internal error
`;

interface Options {
  command?: string;
  files: string[];
  errorFormat: ErrorFormat;
  denyWarnings: boolean;
  color: 'auto' | 'always' | 'never';
  check: boolean;
  frozen: boolean;
  format: 'human' | 'json';
  requests?: string;
  output?: string;
  targets?: string[];
  /** `--allow-waived`: explicit-class codes whose waivers in the policy count. */
  allowWaived?: string[];
  /** `qpc lsp --stdio`: the transport vscode-languageclient asks for; stdio is the only one. */
  stdio?: boolean;
}

class UsageError extends Error {}

/** The code `--allow-waived` names: one whose waiver class is `explicit` (an `author` waiver needs no flag, a `never` one is not waived). */
function allowWaivedCode(v: string): string {
  const c = v.trim().toUpperCase();
  if (!isCode(c)) throw new UsageError(`\`--allow-waived ${v}\`: \`${v}\` is not a qpc diagnostic code`);
  const cls = waiverClass(c);
  if (cls === 'author') throw new UsageError(`\`--allow-waived ${c}\`: ${c} is waived by the policy alone; the flag is for codes of waiver class explicit`);
  if (cls === 'never') throw new UsageError(`\`--allow-waived ${c}\`: ${c} cannot be waived`);
  return c;
}

function parseArgs(argv: readonly string[]): Options | 'help' | 'version' {
  const o: Options = { files: [], errorFormat: 'human', denyWarnings: false, color: 'auto', check: false, frozen: false, format: 'human' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name: string): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`\`${name}\` needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') return 'help';
    if (a === '-V' || a === '--version') return 'version';
    if (a === '--error-format' || a.startsWith('--error-format=')) {
      const v = value('--error-format');
      if (!isErrorFormat(v)) throw new UsageError(`unknown error format \`${v}\`; expected ${errorFormats.join(', ')}`);
      o.errorFormat = v;
    } else if (a === '--color' || a.startsWith('--color=')) {
      const v = value('--color');
      if (v !== 'auto' && v !== 'always' && v !== 'never') throw new UsageError(`unknown colour mode \`${v}\`; expected auto, always or never`);
      o.color = v;
    } else if (a === '--deny-warnings') o.denyWarnings = true;
    else if (a === '--check') o.check = true;
    else if (a === '--frozen') o.frozen = true;
    else if (a === '--format' || a.startsWith('--format=')) {
      const v = value('--format');
      if (v !== 'human' && v !== 'json') throw new UsageError(`unknown format \`${v}\`; expected human or json`);
      o.format = v;
    } else if (a === '--requests' || a.startsWith('--requests=')) o.requests = value('--requests');
    else if (a === '-o' || a === '--output' || a.startsWith('--output=')) o.output = value('--output');
    else if (a === '--target' || a.startsWith('--target=')) o.targets = [...(o.targets ?? []), ...value('--target').split(',').map((x) => x.trim()).filter((x) => x !== '')];
    else if (a === '--stdio') o.stdio = true;
    else if (a === '--allow-waived' || a.startsWith('--allow-waived=')) o.allowWaived = [...(o.allowWaived ?? []), allowWaivedCode(value('--allow-waived'))];
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option \`${a}\``);
    else if (o.command === undefined) o.command = a;
    else o.files.push(a);
  }
  if (o.stdio && o.command !== 'lsp') throw new UsageError('`--stdio` is an option of `qpc lsp` only');
  return o;
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
    io.stdout(render(o.errorFormat, ds, sources, { color: false, toolVersion: version }));
    return;
  }
  if (ds.length === 0) return;
  const color = o.errorFormat === 'human' && (o.color === 'always' || (o.color === 'auto' && io.isTTY));
  io.stderr(render(o.errorFormat, ds, sources, { color, toolVersion: version }));
  io.stderr(`${summaryLine(ds)}\n`);
}

/**
 * Writes the lock file when the allocations changed and nothing is wrong;
 * under `--frozen`, reports the change instead (QP5006). With `write` false
 * it only reports, for a caller that writes once its own writing succeeded.
 */
function settleLock(io: CliIo, o: Options, r: CheckResult, write = true): Diagnostic[] {
  if (!r.lock?.changed || r.diagnostics.some((d) => d.severity === 'error')) return [];
  if (o.frozen) return [diag('QP5006', undefined, { path: r.lock.path }, { help: 'run qpc without `--frozen`, review the change and commit the lock file' })];
  if (!write || (o.command === 'compile' && o.check)) return [];
  try {
    io.writeFile(r.lock.path, r.lock.text);
    return [];
  } catch (e) {
    return [diag('QP5005', undefined, { path: r.lock.path, reason: ioReason(e) })];
  }
}

async function runCompile(io: CliIo, o: Options): Promise<number> {
  const file = o.files[0];
  const dir = o.output!;
  const r = await compile(file, { host: io.host, ...(o.targets ? { targets: o.targets } : {}), ...(o.allowWaived ? { allowWaived: o.allowWaived } : {}) });
  const ds: Diagnostic[] = [...r.diagnostics];
  if (r.artifacts) {
    // The lock changes only once the artifacts it allocated for are written: a compile that
    // reports an error writes nothing (under --frozen, a lock change is that error).
    ds.push(...settleLock(io, o, r, false));
    if (!ds.some((d) => d.severity === 'error')) {
      if (o.check) {
        for (const d of diffOutput(io.output, dir, r.artifacts)) ds.push(diag('QP5010', undefined, { path: d.path, change: d.change }, { help: 'run `qpc compile` without `--check` and review the difference' }));
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
  if (o.files.length === 0) throw new UsageError('`qpc check` needs at least one FILE');
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  const seen = new Set<string>();
  for (const f of o.files) {
    const r = check(f, { host: io.host, ...(o.allowWaived ? { allowWaived: o.allowWaived } : {}) });
    for (const [k, v] of r.sources) sources.set(k, v);
    const ds = [...r.diagnostics, ...settleLock(io, o, r)];
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
      io.stdout(`${f}: ok (${parts.join(', ')})\n`);
    }
  }
  emit(io, o, all, sources);
  return exitCode(all, o.denyWarnings);
}

function runFmt(io: CliIo, o: Options): number {
  if (o.files.length === 0) throw new UsageError('`qpc fmt` needs at least one FILE (or - for standard input)');
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceFile>();
  for (const f of o.files) {
    let text: string;
    try {
      text = f === '-' ? io.stdin() : io.host.readFile(f);
    } catch (e) {
      all.push(diag('QP5001', undefined, { path: f, reason: ioReason(e) }));
      continue;
    }
    const r = format(f === '-' ? '<stdin>' : f, text);
    // A file that does not parse and does not look like a policy (a link to
    // a secret, say) is reported without quoting any of it.
    const hidden = r.text === undefined && f !== '-' ? notPolicyReason(f, io.host.realPath?.(f) ?? f, text) : undefined;
    if (hidden !== undefined) {
      all.push(diag('QP5001', undefined, { path: f, reason: hidden }));
      continue;
    }
    sources.set(r.source.path, r.source);
    all.push(...r.diagnostics);
    if (r.text === undefined) continue;
    if (f === '-') {
      if (!o.check) io.stdout(r.text);
      else if (r.text !== text) all.push(diag('QP5004', undefined, { path: '<stdin>' }));
    } else if (r.text !== text) {
      if (o.check) all.push(diag('QP5004', undefined, { path: f }));
      else {
        try {
          io.writeFile(f, r.text);
        } catch (e) {
          all.push(diag('QP5005', undefined, { path: f, reason: ioReason(e) }));
        }
      }
    }
  }
  emit(io, o, all, sources);
  return exitCode(all, o.denyWarnings);
}

function runQuery(io: CliIo, o: Options): number {
  const [file, ...given] = o.files;
  if (file === undefined || (given.length === 0 && o.requests === undefined)) throw new UsageError('`qpc query` needs FILE and at least one request (or --requests FILE)');
  const lines = [...given];
  if (o.requests !== undefined) {
    let text: string;
    try {
      text = o.requests === '-' ? io.stdin() : io.host.readFile(o.requests);
    } catch (e) {
      emit(io, o, [diag('QP5001', undefined, { path: o.requests, reason: ioReason(e) })], new Map());
      return 2;
    }
    for (const l of text.split('\n')) if (l.trim() !== '' && !l.trim().startsWith('#')) lines.push(l.trim());
  }
  const r = check(file, { host: io.host, ...(o.allowWaived ? { allowWaived: o.allowWaived } : {}) });
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
  let o: Options | 'help' | 'version';
  try {
    o = parseArgs(argv);
    if (o === 'help') {
      io.stdout(usage);
      return 0;
    }
    if (o === 'version') {
      io.stdout(`qpc ${version}\n`);
      return 0;
    }
    switch (o.command) {
      case 'check':
        return runCheck(io, o);
      case 'compile':
        if (o.files.length !== 1) throw new UsageError('`qpc compile` needs exactly one FILE (the entry of the policy set)');
        if (o.output === undefined) throw new UsageError('`qpc compile` needs an output directory: `-o DIR`');
      {
        // Asynchronous: the targets are loaded only for this command.
        const opts = o;
        return runCompile(io, opts).catch((e: unknown) => failure(io, opts, e));
      }
      case 'fmt':
        return runFmt(io, o);
      case 'explain':
        return runExplain(io, o);
      case 'query':
        return runQuery(io, o);
      case 'lsp':
        // The language server speaks LSP on stdin/stdout until the client exits; loaded only here,
        // so the other commands do not pay for its libraries.
        void import('../lsp/server.js').then((m) => m.startServer(process.stdin, process.stdout));
        return 0;
      case undefined:
        throw new UsageError('no command given; try `qpc --help`');
      default:
        throw new UsageError(`unknown command \`${o.command}\`; expected check, compile, fmt, query, explain or lsp`);
    }
  } catch (e) {
    return failure(io, typeof o! === 'object' ? (o as Options) : undefined, e);
  }
}

/** A usage error (exit 2) or a bug (exit 3), reported in the requested format. */
function failure(io: CliIo, o: Options | undefined, e: unknown): number {
  const opts: Options = o ?? { files: [], errorFormat: 'human', denyWarnings: false, color: 'auto', check: false, frozen: false, format: 'human' };
  if (e instanceof UsageError) {
    emit(io, opts, [diag('QP5002', undefined, { message: e.message }, { help: 'run `qpc --help` for usage' })], new Map());
    return 2;
  }
  emit(io, opts, [diag('QP9001', undefined, { message: e instanceof Error ? e.message : String(e) }, { notes: ['this is a bug in qpc; please report it'] })], new Map());
  return 3;
}

/** The real process's streams and file system. */
export function processIo(): CliIo {
  return {
    stdout: streamWriter(process.stdout, 'standard output'),
    stderr: streamWriter(process.stderr, 'standard error'),
    stdin: () => readFileSync(0, 'utf8'),
    isTTY: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    host: nodeHost,
    output: nodeOutputFs,
    writeFile: replaceFile,
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
