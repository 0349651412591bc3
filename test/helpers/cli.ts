/** Runs the command line in-process with captured streams. */
import { runCli, type CliIo } from '../../compiler/cli/main.js';
import { nodeHost, type CompilerHost } from '../../compiler/host.js';
import { nodeOutputFs, type OutputFs } from '../../compiler/cli/output.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly written: ReadonlyMap<string, string>;
}

export function runQpc(argv: readonly string[], opts: { host?: CompilerHost; stdin?: string; isTTY?: boolean; writeFails?: boolean; output?: OutputFs } = {}): CliRun {
  let stdout = '';
  let stderr = '';
  const written = new Map<string, string>();
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: () => opts.stdin ?? '',
    isTTY: opts.isTTY ?? false,
    host: opts.host ?? nodeHost,
    output: opts.output ?? nodeOutputFs,
    writeFile: (p, text) => {
      if (opts.writeFails) throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      written.set(p, text);
    },
  };
  const code = runCli(argv, io);
  return { code, stdout, stderr, written };
}
