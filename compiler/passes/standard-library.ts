/**
 * What the standard library declares and which stock policy files it
 * models, for binding: the help of an unknown name (`add use "whonix"`) and
 * the module a `stock` block belongs to. Read from the package (it is part
 * of qpc, not of the policy set), once per process.
 */
import * as path from 'node:path';
import { nodeHost, standardLibraryDir, standardLibraryPath } from '../host.js';
import type { Program } from '../program.js';
import { SourceFile } from '../source.js';
import { cachedStdlibTree } from '../stdlib-cache.js';
import { parseFile } from '../syntax/parse.js';
import { isFileImport, standardModules } from './load-files.js';
import { substitute, type Resolver } from './names.js';

const declCache = new Map<string, readonly string[]>();

/** Names a standard library module declares (with `$whonix` unreplaced); none when it cannot be read. */
export function standardDeclarations(module: string): readonly string[] {
  let names = declCache.get(module);
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
    declCache.set(module, names);
  }
  return names;
}

let stockCache: ReadonlyMap<string, string> | undefined;

/**
 * The stock policy files the standard library models (any release), each to
 * the module that models it: the module's file and the files it imports with
 * a relative `use`, whether or not a policy loads the module.
 */
export function standardStockModules(): ReadonlyMap<string, string> {
  if (stockCache) return stockCache;
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
  return (stockCache = out);
}

/**
 * The resolver the checks of binding name things with: the program, the
 * standard library modules it loads, and (built when first asked) every name
 * the standard library declares, `$whonix` replaced, to its module.
 */
export function resolverFor(program: Program, usedModules: ReadonlySet<string>): Resolver {
  let std: Map<string, string> | undefined;
  return {
    program,
    usedModules,
    stdNames: () => {
      if (!std) {
        std = new Map();
        for (const mod of standardModules) for (const n of standardDeclarations(mod)) std.set(substitute(n, program.settings.whonix), mod);
      }
      return std;
    },
  };
}
