/**
 * Writing and comparing the output directory of `qpc compile` (DESIGN §5),
 * and rewriting a file in place (`qpc fmt`, lock files).
 *
 * Layout. `DIR` is a symbolic link to a complete set of artifacts kept in
 * `.DIR.qpc/` beside it (`DIR -> .DIR.qpc/PID-RANDOM`); a set is never
 * changed once `DIR` names it. A compile writes its set there under a fresh
 * name, makes a new link to it and renames the link over `DIR`. That one
 * rename replaces the link atomically, so at every instant a reader of `DIR`
 * finds the complete old set or the complete new one, and a compile killed
 * at any point leaves one of them. Node has no atomic exchange of two
 * directories, so keeping `DIR` a plain directory would mean renaming it
 * away before renaming the new set in, with `DIR` missing in between (until
 * the next compile, if it is killed there); a lock cannot close that gap,
 * only order compiles around it.
 *
 * What the link costs. Reading through it works as before (`ls DIR`,
 * `sh DIR/qubes/provision.sh`, `--check`); a copy must follow it (`cp -rL`,
 * `tar -h`, `rsync -L`, or copy `DIR/.`), and a copy that keeps the link
 * gets a dangling link, which fails loudly. provision.sh finds its own
 * directory with `pwd -P`, so it runs in the set itself; that set stays
 * complete and unchanged while it runs, because a compile keeps the set it
 * replaces until the compile after it.
 *
 * Recovery and concurrency, without a lock. Each entry of `.DIR.qpc/`
 * carries the process id of the compile that made it. A compile removes the
 * entries that are neither the set `DIR` names nor the one it replaced and
 * whose maker is itself or no longer running: before it writes (so a disk
 * filled by killed compiles is freed) and after its swap. What a killed
 * compile left is thus removed by the next one, and a running compile's set
 * is never removed before it is linked. Two compiles into one `DIR` each
 * link their own complete set; the later rename wins. (Process ids are of
 * one machine: compiles on two machines sharing a directory are not
 * supported.) The `.DIR.qpc-old-PID` and `.DIR.qpc-new-PID` directories an
 * earlier qpc left when it was killed are removed the same way.
 *
 * A plain directory at `DIR` (empty, or written by an earlier qpc) cannot
 * be replaced by a link in one rename: it is renamed into `.DIR.qpc/` first
 * and kept as the replaced set. Only this conversion, once per directory,
 * has a moment without `DIR`; a compile killed there leaves the old set in
 * `.DIR.qpc/` and the next compile completes the swap.
 *
 * Refusals. An existing directory is replaced only when it is empty or
 * holds a qpc `manifest.json`: `-o` pointed at the wrong folder must not
 * delete it. A symbolic link at `DIR` that qpc did not make is refused
 * rather than followed: replacing it would leave the set at its target
 * stale, and writing at its target would hide the layout behind a second
 * link. Missing parent directories are created one at a time, since Node's
 * recursive `mkdir` spins forever where the kernel reports a missing
 * directory whose parent exists (`/proc`).
 */
