/**
 * The golden helper is strict: a missing golden fails (it is not created), a
 * mismatch leaves `FILE.actual` beside the golden, agreement removes a stale
 * one, and a target case fails on an extra or a missing file.
 */
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { actualSuffix, compareGolden, filesUnder, goldenCaseFiles } from '../../helpers/golden.js';

function scratch(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-golden-'));
}

test('a missing golden is reported and not created; the output goes to FILE.actual', (t) => {
  const dir = scratch();
  try {
    const file = path.join(dir, 'sub', 'expected.txt');
    const r = compareGolden(file, 'out\n', false);
    t.is(r.kind, 'missing');
    t.false(existsSync(file));
    t.is(readFileSync(file + actualSuffix, 'utf8'), 'out\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('updating writes the golden and removes a stale FILE.actual', (t) => {
  const dir = scratch();
  try {
    const file = path.join(dir, 'expected.txt');
    writeFileSync(file + actualSuffix, 'old');
    t.is(compareGolden(file, 'new\n', true).kind, 'written');
    t.is(readFileSync(file, 'utf8'), 'new\n');
    t.false(existsSync(file + actualSuffix));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

testProp('a comparison agrees iff the texts are equal; FILE.actual exists exactly after a mismatch', [fc.string(), fc.string()], (t, golden, actual) => {
  const dir = scratch();
  try {
    const file = path.join(dir, 'expected.txt');
    writeFileSync(file, golden);
    writeFileSync(file + actualSuffix, 'stale');
    const r = compareGolden(file, actual, false);
    t.is(r.kind, golden === actual ? 'same' : 'differs');
    t.is(existsSync(file + actualSuffix), golden !== actual);
    if (golden !== actual) t.is(readFileSync(file + actualSuffix, 'utf8'), actual);
    t.is(readFileSync(file, 'utf8'), golden, 'the golden is never rewritten without UPDATE_GOLDEN');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a target case lists its source, artifacts.json and every artifact under files/', (t) => {
  const arts = [{ path: 'a/x.sh', contents: 'x\n', executable: true }, { path: 'b', contents: 'b\n' }];
  t.deepEqual([...goldenCaseFiles({ example: 'examples/e.qpol' }, arts).keys()], ['example', 'artifacts.json', 'files/a/x.sh', 'files/b']);
  t.deepEqual([...goldenCaseFiles({ text: 'p\n' }, arts).keys()][0], 'input.qpol');
  t.is(goldenCaseFiles({ example: 'examples/e.qpol', note: 'qubes 4.2' }, arts).get('example'), 'examples/e.qpol\nqubes 4.2\n');
  t.deepEqual(JSON.parse(goldenCaseFiles({ text: '' }, arts).get('artifacts.json')!), [{ path: 'a/x.sh', executable: true }, { path: 'b' }]);
});

test('filesUnder lists nested files relative to the directory, sorted', (t) => {
  const dir = scratch();
  try {
    mkdirSync(path.join(dir, 'files', 'q'), { recursive: true });
    writeFileSync(path.join(dir, 'files', 'q', 'z'), '');
    writeFileSync(path.join(dir, 'example'), '');
    t.deepEqual(filesUnder(dir), ['example', 'files/q/z']);
    t.deepEqual(filesUnder(path.join(dir, 'none')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
