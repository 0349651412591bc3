/**
 * `qpc lint DIR|FILE…`: native qrexec policy files of an existing dom0, read
 * as Qubes' loader reads them (read.ts: what it would refuse, QP6xxx), then
 * analysed as qpc analyses its own policies (analyse.ts), over the qubes of
 * `--system-info` or, without it, the qubes the rules name.
 */
import { sortDiagnostics, DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.js';
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
  /** What reading the system information reported (a snapshot directory's missing pieces): shown with the findings. */
  readonly infoDiagnostics?: readonly Diagnostic[];
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

/** Reads the files and analyses them. Never throws on any input. */
export function lintNative(paths: readonly string[], opts: LintOptions): LintResult {
  const info = opts.info;
  const given = opts.infoDiagnostics ?? [];
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
