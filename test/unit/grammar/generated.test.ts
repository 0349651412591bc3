/** The committed parser must be what `npm run grammar` generates from the grammar. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

test('grammar/generated/parser.js is up to date with grammar/policy.peggy', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-grammar-'));
  try {
    const out = path.join(dir, 'parser.js');
    execFileSync(process.execPath, ['node_modules/peggy/bin/peggy.js', '--format', 'es', '--dts', '-o', out, 'grammar/policy.peggy']);
    t.is(readFileSync(out, 'utf8'), readFileSync('grammar/generated/parser.js', 'utf8'), 'run `npm run grammar` and commit the result');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
