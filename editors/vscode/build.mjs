// Builds what the .vsix ships, beside this file: dist/extension.js (the
// extension bundled with vscode-languageclient; `vscode` is VS Code's own),
// dist/THIRD-PARTY-NOTICES.txt (the licences of the bundled packages) and
// LICENSE (the project's, copied from the repository root). `vsce package`
// runs it as `vscode:prepublish`.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectLicense = path.join(here, '..', '..', 'LICENSE');

/** The directory of the npm package an input file of the bundle belongs to, or undefined for the extension's own files. */
function packageRoot(file) {
  const parts = file.split(/[\\/]/);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return undefined;
  const n = parts[i + 1]?.startsWith('@') ? 3 : 2;
  return parts.slice(0, i + n).join(path.sep);
}

/** The notices of the bundled packages: name, version, licence and the licence file's text. */
function notices(metafile) {
  const roots = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const root = packageRoot(path.resolve(here, input));
    if (root) roots.add(root);
  }
  const parts = [...roots]
    .map((root) => {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
      const file = readdirSync(root).find((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
      if (!file) throw new Error(`${pkg.name}: no licence file to ship with the bundle`);
      return { id: `${pkg.name}@${pkg.version}`, text: `${pkg.name} ${pkg.version} (${pkg.license})\n\n${readFileSync(path.join(root, file), 'utf8').trim()}\n` };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rule = '\n' + '-'.repeat(72) + '\n\n';
  return 'dist/extension.js includes the following packages.\n' + rule + parts.map((p) => p.text).join(rule);
}

if (!existsSync(projectLicense)) throw new Error(`the project's LICENSE is missing: ${projectLicense}`);

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['extension.js'],
  outfile: 'dist/extension.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // VS Code 1.82 (the oldest the manifest accepts) runs extensions on Node 18.
  target: 'node18',
  external: ['vscode'],
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(path.join(here, 'dist', 'THIRD-PARTY-NOTICES.txt'), notices(result.metafile));
copyFileSync(projectLicense, path.join(here, 'LICENSE'));
