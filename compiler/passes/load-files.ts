/**
 * Loads a policy set: parses the entry file and every file it `use`s,
 * standard library modules included, depth first in `use` order.
 * Emits QP2005 (unknown module), QP2006 (unreadable import, or one that is
 * not a policy), QP2007 (cycle), and the parser's QP1xxx.
 *
 * A file that does not parse is quoted in diagnostics only when it looks
 * like a policy (`looksLikePolicy`). Any other file, such as `/etc/passwd`
 * or a link named `x.qpol` to a file of secrets, is reported at the `use`
 * without a word of its text: a policy under review must not be able to
 * print a file of the machine that checks it into the build log.
 */
import * as path from 'node:path';
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { suggestion } from '../diagnostics/suggest.js';
import { ioReason, nodeHost, standardLibraryDir, standardLibraryPath, type CompilerHost } from '../host.js';
import { SourceFile } from '../source.js';
import type { PolicyFile, UseStatement } from '../syntax/ast.js';
import { cachedStdlibTree } from '../stdlib-cache.js';
import { parseFile } from '../syntax/parse.js';

/** The standard library modules `use "NAME"` accepts. */
export const standardModules = ['qubes', 'whonix'] as const;

export interface LoadedFile {
  readonly source: SourceFile;
  readonly ast?: PolicyFile;
  /** True for standard library modules. */
  readonly std: boolean;
}

export interface LoadedSet {
  /** Every file read, in load order (imports before importers). */
  readonly files: readonly LoadedFile[];
  /** Sources by display path, for renderers. */
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** Why the entry file is not a policy, when it is not one (then nothing else is loaded; the caller reports it). */
  readonly notPolicy?: string;
}

/**
 * Whether a file that does not parse may be quoted: the file it is (symbolic
 * links resolved) is named `*.qpol`, and it holds no NUL character, which no
 * text file has (`/proc/self/environ` and binary files do).
 */
export function looksLikePolicy(realName: string, text: string): boolean {
  return realName.endsWith('.qpol') && !text.includes('\0');
}

/**
 * Why a file that does not parse is not taken for a policy, or undefined when
 * it looks like one: the reason of the QP2006 or QP5001 reported instead of
 * its syntax errors. `name` is the path as written, `realName` the file it
 * leads to.
 */
export function notPolicyReason(name: string, realName: string, text: string): string | undefined {
  if (looksLikePolicy(realName, text)) return undefined;
  const why = text.includes('\0') ? 'holds NUL characters' : name.endsWith('.qpol') ? 'is a link to a file not named `*.qpol`' : 'is not named `*.qpol`';
  return `not a qpc policy (it does not parse and ${why}; its text is not shown)`;
}

/** Whether a `use` path names a file rather than a standard library module. */
export function isFileImport(p: string): boolean {
  return p.startsWith('./') || p.startsWith('../') || p.startsWith('/');
}

/**
 * The display path of a file of the policy's own: as given, but never one the
 * standard library's files are shown by (`policies/qubes.qpol`): a file of
 * the user's at that relative path is shown as `./policies/qubes.qpol`, so
 * that its spans are never read in the library's file.
 */
export function ownDisplay(display: string): string {
  return display.startsWith('policies/') ? `./${display}` : display;
}

