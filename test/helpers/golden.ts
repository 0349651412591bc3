/**
 * Golden files: compares text with a file under test/golden. A missing
 * golden fails; on a mismatch the output is written beside the golden as
 * `FILE.actual` (git-ignored), and a passing comparison removes a stale one.
 * With UPDATE_GOLDEN=1 (`npm run golden:accept`) the golden is (re)written
 * instead.
 *
 * Target goldens share one layout, `expectGoldenArtifacts`: a case directory
 * holds its source (`input.qpol`, or `example`, naming the example it
 * compiles), `artifacts.json` (every artifact's path, executable bit and
 * deployment) and `files/PATH` for every artifact, and nothing else.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ExecutionContext } from 'ava';
import { standardLibraryDir } from '../../compiler/host.js';

export const updating = process.env.UPDATE_GOLDEN === '1';

/** The suffix of the file a mismatch writes beside its golden. */
export const actualSuffix = '.actual';

/**
 * Renderers print places in the standard library by the absolute path of the
 * installed files; golden files name that directory `<qpc>/policies`, so they
 * hold no path of the machine that wrote them.
 */
export function normaliseGolden(text: string): string {
  return text.replaceAll(standardLibraryDir(), '<qpc>/policies');
}

/** What comparing output with a golden file found. */
export type GoldenOutcome = { readonly kind: 'same' | 'written' } | { readonly kind: 'missing' | 'differs'; readonly message: string };

/**
 * Compares `actual` (already normalised) with the golden `file`: writes it
 * when updating; otherwise writes `FILE.actual` on a mismatch or a missing
 * golden, and removes a stale one when they agree.
 */
export function compareGolden(file: string, actual: string, update = updating): GoldenOutcome {
  const side = file + actualSuffix;
  if (update) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    rmSync(side, { force: true });
    return { kind: 'written' };
  }
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(side, actual);
    return { kind: 'missing', message: `golden file ${file} is missing; the output is in ${side} (npm run golden:accept writes the golden)` };
  }
  if (readFileSync(file, 'utf8') === actual) {
    rmSync(side, { force: true });
    return { kind: 'same' };
  }
  writeFileSync(side, actual);
  return { kind: 'differs', message: `output differs from ${file}; the output is in ${side} (npm run golden:accept rewrites the golden)` };
}

export function expectGolden(t: ExecutionContext, file: string, output: string): void {
  const actual = normaliseGolden(output);
  const r = compareGolden(file, actual);
  if (r.kind === 'missing') {
    t.fail(r.message);
    return;
  }
  if (r.kind === 'differs') {
    t.is(actual, readFileSync(file, 'utf8'), r.message);
    return;
  }
  t.pass();
}

/** Every file under `dir`, as `/`-separated paths relative to it, sorted; none when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** The source of a target golden case: an example it compiles (with a note on how, e.g. the release switched), or a policy text. */
export type GoldenSource = { readonly example: string; readonly note?: string } | { readonly text: string };

/** An artifact as a target golden records it (structurally a target's `Artifact`). */
export interface GoldenArtifact {
  readonly path: string;
  readonly contents: string;
  readonly executable?: boolean;
  readonly deploy?: unknown;
}

/** The files of a target golden case, by path in the case directory. */
export function goldenCaseFiles(source: GoldenSource, artifacts: readonly GoldenArtifact[]): Map<string, string> {
  const files = new Map<string, string>();
  if ('text' in source) files.set('input.qpol', source.text);
  else files.set('example', `${source.example}\n${source.note === undefined ? '' : `${source.note}\n`}`);
  const listing = artifacts.map((a) => ({ path: a.path, ...(a.executable ? { executable: true } : {}), ...(a.deploy ? { deploy: a.deploy } : {}) }));
  files.set('artifacts.json', JSON.stringify(listing, null, 2) + '\n');
  for (const a of artifacts) files.set(`files/${a.path}`, a.contents);
  return files;
}

/**
 * Compares a target's artifacts with the golden case `dir`: every file's
 * contents, and the file set itself (an extra or a missing file fails; when
 * updating, extra files are removed).
 */
export function expectGoldenArtifacts(t: ExecutionContext, dir: string, source: GoldenSource, artifacts: readonly GoldenArtifact[]): void {
  const files = goldenCaseFiles(source, artifacts);
  const extra = filesUnder(dir).filter((f) => !files.has(f) && !f.endsWith(actualSuffix));
  if (updating) for (const f of extra) rmSync(path.join(dir, f));
  // Every file is compared (and its `.actual` written) before an assertion can stop the test.
  const problems = [...files].map(([f, contents]) => compareGolden(path.join(dir, f), normaliseGolden(contents))).flatMap((r) => (r.kind === 'missing' || r.kind === 'differs' ? [r.message] : []));
  if (!updating) t.deepEqual(extra, [], `${dir} holds files no artifact of the case has`);
  t.deepEqual(problems, [], `the golden case ${dir} differs`);
}
