/** The language tour in the README parses: every ```qpol block is valid syntax. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseFile } from '../../compiler/syntax/parse.js';
import { SourceFile } from '../../compiler/source.js';

const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```qpol\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the README has qpol examples', (t) => {
  t.true(blocks.length >= 5);
});

blocks.forEach((b, i) => {
  test(`README qpol block ${i + 1} parses`, (t) => {
    t.deepEqual(parseFile(new SourceFile(`README-${i + 1}.qpol`, b)).diagnostics.map((d) => d.message), []);
  });
});

test('the Quick start has exactly the two commands .ci/run runs', (t) => {
  const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
  t.truthy(quick);
  const commands = quick![1].trim().split('\n');
  t.deepEqual(commands, ['npm install && npx qpc check examples/journalist.qpol', 'npm test']);
  const ci = readFileSync('.ci/run', 'utf8');
  t.true(ci.includes('npx qpc check examples/journalist.qpol'));
  t.true(ci.includes('npm test'));
});
