/**
 * What the compiler needs from the outside world: reading files. The CLI
 * passes the file system; the language server passes open editor buffers
 * over it; tests pass a map.
 */
import { readFileSync, statSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export interface CompilerHost {
  /** Returns the file's text, or throws an Error whose message says why not. */
  readFile(path: string): string;
}

/** Reads files from disk as UTF-8 (invalid bytes become U+FFFD, reported as QP1003). */
export const nodeHost: CompilerHost = {
  readFile(p: string): string {
    if (statSync(p).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return readFileSync(p, 'utf8');
  },
};

/** A host over an in-memory map of path → text, falling back to another host. */
export function overlayHost(files: ReadonlyMap<string, string>, fallback?: CompilerHost): CompilerHost {
  return {
    readFile(p: string): string {
      const t = files.get(p);
      if (t !== undefined) return t;
      if (fallback) return fallback.readFile(p);
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  };
}

/** Words for an I/O error, without the machine's paths. */
export function ioReason(e: unknown): string {
  const code = (e as { code?: string })?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return e instanceof Error ? e.message.split('\n')[0] : 'unreadable';
  }
}

let stdlibDir: string | undefined;

/** The directory holding the standard library (`policies/`), from the sources or the build. */
export function standardLibraryDir(): string {
  if (stdlibDir) return stdlibDir;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../policies', '../../policies']) {
    const d = path.resolve(here, rel);
    if (existsSync(path.join(d, 'qubes.qpol'))) return (stdlibDir = d);
  }
  return (stdlibDir = path.resolve(here, '../policies'));
}

/** The display path of a standard library module. */
export function standardLibraryPath(module: string): string {
  return `policies/${module}.qpol`;
}
