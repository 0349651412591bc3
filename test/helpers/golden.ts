/**
 * Golden files: compares text with a file under test/golden; with
 * UPDATE_GOLDEN=1 the file is (re)written instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ExecutionContext } from 'ava';
import { standardLibraryDir } from '../../compiler/host.js';

export const updating = process.env.UPDATE_GOLDEN === '1';

/**
 * Renderers print places in the standard library by the absolute path of the
 * installed files; golden files name that directory `<qpc>/policies`, so they
 * hold no path of the machine that wrote them.
 */
export function normaliseGolden(text: string): string {
  return text.replaceAll(standardLibraryDir(), '<qpc>/policies');
}

export function expectGolden(t: ExecutionContext, file: string, output: string): void {
  const actual = normaliseGolden(output);
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
