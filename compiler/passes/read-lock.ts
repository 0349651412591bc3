/**
 * Reads the lock file beside the entry (lock-file.ts) in the load stage,
 * through the host that read the policy, so that an editor's unsaved buffer
 * or a test's in-memory file is the lock the check uses. Emits QP5007 (a
 * lock file that cannot be read or is not one).
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { ioReason, type CompilerHost } from '../host.js';
import { emptyLock, lockPath, parseLock, type RawLock } from '../lock-file.js';
import { SourceFile } from '../source.js';

/** The lock file of a policy as the load stage read it. */
export interface LockFile {
  readonly path: string;
  /** Its entries, not yet checked; empty when there is no file or it cannot be used. */
  readonly raw: RawLock;
  /** The file as read, when there is one that parsed: its text, and the spans of its findings. */
  readonly source?: SourceFile;
  /**
   * False when the file cannot be read or is not a lock file (QP5007): the
   * analysis goes on as without a lock, and nothing is allocated or written.
   */
  readonly usable: boolean;
}

/**
 * Reads `ENTRY.lock`. No file is an empty lock; a file that cannot be read
 * or parsed is an error (QP5007) and an unusable lock. qpc writes lock files
 * as regular files: a link (committed, say, to a file of secrets) is
 * refused, not followed.
 */
export function readLock(entry: string, host: CompilerHost, ctx: Reporter): LockFile {
  const path = lockPath(entry);
  let text: string;
  try {
    text = host.readFile(path, { noFollow: true });
  } catch (e) {
    if ((e as { code?: string })?.code === 'ENOENT') return { path, raw: emptyLock, usable: true };
    ctx.report(diag('QP5007', undefined, { path, reason: ioReason(e) }));
    return { path, raw: emptyLock, usable: false };
  }
  const raw = parseLock(text);
  if (typeof raw === 'string') {
    ctx.report(diag('QP5007', undefined, { path, reason: raw }));
    return { path, raw: emptyLock, usable: false };
  }
  return { path, raw, source: new SourceFile(path, text), usable: true };
}
