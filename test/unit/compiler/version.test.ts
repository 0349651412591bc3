/** qpc's version is the package's: `--version`, `manifest.json` and SARIF must not name another. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { version } from '../../../compiler/version.js';
import { version as exported } from '../../../compiler/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

test('the version is the one package.json publishes', (t) => {
  t.is(version, pkg.version);
});

test('the public API exports the same version, in semver form', (t) => {
  t.is(exported, version);
  t.regex(version, /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
});
