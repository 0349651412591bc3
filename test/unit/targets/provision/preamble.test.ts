/**
 * The constant shell of provision.sh lives in targets/provision/preamble.sh,
 * a real file shellcheck reads; targets/provision/preamble.ts, which the
 * target imports (in the build and from sources alike), is generated from it.
 * This test checks the module is current (UPDATE_GOLDEN=1 rewrites it) and
 * lints the shell file; the provision goldens hold the script it makes.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { expectGolden } from '../../../helpers/golden.js';
import { run, toolTest } from '../../../helpers/tools.js';

const shellFile = 'targets/provision/preamble.sh';
const moduleFile = 'targets/provision/preamble.ts';

/** The shell text without its header comment (the lines up to the first blank line). */
function preambleOf(sh: string): string {
  const at = sh.indexOf('\n\n');
  if (!sh.startsWith('#') || at < 0) throw new Error(`${shellFile} must start with its header comment and a blank line`);
  return sh.slice(at + 2);
}

/** The TypeScript module that holds `text`, one string per line. */
function preambleModule(text: string): string {
  const lines = text.split('\n').map((l) => `  ${JSON.stringify(l)},`);
  return [
    '/**',
    ' * Generated from preamble.sh (the constant shell of provision.sh, with its',
    ' * @QPC_…@ words) by test/unit/targets/provision/preamble.test.ts; do not',
    ' * edit: change preamble.sh and run `npm run golden:accept`.',
    ' */',
    '',
    '/** The text of preamble.sh after its header comment. */',
    'export const preambleText: string = [',
    ...lines,
    "].join('\\n');",
    '',
  ].join('\n');
}

test('preamble.ts is generated from the current preamble.sh', (t) => {
  expectGolden(t, moduleFile, preambleModule(preambleOf(readFileSync(shellFile, 'utf8'))));
});

test('the header comment is left out, and nothing else', (t) => {
  t.is(preambleOf('# a\n# b\n\nset -eu\n\nx=1\n'), 'set -eu\n\nx=1\n');
  t.throws(() => preambleOf('set -eu\n\nx=1\n'));
});

toolTest('shellcheck: preamble.sh, the constant part of provision.sh', ['shellcheck'], (t) => {
  const sc = run('shellcheck', ['--severity=style', shellFile]);
  t.is(sc.status, 0, sc.stdout + sc.stderr);
});
