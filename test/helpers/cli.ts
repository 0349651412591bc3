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

export interface CliOptions {
  readonly host?: CompilerHost;
  readonly stdin?: string;
  readonly isTTY?: boolean;
  /** The environment (colour); empty unless given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly writeFails?: boolean;
  readonly output?: OutputFs;
}

function start(argv: readonly string[], opts: CliOptions): { code: number | Promise<number>; result: (code: number) => CliRun } {
  let stdout = '';
  let stderr = '';
  const written = new Map<string, string>();
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: () => opts.stdin ?? '',
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    host: opts.host ?? nodeHost,
    output: opts.output ?? nodeOutputFs,
    writeFile: (p, text) => {
      if (opts.writeFails) throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      written.set(p, text);
    },
  };
  return { code: runCli(argv, io), result: (code) => ({ code, stdout, stderr, written }) };
}

/** A command that answers at once (every command but `compile`). */
export function runQpc(argv: readonly string[], opts: CliOptions = {}): CliRun {
  const { code, result } = start(argv, opts);
  if (typeof code !== 'number') throw new Error(`\`qpc ${argv[0]}\` answers asynchronously: use runQpcAsync`);
  return result(code);
}

/** Any command, `compile` included. */
export async function runQpcAsync(argv: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const { code, result } = start(argv, opts);
  return result(await code);
}
