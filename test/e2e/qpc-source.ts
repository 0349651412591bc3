/**
 * `bin/qpc.js` over the TypeScript sources instead of `dist/`: the same CLI
 * entry (`runCli`), run with `node --import tsx`, so the end-to-end test
 * exercises the current sources without a build step.
 */
import { processIo, runCli } from '../../compiler/cli/main.js';

process.exitCode = runCli(process.argv.slice(2), processIo());