import { accessSync, closeSync, constants, fchmodSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { type Artifact, manifestPath, ioReason } from '../index.js';

/** The file operations the output needs; tests inject failures through it. */
export interface OutputFs {
  /** What is at `p`; a symbolic link is `link`, not what it points to. */
  readonly kind: (p: string) => 'dir' | 'file' | 'link' | 'other' | undefined;
  /** Everything under `dir` but directories, recursively and not through links, as `/`-separated relative paths. */
  readonly list: (dir: string) => string[];
  /** The names in one directory. */
  readonly names: (dir: string) => string[];
  readonly readFile: (p: string) => string;
  readonly readLink: (p: string) => string;
  readonly isExecutable: (p: string) => boolean;
  /** Creates one directory; its parent must exist. */
  readonly mkdir: (p: string) => void;
  readonly writeFile: (p: string, text: string, executable: boolean) => void;
  readonly symlink: (target: string, p: string) => void;
  readonly rename: (from: string, to: string) => void;
  readonly remove: (p: string) => void;
  /** Makes a directory's entries durable, where the system can. */
  readonly sync: (dir: string) => void;
  /** Whether a process with this id runs. */
  readonly alive: (pid: number) => boolean;
}

const errno = (e: unknown): string | undefined => (e as { code?: string })?.code;

export const nodeOutputFs: OutputFs = {
  kind: (p) => {
    let st;
    try {
      st = lstatSync(p);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
      throw e;
    }
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other';
  },
  list: (dir) => {
    const out: string[] = [];
    const walk = (d: string, rel: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
        else out.push(`${rel}${e.name}`);
      }
    };
    walk(dir, '');
    return out.sort();
  },
  names: (dir) => readdirSync(dir),
  readFile: (p) => readFileSync(p, 'utf8'),
  readLink: (p) => readlinkSync(p),
  isExecutable: (p) => (statSync(p).mode & 0o100) !== 0,
  mkdir: (p) => mkdirSync(p),
  writeFile: (p, text, executable) => {
    const mode = executable ? 0o755 : 0o644;
    const fd = openSync(p, 'w', mode);
    try {
      writeAll(fd, text);
      // The umask may have narrowed the mode; the artifacts' modes are part of the output.
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  symlink: (target, p) => symlinkSync(target, p),
  rename: (from, to) => renameSync(from, to),
  remove: (p) => rmSync(p, { recursive: true, force: true }),
  sync: (dir) => {
    try {
      const fd = openSync(dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not every system syncs a directory; the rename is atomic regardless.
    }
  },
  alive: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return errno(e) === 'EPERM';
    }
  },
};

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Where the output directory and its sets are. */
interface Place {
  /** `DIR`, absolute, without a trailing slash. */
  readonly dir: string;
  readonly parent: string;
  readonly base: string;
  /** `.DIR.qpc`, beside `DIR`. */
  readonly store: string;
  readonly storeName: string;
}

function place(dir: string): Place {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  const storeName = `.${base}.qpc`;
  return { dir: abs, parent, base, store: path.join(parent, storeName), storeName };
}

/** A set's name, optionally with the suffix of a link not yet swapped in (`.new`) or of a plain directory moved aside (`.old`). */
const entryName = /^(\d+)-[0-9a-f]+(\.new|\.old)?$/;

/** The set a link made by qpc names, from the link's target; undefined for any other link. */
function ownSet(at: Place, target: string): string | undefined {
  const prefix = `${at.storeName}/`;
  if (!target.startsWith(prefix)) return undefined;
  const name = target.slice(prefix.length);
  const m = entryName.exec(name);
  return m && m[2] !== '.new' ? name : undefined;
}

/** Why a directory must not be replaced, if it must not. */
function notOurs(fs: OutputFs, dir: string): string | undefined {
  const kind = fs.kind(dir);
  // A link in the store is one qpc moved aside there, when a concurrent compile had just made it.
  if (kind === undefined || kind === 'link') return undefined;
  if (kind !== 'dir') return kind === 'file' ? 'it is a file' : 'it is not a directory';
  const files = fs.list(dir);
  if (files.length === 0) return undefined;
  const manifest = path.join(dir, manifestPath);
  if (fs.kind(manifest) !== 'file') return 'it is not empty and has no manifest.json: not a qpc output directory';
  try {
    const m = JSON.parse(fs.readFile(manifest)) as { qpc?: unknown; artifacts?: unknown };
    if (typeof m.qpc === 'string' && Array.isArray(m.artifacts)) return undefined;
  } catch {
    // fall through
  }
  return 'its manifest.json was not written by qpc';
}

/** What is at `DIR` now: the set its link names, or a plain directory; throws when it must not be replaced. */
function inspect(fs: OutputFs, at: Place): { readonly current?: string; readonly plain: boolean } {
  const kind = fs.kind(at.dir);
  if (kind === undefined) return { plain: false };
  let refusal: string | undefined;
  if (kind === 'link') {
    const current = ownSet(at, fs.readLink(at.dir));
    if (current === undefined) throw new Error('refusing to replace it: it is a symbolic link qpc did not make (name the directory it points to instead)');
    refusal = notOurs(fs, path.join(at.store, current));
    if (refusal === undefined) return { current, plain: false };
  } else refusal = notOurs(fs, at.dir);
  if (refusal !== undefined) throw new Error(`refusing to replace it: ${refusal}`);
  return { plain: true };
}

/** Runs one step; a failure becomes an Error whose message says why and in which step. */
function step<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw new Error(`${ioReason(e)} (${what})`);
  }
}

