/**
 * A real `qpc` process that kills itself with SIGKILL just before its Nth
 * change to the output directory (output-faults.test.ts). Run as
 * `node --import tsx output-kill-child.ts N ARGS...`; with N = 0 it runs to
 * the end and prints the kind of each change, one per line.
 */
import { processIo, runCli } from '../../../../compiler/cli/main.js';
import { nodeOutputFs, type OutputFs } from '../../../../compiler/cli/output.js';

const changes = new Set(['mkdir', 'writeFile', 'rename', 'remove', 'symlink']);
const killAt = Number(process.argv[2]);
const log: string[] = [];

const output = Object.fromEntries(
  Object.entries(nodeOutputFs).map(([k, f]) => [
    k,
    (...args: unknown[]) => {
      if (changes.has(k)) {
        if (log.length + 1 === killAt) {
          process.kill(process.pid, 'SIGKILL');
          throw new Error('still alive after SIGKILL');
        }
        log.push(k);
      }
      return (f as (...a: unknown[]) => unknown)(...args);
    },
  ]),
) as unknown as OutputFs;

const code = await runCli(process.argv.slice(3), { ...processIo(), stdout: () => {}, output });
if (killAt === 0) process.stdout.write(log.map((k) => `${k}\n`).join(''));
process.exitCode = code;
