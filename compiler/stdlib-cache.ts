/**
 * The standard library's syntax trees, prepared by the build (DESIGN §7,
 * start-up). In a fresh process peggy takes about 60 ms to parse the
 * standard library (its code is not compiled yet); reading the same trees
 * as JSON takes about 5. `npm run build` writes `dist/stdlib.ast.json`, and a
 * tree from it is used only while the file's text is the one it was made
 * from and the parser is the one that made it (the generated parser and the
 * node builders, by their sha256), so an edited standard library or grammar
 * is simply parsed again.
 *
 * Run as a program (`node dist/compiler/stdlib-cache.js`) it writes the file.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256 } from './hash.js';
import { standardLibraryDir } from './host.js';
import { SourceFile } from './source.js';
import type { PolicyFile } from './syntax/ast.js';
import { parseFile } from './syntax/parse.js';

export interface CacheFile {
  readonly version: 1;
  /** The parser the trees were made with: {@link parserFingerprint}. */
  readonly parser: string;
  /** By display path (`policies/qubes.qpol`). */
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly ast: PolicyFile }>>;
}

/** Beside the compiled compiler: `dist/stdlib.ast.json`. */
const cachePath = fileURLToPath(new URL('../stdlib.ast.json', import.meta.url));

let cache: CacheFile | null | undefined;

/** The parser's own files: the generated parser and the builders its actions call (`.js` when compiled, `.ts` from the sources). */
const parserFiles = [new URL('../grammar/generated/parser.js', import.meta.url), new URL('./syntax/builders.js', import.meta.url), new URL('./syntax/builders.ts', import.meta.url)];

let fingerprint: string | undefined;

/** The sha256 of the parser's files as installed: trees made by another parser are not used. */
export function parserFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const texts: string[] = [];
  for (const u of parserFiles) {
    try {
      texts.push(readFileSync(fileURLToPath(u), 'utf8'));
    } catch {
      texts.push(''); // the other form of the builders
    }
  }
  fingerprint = sha256(texts.join('\0'));
  return fingerprint;
}

function load(): CacheFile | null {
  if (cache !== undefined) return cache;
  try {
    const c = JSON.parse(readFileSync(cachePath, 'utf8')) as CacheFile;
    cache = c.version === 1 && c.parser === parserFingerprint() && typeof c.files === 'object' && c.files !== null ? c : null;
  } catch {
    cache = null; // no build cache (running from the sources): parse
  }
  return cache;
}

/** The tree a cache holds for exactly this file and text, if any. */
export function treeFrom(c: CacheFile | null, source: SourceFile): PolicyFile | undefined {
  if (c === null || c.parser !== parserFingerprint()) return undefined;
  const entry = c.files[source.path];
  if (entry === undefined || entry.sha256 !== sha256(source.text)) return undefined;
  return entry.ast;
}

/** The prepared tree of a standard library file, if the build made one for exactly this text. */
export function cachedStdlibTree(source: SourceFile): PolicyFile | undefined {
  return treeFrom(load(), source);
}

/** The trees of every standard library file, as the build writes them; files with a syntax error are left out. */
export function buildStdlibCache(dir: string = standardLibraryDir()): CacheFile {
  const files: Record<string, { sha256: string; ast: PolicyFile }> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.qpol')).sort()) {
    const display = `policies/${name}`;
    const text = readFileSync(path.join(dir, name), 'utf8');
    const r = parseFile(new SourceFile(display, text));
    if (r.ast && r.diagnostics.length === 0) files[display] = { sha256: sha256(text), ast: r.ast };
  }
  return { version: 1, parser: parserFingerprint(), files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(cachePath, JSON.stringify(buildStdlibCache()));
}