function quietly(run: () => void): void {
  try {
    run();
  } catch {
    // Clean-up only: the next compile retries it.
  }
}

/** Creates the missing directories of `dir`'s path, each with one non-recursive mkdir. */
function makeParents(fs: OutputFs, dir: string): void {
  const missing: string[] = [];
  for (let p = dir; fs.kind(p) === undefined && path.dirname(p) !== p; p = path.dirname(p)) missing.push(p);
  for (const p of missing.reverse()) makeDir(fs, p);
}

/** Creates a directory that a concurrent compile may create at the same time. */
function makeDir(fs: OutputFs, p: string): void {
  try {
    fs.mkdir(p);
  } catch (e) {
    if (errno(e) !== 'EEXIST' || fs.kind(p) !== 'dir') throw e;
  }
}

/**
 * Removes what qpc made beside `DIR` and no longer needs: entries of
 * `.DIR.qpc/` other than the set `DIR` names and those in `keep`, made by
 * this process or by one that has ended, and an earlier qpc's
 * `.DIR.qpc-old-PID` and `.DIR.qpc-new-PID` of ended processes. A plain
 * directory moved aside, by qpc now or earlier, may be the only complete set
 * left when a compile was killed with `DIR` missing: it goes only once
 * `afterSwap`, when `DIR` names a set again. Never fails: what it cannot
 * remove now, a later compile removes.
 */
function tidy(fs: OutputFs, at: Place, keep: readonly (string | undefined)[], pid: number, afterSwap: boolean): void {
  const ended = (owner: number) => owner === pid || !fs.alive(owner);
  quietly(() => {
    const kept = new Set(keep);
    if (fs.kind(at.dir) === 'link') kept.add(ownSet(at, fs.readLink(at.dir)));
    for (const name of fs.kind(at.store) === 'dir' ? fs.names(at.store) : []) {
      const m = entryName.exec(name);
      if (!m || kept.has(name) || (m[2] === '.old' && !afterSwap) || !ended(Number(m[1]))) continue;
      quietly(() => fs.remove(path.join(at.store, name)));
    }
    const earlier = new RegExp(`^\\.${at.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.qpc-(old|new)-(\\d+)$`);
    for (const name of fs.names(at.parent)) {
      const m = earlier.exec(name);
      if (m && (m[1] === 'new' || afterSwap) && ended(Number(m[2]))) quietly(() => fs.remove(path.join(at.parent, name)));
    }
  });
}

/** Writes `artifacts` into the new directory `set`, then makes its entries durable. */
function writeSet(fs: OutputFs, set: string, artifacts: readonly Artifact[]): void {
  const dirs = [set];
  fs.mkdir(set);
  const made = new Set(['']);
  for (const a of artifacts) {
    const parts = a.path.split('/');
    if (parts.some((s) => s === '' || s === '.' || s === '..')) throw new Error(`the artifact path \`${a.path}\` leaves the output directory`);
    for (let i = 1; i < parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (made.has(rel)) continue;
      fs.mkdir(path.join(set, ...parts.slice(0, i)));
      made.add(rel);
      dirs.push(path.join(set, ...parts.slice(0, i)));
    }
    fs.writeFile(path.join(set, ...parts), a.contents, a.executable === true);
  }
  for (const d of dirs.reverse()) fs.sync(d);
}

