/**
 * The snapshot script lives in compiler/snapshot/collect.sh, a real file
 * shellcheck and dash read; compiler/snapshot/collect-text.ts, which
 * `qpc snapshot` prints, is generated from it. This test checks the module is
 * current (UPDATE_GOLDEN=1 rewrites it) and lints the shell file.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { snapshotScript } from '../../../../compiler/snapshot/index.js';
import { expectGolden } from '../../../helpers/golden.js';
import { run, toolTest } from '../../../helpers/tools.js';

const shellFile = 'compiler/snapshot/collect.sh';
const moduleFile = 'compiler/snapshot/collect-text.ts';

function collectModule(text: string): string {
  return [
    '/**',
    ' * Generated from collect.sh (the snapshot script) by',
    ' * test/unit/compiler/snapshot/script.test.ts; do not edit: change',
    ' * collect.sh and run `npm run golden:accept`.',
    ' */',
    '',
    '/** The text of collect.sh. */',
    'export const collectText: string = [',
    ...text.split('\n').map((l) => `  ${JSON.stringify(l)},`),
    "].join('\\n');",
    '',
  ].join('\n');
}

test('collect-text.ts is generated from the current collect.sh', (t) => {
  expectGolden(t, moduleFile, collectModule(readFileSync(shellFile, 'utf8')));
});

test('qpc snapshot prints collect.sh as it is', (t) => {
  t.is(snapshotScript(), readFileSync(shellFile, 'utf8'));
});

test('the script only reads the machine: no tool that changes a qube or the policy', (t) => {
  const text = snapshotScript();
  for (const w of ['qvm-create', 'qvm-remove', 'qvm-start', 'qvm-shutdown', 'qvm-kill', 'qubes-policy ', ' add ', ' del ', 'attach', 'detach', '--enable', '--disable', '--unset', 'qvm-copy'])
    t.false(text.includes(w), w);
  t.regex(text, /qvm-run --pass-io --no-gui --quiet \$autostart/);
  t.regex(text, /autostart=--no-autostart\n/);
});

toolTest('shellcheck: collect.sh, the snapshot script', ['shellcheck'], (t) => {
  const sc = run('shellcheck', ['--severity=style', '-s', 'sh', shellFile]);
  t.is(sc.status, 0, sc.stdout + sc.stderr);
});
