/**
 * What the compiler needs from the outside world: reading files. The CLI
 * passes the file system; the language server passes open editor buffers
 * over it; tests pass a map.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/**
 * The largest file qpc reads (a policy, an import, a lock file): 4 MiB, a
 * hundred times the largest policy we know, and small enough that a file
 * that is not a policy cannot fill the memory of the command line or of the
 * language server.
 */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** How a file is read. */
export interface ReadOptions {
  /**
   * Refuse a symbolic link rather than follow it. For files qpc writes
   * itself, such as lock files, which are never links: a committed link
   * could make qpc read anything on the machine that runs it.
   */
  readonly noFollow?: boolean;
}

export interface CompilerHost {
  /** Returns the file's text, or throws an Error whose message says why not. */
  readFile(path: string, options?: ReadOptions): string;
  /**
   * The path of the file that `path` leads to, symbolic links resolved, when
   * the host can tell. Whether a file that does not parse may be quoted is
   * judged by this name (see `looksLikePolicy`).
   */
  realPath?(path: string): string;
}

/** An error with a code, as the file system throws them, whose message is the reason. */
function ioError(code: string, reason: string): Error {
  return Object.assign(new Error(reason), { code });
}

const tooLarge = `larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB, the most qpc reads`;

/** Refuses anything but a regular file of at most MAX_FILE_BYTES. */
function checkRegular(st: Stats): void {
  if (st.isSymbolicLink()) throw ioError('ESYMLINK', 'is a symbolic link');
  if (st.isDirectory()) throw ioError('EISDIR', 'is a directory');
  if (!st.isFile()) throw ioError('ENOTREG', 'not a regular file');
  if (st.size > MAX_FILE_BYTES) throw ioError('EFBIG', tooLarge);
}

/**
 * Reads a regular file. A device is refused before it is opened (opening
 * some has effects of its own); then the file is opened without blocking (a
 * FIFO with no writer would wait for ever) and checked again through the
 * descriptor it is read from, so that what is checked is what is read; it is
 * read to at most MAX_FILE_BYTES (files in /proc report a size of 0 and are
 * not empty).
 */
function readRegularFile(p: string, options: ReadOptions): Buffer {
  checkRegular(options.noFollow ? lstatSync(p) : statSync(p));
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0) | (options.noFollow ? (constants.O_NOFOLLOW ?? 0) : 0);
  let fd: number;
  try {
    fd = openSync(p, flags);
  } catch (e) {
    // O_NOFOLLOW fails with ELOOP on a link; say what it is.
    if (options.noFollow && (e as { code?: string }).code === 'ELOOP' && isLink(p)) throw ioError('ESYMLINK', 'is a symbolic link');
    throw e;
  }
  try {
    checkRegular(fstatSync(fd));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, MAX_FILE_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > MAX_FILE_BYTES) throw ioError('EFBIG', tooLarge);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Reads files from disk as UTF-8 (invalid bytes become U+FFFD, reported as
 * QP1003): only regular files of at most MAX_FILE_BYTES. Symbolic links are
 * followed unless `noFollow` is given.
 */
export const nodeHost: CompilerHost = {
  readFile(p: string, options: ReadOptions = {}): string {
    return readRegularFile(p, options).toString('utf8');
  },
  realPath(p: string): string {
    try {
      return realpathSync.native(p);
    } catch {
      return p;
    }
  },
};

/** A host over an in-memory map of path → text, falling back to another host. */
export function overlayHost(files: ReadonlyMap<string, string>, fallback?: CompilerHost): CompilerHost {
  return {
    readFile(p: string, options?: ReadOptions): string {
      const t = files.get(p);
      if (t !== undefined) return t;
      if (fallback) return fallback.readFile(p, options);
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
    realPath(p: string): string {
      if (files.has(p)) return p;
      return fallback?.realPath?.(p) ?? p;
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
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EEXIST':
      return 'already exists';
    case 'EBUSY':
      return 'busy (in use by another program)';
    case 'ENXIO':
    case 'ENODEV':
      // Opening a socket or a device without a driver.
      return 'not a regular file';
    default: {
      if (!(e instanceof Error)) return 'unreadable';
      // A system error says `CODE: words, syscall 'path'`: the words only.
      const system = /^[A-Z0-9]+: (.*?), [a-z_]+\b/.exec(e.message);
      return system && code !== undefined ? system[1] : e.message.split('\n')[0];
    }
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

/**
 * The path inside the standard library of a file shown by its display path
 * (`policies/whonix/gateway.qpol` → `whonix/gateway.qpol`), or undefined for
 * any other file. A policy's own `policies/mine.qpol` is not one: only a
 * display path that names a file the standard library has counts.
 */
export function standardLibraryRelative(display: string): string | undefined {
  if (!display.startsWith('policies/') || display.split('/').includes('..')) return undefined;
  const rel = display.slice('policies/'.length);
  return existsSync(path.join(standardLibraryDir(), rel)) ? rel : undefined;
}

/** The installed package's root directory: the one holding `policies/`, `docs/` and `README.md`. */
export function packageDir(): string {
  return path.dirname(standardLibraryDir());
}