/**
 * Points `DIR` at the set `id` with one rename of the link `link`; a plain
 * directory at `DIR` is first moved into the store. Returns the name the
 * replaced set has in the store, if any.
 */
function swap(fs: OutputFs, at: Place, id: string, link: string, before: { readonly current?: string; readonly plain: boolean }): string | undefined {
  fs.sync(at.store);
  fs.symlink(`${at.storeName}/${id}`, link);
  if (!before.plain) {
    // What the rename replaces: read last, as a concurrent compile may have swapped since.
    const replacing = fs.kind(at.dir) === 'link' ? ownSet(at, fs.readLink(at.dir)) : before.current;
    fs.rename(link, at.dir);
    return replacing;
  }
  const aside = path.join(at.store, `${id}.old`);
  let moved = true;
  try {
    fs.rename(at.dir, aside);
  } catch (e) {
    // A concurrent compile moved it first; the link still goes in.
    if (errno(e) !== 'ENOENT') throw e;
    moved = false;
  }
  try {
    fs.rename(link, at.dir);
  } catch (e) {
    if (moved) quietly(() => fs.rename(aside, at.dir));
    throw e;
  }
  return moved ? `${id}.old` : undefined;
}

/**
 * Replaces `dir` with exactly `artifacts`. Throws an Error whose message is
 * the reason when it cannot; `dir` then still holds what it held.
 */
export function writeOutput(fs: OutputFs, dir: string, artifacts: readonly Artifact[], pid: number = process.pid): void {
  const at = place(dir);
  if (at.parent === at.dir) throw new Error('refusing to replace it: it is the root directory');
  const before = inspect(fs, at);
  step('creating the directories above it', () => makeParents(fs, at.parent));
  step(`creating \`${at.storeName}\` beside it`, () => {
    if (fs.kind(at.store) !== 'dir') makeDir(fs, at.store);
  });
  tidy(fs, at, [before.current], pid, false);
  const id = `${pid}-${randomBytes(6).toString('hex')}`;
  const set = path.join(at.store, id);
  const link = path.join(at.store, `${id}.new`);
  let replaced: string | undefined;
  try {
    step(`writing the new set in \`${at.storeName}\``, () => writeSet(fs, set, artifacts));
    replaced = step('swapping the new set in', () => swap(fs, at, id, link, before));
  } catch (e) {
    quietly(() => fs.remove(link));
    quietly(() => fs.remove(set));
    throw e;
  }
  quietly(() => fs.sync(at.parent));
  tidy(fs, at, [id, replaced], pid, true);
}

/** A file's text as it is (`before`) and as qpc would write it (`after`); undefined is no such file. */
export interface TextChange {
  readonly path: string;
  readonly before?: string;
  readonly after?: string;
}

/** One way the output directory differs from the artifacts. */
interface OutputDifference {
  readonly path: string;
  readonly change: string;
  /** The texts that change with it, for `--diff`: none for a change of mode or of a link. */
  readonly texts: readonly TextChange[];
}

/** How the directory differs from the artifacts: one entry per path. */
export function diffOutput(fs: OutputFs, dir: string, artifacts: readonly Artifact[]): { path: string; change: string }[] {
  return compareOutput(fs, dir, artifacts).map(({ path: p, change }) => ({ path: p, change }));
}

/** The texts that differ between the directory and the artifacts, in the order of {@link diffOutput}'s entries (for `--diff`). */
export function outputTextChanges(fs: OutputFs, dir: string, artifacts: readonly Artifact[]): TextChange[] {
  return compareOutput(fs, dir, artifacts).flatMap((d) => d.texts);
}

