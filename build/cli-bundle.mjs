// Bundles the command line (dist/compiler/cli/main.js and everything it
// imports but the packages it loads on demand) into dist/compiler/cli.cjs,
// one file, and makes V8's code cache of it, dist/compiler/cli.cache, by
// running `qpc check --frozen` on an example (its lock file untouched): bin/qpc.js loads both, so a command
// neither resolves a hundred modules nor compiles the code it runs. The
// bundle sits beside the modules it replaces, so the paths they compute
// from their own location (the standard library, the package directory)
// stay the same. Run by `npm run build`, after tsc.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/compiler/cli.cjs`;
const cache = `${root}dist/compiler/cli.cache`;
rmSync(cache, { force: true });
await build({
  entryPoints: [`${root}dist/compiler/cli/main.js`],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Graphviz (WebAssembly, for `qpc graph` alone) stays a package loaded when a command draws.
  external: ['@hpcc-js/wasm-graphviz'],
  supported: { 'dynamic-import': true },
  // Each module's own URL becomes the bundle's: they sit in the same directory.
  define: { 'import.meta.url': '__qpc_bundle_url' },
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [`${root}bin/qpc.js`, 'check', '--frozen', `${root}examples/journalist.qpol`], { env: { ...process.env, QPC_WRITE_CODE_CACHE: cache }, encoding: 'utf8' });
if (r.status !== 0 || !existsSync(cache)) {
  process.stderr.write(r.stdout + r.stderr);
  throw new Error('cli-bundle: the bundled qpc check of examples/journalist.qpol failed, or wrote no code cache');
}
