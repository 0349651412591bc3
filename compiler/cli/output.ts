/**
 * Writing and comparing the output directory of `qpc compile` (DESIGN §5).
 *
 * The new set is written into a sibling directory and swapped in with
 * renames only once every file is there, so a failed or interrupted compile
 * leaves the previous complete set. Node has no atomic directory exchange,
 * so the swap is two renames (old aside, new in place); a crash between them
 * leaves the previous set complete under `DIR.qpc-old-*`. An existing
 * directory is replaced only when it is empty or holds a qpc `manifest.json`:
 * `-o` pointed at the wrong folder must not delete it.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Artifact } from '../../targets/types.js';
import { manifestPath } from '../../targets/paths.js';

/** The file operations the output needs; tests inject failures through it. */
export interface OutputFs {
  readonly kind: (p: string) => 'dir' | 'file' | undefined;
  /** Files under `dir`, recursively, as `/`-separated relative paths. */
  readonly list: (dir: string) => string[];
  readonly readFile: (p: string) => string;
  readonly isExecutable: (p: string) => boolean;
  readonly mkdir: (p: string) => void;
  readonly writeFile: (p: string, text: string, executable: boolean) => void;
  readonly rename: (from: string, to: string) => void;
  readonly remove: (p: string) => void;
}

export const nodeOutputFs: OutputFs = {
  kind: (p) => {
    if (!existsSync(p)) return undefined;
    return statSync(p).isDirectory() ? 'dir' : 'file';
  },
  list: (dir) => (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(path.sep).join('/'))
    .sort(),
  readFile: (p) => readFileSync(p, 'utf8'),
  isExecutable: (p) => (statSync(p).mode & 0o100) !== 0,
  mkdir: (p) => void mkdirSync(p, { recursive: true }),
  writeFile: (p, text, executable) => {
    writeFileSync(p, text, { mode: executable ? 0o755 : 0o644 });
    // The umask may have narrowed the mode; the artifacts' modes are part of the output.
    chmodSync(p, executable ? 0o755 : 0o644);
  },
  rename: (from, to) => renameSync(from, to),
  remove: (p) => rmSync(p, { recursive: true, force: true }),
};

/** Why a directory must not be replaced, if it must not. */
function notOurs(fs: OutputFs, dir: string): string | undefined {
  const kind = fs.kind(dir);
  if (kind === undefined) return undefined;
  if (kind === 'file') return 'it is a file';
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

/**
 * Replaces `dir` with exactly `artifacts`. Throws an Error whose message is
 * the reason when it cannot; the previous directory is then unchanged.
 */
export function writeOutput(fs: OutputFs, dir: string, artifacts: readonly Artifact[], tag: string = String(process.pid)): void {
  const refusal = notOurs(fs, dir);
  if (refusal !== undefined) throw new Error(`refusing to replace it: ${refusal}`);
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(path.resolve(dir));
  const fresh = path.join(parent, `.${base}.qpc-new-${tag}`);
  const old = path.join(parent, `.${base}.qpc-old-${tag}`);
  fs.remove(fresh);
  try {
    fs.mkdir(fresh);
    for (const a of artifacts) {
      const p = path.join(fresh, ...a.path.split('/'));
      fs.mkdir(path.dirname(p));
      fs.writeFile(p, a.contents, a.executable === true);
    }
    if (fs.kind(dir) === 'dir') {
      fs.remove(old);
      fs.rename(dir, old);
      try {
        fs.rename(fresh, dir);
      } catch (e) {
        fs.rename(old, dir);
        throw e;
      }
      fs.remove(old);
    } else fs.rename(fresh, dir);
  } catch (e) {
    fs.remove(fresh);
    throw e;
  }
}

/** How the directory differs from the artifacts: one entry per path. */
export function diffOutput(fs: OutputFs, dir: string, artifacts: readonly Artifact[]): { path: string; change: string }[] {
  if (fs.kind(dir) !== 'dir') return [{ path: dir, change: 'does not exist' }];
  const present = new Set(fs.list(dir));
  const out: { path: string; change: string }[] = [];
  for (const a of artifacts) {
    const p = path.join(dir, ...a.path.split('/'));
    const shown = `${dir.replace(/\/+$/, '')}/${a.path}`;
    if (!present.has(a.path)) out.push({ path: shown, change: 'is missing' });
    else if (fs.readFile(p) !== a.contents) out.push({ path: shown, change: 'differs from what qpc would write' });
    else if (fs.isExecutable(p) !== (a.executable === true)) out.push({ path: shown, change: a.executable ? 'should be executable' : 'should not be executable' });
    present.delete(a.path);
  }
  for (const p of [...present].sort()) out.push({ path: `${dir.replace(/\/+$/, '')}/${p}`, change: 'is not an artifact qpc writes' });
  return out;
}
