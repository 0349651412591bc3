/** The README's command-line section names every command and every option the parser has. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { commands, optionNames } from '../../../../compiler/cli/args.js';

const readme = readFileSync('README.md', 'utf8');
const block = /## Command line\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

test('every command is in the README', (t) => {
  t.not(block, '');
  for (const c of [...commands, 'help']) t.regex(block, new RegExp(`^qpc ${c}\\b`, 'm'), c);
});

test('every option is in the README', (t) => {
  for (const [name, short] of optionNames()) t.true(block.includes(`--${name}`) || (short !== undefined && block.includes(`-${short} `)), name);
});
