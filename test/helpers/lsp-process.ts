/**
 * `qpc lsp` as a separate process, the way an editor starts it: from the
 * sources, with the given arguments, spoken to over its standard streams.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const entryPoint = path.resolve('test/e2e/qpc-source.ts');

/** A bound on one run: a server that neither answers nor exits shows as a timeout, not as a stuck test. */
export const TIMEOUT_MS = 30_000;

/** A message in the base protocol's framing. */
export function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** An initialize request with no client process id (the server then watches none by itself). */
export const initialize = frame(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {}, workspaceFolders: null } }));

/** How a server run ended. */
export interface Outcome {
  readonly answered: boolean;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

/**
 * Starts `qpc lsp ARGS`, writes `before` and an initialize request, and
 * calls `onAnswer` once initialize is answered (by default: closes the
 * server's standard input, which ends it). Resolves when the server exits,
 * or after TIMEOUT_MS with the server killed.
 */
export function runServer(args: readonly string[], opts: { before?: string; onAnswer?: (server: ChildProcess) => void } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entryPoint, 'lsp', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answered = false;
    let timedOut = false;
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!answered && /"id":1,"result":\{"capabilities"/.test(stdout)) {
        answered = true;
        (opts.onAnswer ?? ((c) => c.stdin?.end()))(child);
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ answered, code, timedOut, stderr });
    });
    if (opts.before) child.stdin.write(opts.before);
    child.stdin.write(initialize);
  });
}
