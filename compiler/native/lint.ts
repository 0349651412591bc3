/**
 * `qpc lint DIR|FILE…`: native qrexec policy files of an existing dom0, read
 * as Qubes' loader reads them (read.ts: what it would refuse, QP6xxx), then
 * analysed as qpc analyses its own policies (analyse.ts), over the qubes of
 * `--system-info` or, without it, the qubes the rules name.
 */
import { diag, sortDiagnostics, DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { ioReason } from '../host.js';
import type { SourceFile } from '../source.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from '../qrexec/types.js';
import { ruleTokens, singledOut } from '../qrexec/token.js';
import { analyseNative, type NativePolicy } from './analyse.js';
import { readNativePolicy, type NativeHost, type Rejection } from './read.js';

export interface LintOptions {
  readonly host: NativeHost;
  readonly release: QubesRelease;
  /** The machine's qubes (`--system-info`); without it, {@link inferredSystemInfo}. */
  readonly info?: SystemInfo;
  /**
   * A `--system-info` path to read instead of `info`: a file, read with
   * `parse` (the JSON of `internal.GetSystemInfo`), or a directory, read
   * with `snapshot` (what `qpc snapshot` recorded), which also returns what
   * it found missing.
   */
  readonly systemInfo?: {
    readonly path: string;
    readonly parse: (text: string) => SystemInfo | { readonly error: string };
    readonly snapshot?: (dir: string) => { readonly info?: SystemInfo; readonly diagnostics: readonly Diagnostic[] };
  };
  /** The stock files of the release as the standard library models them (see `NativeReadOptions.stock`). */
  readonly stock?: ReadonlyMap<string, readonly QrexecRule[]>;
}

export interface LintResult {
  /** Sorted. */
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** The top-level files read, in order. */
  readonly files: readonly string[];
  readonly policy: NativePolicy;
  /** What makes dom0 refuse the policy, first what dom0 reports; empty when dom0 loads it. */
  readonly rejections: readonly Rejection[];
}

/**
 * The qubes a policy's rules name, as `internal.GetSystemInfo` would list
 * them when nothing else is known: dom0 (AdminVM, running); every qube a
 * rule names by name in any column, as a halted AppVM without tags and
 * without a default disposable; and every Q of `@dispvm:Q`, also a disposable
 * template (`template_for_dispvms`). Tags, classes, default disposables and
 * which qubes run are not in the policy files: decisions that depend on them
 * need `--system-info`.
 */
export function inferredSystemInfo(rules: readonly QrexecRule[], release: QubesRelease): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  domains.set('dom0', { name: 'dom0', type: 'AdminVM', tags: [], defaultDispvm: null, templateForDispvms: false, running: true });
  const add = (name: string, dvm: boolean) => {
    const had = domains.get(name);
    if (had !== undefined) {
      if (dvm && !had.templateForDispvms && had.type !== 'AdminVM') domains.set(name, { ...had, templateForDispvms: true });
      return;
    }
    domains.set(name, { name, type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: dvm, running: false });
  };
  for (const r of rules) {
    const t = ruleTokens(r, release);
    for (const tok of [t.source, t.target, t.redirect, t.defaultTarget]) {
      if (tok === undefined || tok.dom0) continue;
      const name = singledOut(tok);
      if (name !== undefined && name !== '') add(name, tok.kind === 'dispvm-of');
    }
  }
  return { domains };
}

/** Reads `--system-info`, or says why it cannot (QP5001): the qubes, and what a snapshot directory lacked. */
function systemInfoFile(host: NativeHost, file: NonNullable<LintOptions['systemInfo']>): { info?: SystemInfo; diagnostics: readonly Diagnostic[] } {
  let text: string;
  try {
    text = host.readFile(file.path);
  } catch (e) {
    if ((e as { code?: string }).code === 'EISDIR' && file.snapshot !== undefined) {
      const r = file.snapshot(file.path);
      // Not a snapshot at all: one finding, not one per file a snapshot would have.
      return r.info !== undefined ? r : { diagnostics: [diag('QP5001', undefined, { path: file.path, reason: 'a directory, but not one `qpc snapshot` recorded (it has no snapshot header `version`)' })] };
    }
    return { diagnostics: [diag('QP5001', undefined, { path: file.path, reason: ioReason(e) })] };
  }
  const parsed = file.parse(text);
  if ('error' in parsed) return { diagnostics: [diag('QP5001', undefined, { path: file.path, reason: `not the JSON of internal.GetSystemInfo, nor a directory \`qpc snapshot\` recorded: ${parsed.error}` })] };
  return { info: parsed, diagnostics: [] };
}

/**
 * Reads the files and analyses them. Never throws on any input. A
 * `--system-info` that cannot be read stops before the files are read: the
 * result then has no policy.
 */
export function lintNative(paths: readonly string[], opts: LintOptions): LintResult | { readonly diagnostics: readonly Diagnostic[]; readonly sources: ReadonlyMap<string, SourceFile> } {
  let info = opts.info;
  let given: readonly Diagnostic[] = [];
  if (opts.systemInfo !== undefined) {
    const r = systemInfoFile(opts.host, opts.systemInfo);
    if (r.info === undefined) return { diagnostics: sortDiagnostics(r.diagnostics), sources: new Map() };
    info = r.info;
    given = r.diagnostics;
  }
  const read = readNativePolicy(paths, opts.host, opts.release, opts.stock ? { stock: opts.stock } : {});
  const policy: NativePolicy = {
    rules: read.rules,
    info: info ?? inferredSystemInfo(read.rules, opts.release),
    release: opts.release,
    ...(info === undefined ? { infoInferred: true } : {}),
  };
  const bag = new DiagnosticBag();
  analyseNative(policy, bag);
  const analysed = bag.items.map((d) => (d.stage === undefined ? { ...d, stage: 'graph' as const } : d));
  return { diagnostics: sortDiagnostics([...given, ...read.diagnostics, ...analysed]), sources: read.sources, files: read.files, policy, rejections: read.rejections };
}