/** Loads the entry file and its imports. The entry must be readable (the caller checks). */
export function loadFiles(entryPath: string, entryText: string, host: CompilerHost, ctx: Reporter): LoadedSet {
  const files: LoadedFile[] = [];
  const sources = new Map<string, SourceFile>();
  const done = new Set<string>();
  /** Files being loaded, importer before imported: an explicit stack, so import depth is not limited by the call stack. */
  const stack: { key: string; source: SourceFile; std: boolean; ast?: PolicyFile; uses: UseStatement[]; next: number }[] = [];
  const onStack = new Set<string>();

  /** Parses a file and puts it on the stack; returns why not when it does not parse and is not a policy. */
  const open = (key: string, source: SourceFile, std: boolean, realName: string): string | undefined => {
    // The standard library's trees usually come ready from the build.
    const tree = std ? cachedStdlibTree(source) : undefined;
    const parsed = tree ? { ast: tree, diagnostics: [] } : parseFile(source);
    if (!std && parsed.diagnostics.some((d) => d.severity === 'error')) {
      const reason = notPolicyReason(source.path, realName, source.text);
      if (reason !== undefined) return reason;
    }
    for (const d of parsed.diagnostics) ctx.report(d);
    sources.set(source.path, source);
    const uses = parsed.ast ? parsed.ast.statements.filter((st): st is UseStatement => st.kind === 'UseStatement') : [];
    stack.push({ key, source, std, ...(parsed.ast ? { ast: parsed.ast } : {}), uses, next: 0 });
    onStack.add(key);
    return undefined;
  };

  const follow = (use: UseStatement, from: SourceFile, fromStd: boolean): void => {
    const p = use.path.value;
    let key: string;
    let display: string;
    let read: () => string;
    let realName = '';
    let std = false;
    if (isFileImport(p)) {
      // An absolute path names the same file from every importer; a relative one is resolved from the importer's directory.
      display = path.normalize(path.isAbsolute(p) ? p : path.join(path.dirname(from.path), p)).split(path.sep).join('/');
      if (!fromStd) display = ownDisplay(display);
      key = fromStd ? `std:${display}` : path.resolve(display);
      const h = fromStd ? nodeHost : host;
      const real = fromStd ? path.join(standardLibraryDir(), path.relative('policies', display)) : display;
      read = () => h.readFile(real);
      if (!fromStd) realName = host.realPath?.(real) ?? real;
      std = fromStd;
    } else {
      if (!(standardModules as readonly string[]).includes(p)) {
        const s = suggestion(p, standardModules, use.path.span, (m) => JSON.stringify(m));
        const help = s.help ?? (p.endsWith('.qpol') ? `a file of your own is imported with a relative path: \`use "./${p}"\`` : `the standard library has ${standardModules.map((m) => `\`${m}\``).join(' and ')}`);
        ctx.report(diag('QP2005', use.path.span, { name: p }, { help, fixes: s.fixes }));
        return;
      }
      display = standardLibraryPath(p);
      key = `std:${display}`;
      read = () => nodeHost.readFile(path.join(standardLibraryDir(), `${p}.qpol`));
      std = true;
    }
    if (onStack.has(key)) {
      const from = stack.findIndex((f) => f.key === key);
      const cycle = [...stack.slice(from).map((f) => displayOf(f.key)), display].join(' → ');
      ctx.report(diag('QP2007', use.span, { cycle }, { label: "this import closes the cycle" }));
      return;
    }
    if (done.has(key)) return;
    let text: string;
    try {
      text = read();
    } catch (e) {
      ctx.report(diag('QP2006', use.path.span, { path: p, reason: ioReason(e) }));
      return;
    }
    const notPolicy = open(key, new SourceFile(display, text), std, realName);
    if (notPolicy !== undefined) {
      ctx.report(diag('QP2006', use.path.span, { path: p, reason: notPolicy }));
      return;
    }
    keyDisplay.set(key, display);
  };

  const keyDisplay = new Map<string, string>();
  const displayOf = (k: string): string => keyDisplay.get(k) ?? k;
  const entryKey = path.resolve(entryPath);
  const entryDisplay = ownDisplay(entryPath);
  keyDisplay.set(entryKey, entryDisplay);
  const notPolicy = open(entryKey, new SourceFile(entryDisplay, entryText), false, host.realPath?.(entryPath) ?? entryPath);
  if (notPolicy !== undefined) return { files, sources, notPolicy };
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.uses.length) {
      follow(top.uses[top.next++], top.source, top.std);
      continue;
    }
    stack.pop();
    onStack.delete(top.key);
    done.add(top.key);
    files.push({ source: top.source, ...(top.ast ? { ast: top.ast } : {}), std: top.std });
  }
  return { files, sources };
}

