/**
 * `bin/qpc.js` over the TypeScript sources instead of `dist/`: the same CLI
 * entry (`runCli`), run with `node --import tsx`, so the end-to-end test
 * exercises the current sources without a build step.
 */
import { main } from '../../compiler/cli/main.js';

main();
