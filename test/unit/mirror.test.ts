/**
 * Every source file of compiler/ and targets/ has a mirrored unit test
 * (compiler/X/Y.ts → test/unit/compiler/X/Y.test.ts), or is listed below with
 * the test that covers it and why it has no mirror of its own. A new source
 * file without either fails here, naming the file.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';

/** Files without a mirror: what covers them instead. */
const coveredElsewhere: Readonly<Record<string, { readonly by: string; readonly why: string }>> = {
  'compiler/qrexec/types.ts': { by: 'test/unit/compiler/qrexec/evaluate.test.ts', why: 'types only' },
  'compiler/syntax/ast.ts': { by: 'test/unit/compiler/syntax/parse.test.ts', why: 'types only' },
  'compiler/target.ts': { by: 'test/unit/targets/contract.test.ts', why: 'the target contract: types, tested over every registered target' },
  'compiler/plan/input.ts': { by: 'test/unit/compiler/plan/plan.test.ts', why: 'types only: what a plan is made from' },
  'compiler/snapshot/collect-text.ts': { by: 'test/unit/compiler/snapshot/script.test.ts', why: 'generated from collect.sh; a currency test keeps it so' },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const mirrorOf = (file: string) => `test/unit/${file.replace(/\.ts$/, '.test.ts')}`;

test('every source file has a mirrored unit test or names what covers it', (t) => {
  const missing = [...sourceFiles('compiler'), ...sourceFiles('targets')].filter((f) => !existsSync(mirrorOf(f)) && !(f in coveredElsewhere));
  t.deepEqual(missing, [], `write ${missing.map(mirrorOf).join(', ')}, or list the file in coveredElsewhere with the test that covers it`);
});

test('the files covered elsewhere exist, have no mirror after all, and their covering tests exist', (t) => {
  for (const [file, { by }] of Object.entries(coveredElsewhere)) {
    t.true(existsSync(file), `${file} is gone: remove it from the list`);
    t.false(existsSync(mirrorOf(file)), `${file} has a mirror now: remove it from the list`);
    t.true(existsSync(by), `${by} does not exist`);
  }
});
