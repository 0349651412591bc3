/**
 * Standard input as the command line reads it (`qpc check -`, `fmt -`,
 * `query --requests -`): whole, as UTF-8, and at most MAX_FILE_BYTES, the
 * bound every file qpc reads has, so that an endless or huge input is
 * refused instead of filling the memory.
 */
import { readSync } from 'node:fs';
import { MAX_FILE_BYTES } from '../index.js';

/** The name standard input has in diagnostics and summaries. */
export const STDIN_NAME = '<stdin>';

/** The error standard input larger than the bound is refused with; its message is the reason. */
export function stdinTooLarge(): Error {
  return Object.assign(new Error(`larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB, the most qpc reads`), { code: 'EFBIG' });
}

/** Refuses text above the bound (for a reader that is not this module's). */
export function boundStdin(text: string): string {
  if (Buffer.byteLength(text, 'utf8') > MAX_FILE_BYTES) throw stdinTooLarge();
  return text;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads the descriptor to its end, or throws once it has given more than
 * `limit` bytes. A descriptor in non-blocking mode (EAGAIN) is waited on
 * briefly and read again.
 */
export function readBounded(fd: number = 0, limit: number = MAX_FILE_BYTES): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 10);
        continue;
      }
      // End of input, as a closed terminal or a socket reports it.
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > limit) throw stdinTooLarge();
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
