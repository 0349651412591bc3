#!/usr/bin/env node
// Entry point of the `qpc` command. `npm run build` bundles the command line
// into dist/compiler/cli.cjs with V8's code cache of it (cli.cache,
// build/cli-bundle.mjs): run from those, a command starts in about half the
// time. A cache another Node.js made is refused by V8 and the bundle is
// compiled as usual; without the bundle (a build by tsc alone) the modules
// run as they are. The bundle's one dynamic import of a package (Graphviz,
// for `qpc graph`) goes through this module's `import`, passed in as
// __qpc_import: code run from a code cache has no loader of its own.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/compiler/cli.cjs', import.meta.url));
const cache = fileURLToPath(new URL('../dist/compiler/cli.cache', import.meta.url));
if (existsSync(bundle)) {
  const code = readFileSync(bundle, 'utf8');
  const cachedData = existsSync(cache) ? readFileSync(cache) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __qpc_bundle_url, __qpc_import) {${code}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} };
  const load = (specifier) => import(specifier);
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle), pathToFileURL(bundle).href, load);
  // The build (build/cli-bundle.mjs) asks for the cache once the command has run its code.
  const out = process.env.QPC_WRITE_CODE_CACHE;
  if (out) process.on('exit', () => writeFileSync(out, script.createCachedData()));
  module.exports.main();
} else {
  const { main } = await import('../dist/compiler/cli/main.js');
  main();
}
