/**
 * The build's ready-made trees of the standard library are the parser's
 * trees, and are used only for the exact text they were made from.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { buildStdlibCache, parserFingerprint, treeFrom } from '../../../compiler/stdlib-cache.js';
import { SourceFile } from '../../../compiler/source.js';
import { parseFile } from '../../../compiler/syntax/parse.js';

test('every standard library file is in the cache, and its tree read back from JSON is the parser’s', (t) => {
  const cache = JSON.parse(JSON.stringify(buildStdlibCache('policies'))) as ReturnType<typeof buildStdlibCache>;
  const names = readdirSync('policies').filter((f) => f.endsWith('.qpol')).sort();
  t.deepEqual(Object.keys(cache.files).sort(), names.map((n) => `policies/${n}`));
  for (const n of names) {
    const source = new SourceFile(`policies/${n}`, readFileSync(`policies/${n}`, 'utf8'));
    t.deepEqual(treeFrom(cache, source), parseFile(source).ast, n);
  }
});

test('an edited file, or another path, is parsed instead', (t) => {
  const cache = buildStdlibCache('policies');
  const text = readFileSync('policies/qubes.qpol', 'utf8');
  t.truthy(treeFrom(cache, new SourceFile('policies/qubes.qpol', text)));
  t.is(treeFrom(cache, new SourceFile('policies/qubes.qpol', text + '\n# edited\n')), undefined);
  t.is(treeFrom(cache, new SourceFile('mine/qubes.qpol', text)), undefined);
  t.is(treeFrom(null, new SourceFile('policies/qubes.qpol', text)), undefined);
});

test('trees made by another parser (an older grammar) are parsed again', (t) => {
  const cache = buildStdlibCache('policies');
  const source = new SourceFile('policies/qubes.qpol', readFileSync('policies/qubes.qpol', 'utf8'));
  t.is(cache.parser, parserFingerprint());
  t.truthy(treeFrom(cache, source));
  t.is(treeFrom({ ...cache, parser: 'another parser' }, source), undefined);
});
