/**
 * Loads a policy set: parses the entry file and every file it `use`s,
 * standard library modules included, depth first in `use` order.
 * Emits QP2005 (unknown module), QP2006 (unreadable import), QP2007 (cycle),
 * and the parser's QP1xxx.
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
}

/** Whether a `use` path names a file rather than a standard library module. */
export function isFileImport(p: string): boolean {
  return p.startsWith('./') || p.startsWith('../') || p.startsWith('/');
}

/** Loads the entry file and its imports. The entry must be readable (the caller checks). */
export function loadFiles(entryPath: string, entryText: string, host: CompilerHost, ctx: Reporter): LoadedSet {
  const files: LoadedFile[] = [];
  const sources = new Map<string, SourceFile>();
  const done = new Set<string>();
  /** Files being loaded, importer before imported: an explicit stack, so import depth is not limited by the call stack. */
  const stack: { key: string; source: SourceFile; std: boolean; ast?: PolicyFile; uses: UseStatement[]; next: number }[] = [];
  const onStack = new Set<string>();

  const open = (key: string, source: SourceFile, std: boolean): void => {
    // The standard library's trees usually come ready from the build.
    const tree = std ? cachedStdlibTree(source) : undefined;
    const parsed = tree ? { ast: tree, diagnostics: [] } : parseFile(source);
    for (const d of parsed.diagnostics) ctx.report(d);
    sources.set(source.path, source);
    const uses = parsed.ast ? parsed.ast.statements.filter((st): st is UseStatement => st.kind === 'UseStatement') : [];
    stack.push({ key, source, std, ...(parsed.ast ? { ast: parsed.ast } : {}), uses, next: 0 });
    onStack.add(key);
  };

  const follow = (use: UseStatement, from: SourceFile, fromStd: boolean): void => {
    const p = use.path.value;
    let key: string;
    let display: string;
    let read: () => string;
    let std = false;
    if (isFileImport(p)) {
      display = path.normalize(path.join(path.dirname(from.path), p)).split(path.sep).join('/');
      key = fromStd ? `std:${display}` : path.resolve(display);
      const h = fromStd ? nodeHost : host;
      const real = fromStd ? path.join(standardLibraryDir(), path.relative('policies', display)) : display;
      read = () => h.readFile(real);
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
    keyDisplay.set(key, display);
    open(key, new SourceFile(display, text), std);
  };

  const keyDisplay = new Map<string, string>();
  const displayOf = (k: string): string => keyDisplay.get(k) ?? k;
  const entryKey = path.resolve(entryPath);
  keyDisplay.set(entryKey, entryPath);
  open(entryKey, new SourceFile(entryPath, entryText), false);
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