function compareOutput(fs: OutputFs, dir: string, artifacts: readonly Artifact[]): OutputDifference[] {
  const shown = dir.replace(/\/+$/, '') || dir;
  const at = place(dir);
  let root = at.dir;
  const kind = fs.kind(at.dir);
  const none: readonly TextChange[] = [];
  if (kind === 'link') {
    const current = ownSet(at, fs.readLink(at.dir));
    if (current === undefined) return [{ path: dir, change: 'is a symbolic link qpc did not make', texts: none }];
    root = path.join(at.store, current);
  } else if (kind === 'file' || kind === 'other') return [{ path: dir, change: 'is not a directory', texts: none }];
  if (fs.kind(root) !== 'dir') return [{ path: dir, change: 'does not exist', texts: artifacts.map((a) => ({ path: `${shown}/${a.path}`, after: a.contents })) }];
  const present = new Set(fs.list(root));
  const out: OutputDifference[] = [];
  const linked = 'is a symbolic link, not a file qpc writes';
  for (const a of artifacts) {
    const p = path.join(root, ...a.path.split('/'));
    const where = `${shown}/${a.path}`;
    const k = present.has(a.path) ? fs.kind(p) : undefined;
    if (k === undefined) out.push({ path: where, change: 'is missing', texts: [{ path: where, after: a.contents }] });
    else if (k === 'link') out.push({ path: where, change: linked, texts: none });
    else if (k !== 'file') out.push({ path: where, change: 'is not a regular file', texts: none });
    else {
      const before = fs.readFile(p);
      if (before !== a.contents) out.push({ path: where, change: 'differs from what qpc would write', texts: [{ path: where, before, after: a.contents }] });
      else if (fs.isExecutable(p) !== (a.executable === true)) out.push({ path: where, change: a.executable ? 'should be executable' : 'should not be executable', texts: none });
    }
    present.delete(a.path);
  }
  for (const p of [...present].sort()) {
    const where = `${shown}/${p}`;
    const full = path.join(root, ...p.split('/'));
    const k = fs.kind(full);
    out.push(k === 'link' ? { path: where, change: linked, texts: none } : { path: where, change: 'is not an artifact qpc writes', texts: k === 'file' ? [{ path: where, before: fs.readFile(full) }] : none });
  }
  return out;
}

/** The file a path names at the end of its chain of symbolic links (at most 40, as the kernel allows). */
function linkTarget(p: string): string {
  let at = path.resolve(p);
  for (let i = 0; i < 40; i++) {
    let st;
    try {
      st = lstatSync(at);
    } catch (e) {
      if (errno(e) === 'ENOENT') return at;
      throw e;
    }
    if (!st.isSymbolicLink()) return at;
    at = path.resolve(path.dirname(at), readlinkSync(at));
  }
  throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
}

/**
 * Replaces a file's text atomically: a temporary file beside it, renamed
 * over it, so a reader finds the old text or the new, never a part. A
 * symbolic link stays a link and the file it names gets the text; the file
 * keeps its mode and, where this process may set it, its owner. A file
 * nobody may write (mode 0400, 0444) is refused: the rename would get past
 * its mode, and silently making it writable would undo what its owner chose.
 * Throws an Error whose message (or `code`) says why not.
 */
export function replaceFile(p: string, text: string): void {
  const target = linkTarget(p);
  let existing: import('node:fs').Stats | undefined;
  try {
    existing = statSync(target);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  if (existing !== undefined) {
    if (!existing.isFile()) throw new Error('it is not a regular file');
    const mode = existing.mode & 0o7777;
    if ((mode & 0o222) === 0) throw new Error(`it is read-only (mode ${mode.toString(8).padStart(4, '0')}); qpc does not change a file's mode`);
    accessSync(target, constants.W_OK);
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.qpc-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', existing ? existing.mode & 0o7777 : 0o666);
  try {
    try {
      writeAll(fd, text);
      if (existing) {
        const { uid, gid, mode } = existing;
        // The owner first: changing it clears the set-id bits the mode then restores.
        if (uid !== process.getuid?.() || gid !== process.getgid?.()) quietly(() => fchownSync(fd, uid, gid));
        fchmodSync(fd, mode & 0o7777);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    quietly(() => unlinkSync(tmp));
    throw e;
  }
}
