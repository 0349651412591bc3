/**
 * Golden files: compares text with a file under test/golden; with
 * UPDATE_GOLDEN=1 the file is (re)written instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ExecutionContext } from 'ava';

export const updating = process.env.UPDATE_GOLDEN === '1';

export function expectGolden(t: ExecutionContext, file: string, actual: string): void {
  if (updating || !existsSync(file)) {
    if (!updating && process.env.CI === 'true') {
      t.fail(`golden file ${file} is missing`);
      return;
    }
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    t.pass();
    return;
  }
  t.is(actual, readFileSync(file, 'utf8'), `output differs from ${file} (UPDATE_GOLDEN=1 npm test rewrites it)`);
}
