/**
 * SARIF output checked against the official SARIF 2.1.0 schema: the SARIF
 * goldens (test/golden/sarif/NAME.sarif, the log of one diagnostic case,
 * rendered without the machine's base directories so it is the same
 * everywhere), and the log of every diagnostic case as the command line
 * writes it, base directories included.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { check } from '../../compiler/index.js';
import { packageDir } from '../../compiler/host.js';
import { renderSarif } from '../../compiler/diagnostics/render-sarif.js';
import { version } from '../../compiler/version.js';
import { expectGolden } from './../helpers/golden.js';
import { sarifSchemaErrors } from '../helpers/sarif-schema.js';

const cases = 'test/golden/diagnostics';
/** Cases whose logs are kept as goldens: related locations into the standard library, fixes, waivers, several files. */
const goldens = ['QP2001-unknown-name', 'QP2018-unused-declaration', 'QP3004-tor-bypassed', 'QP3030-cross-identity-channel'];

const inputs = readdirSync(cases)
  .filter((n) => existsSync(path.join(cases, n, 'input.qpol')))
  .sort();

test('the golden cases exist', (t) => {
  for (const g of goldens) t.true(inputs.includes(g), g);
});

for (const name of goldens) {
  test(`SARIF golden ${name}`, (t) => {
    const r = check(path.posix.join(cases, name, 'input.qpol'));
    const text = renderSarif(r.diagnostics, { toolVersion: version });
    expectGolden(t, path.join('test/golden/sarif', `${name}.sarif`), text);
    t.deepEqual(sarifSchemaErrors(JSON.parse(text)), []);
  });
}

test('every diagnostic case renders a log the official schema accepts', (t) => {
  for (const name of inputs) {
    const r = check(path.posix.join(cases, name, 'input.qpol'));
    const log = JSON.parse(renderSarif(r.diagnostics, { toolVersion: version, baseDir: process.cwd(), packageDir: packageDir() }));
    t.deepEqual(sarifSchemaErrors(log), [], name);
    t.true(log.runs[0].results.length > 0, `${name} has results`);
  }
});

test('the goldens on disk all belong to a case', (t) => {
  const dir = 'test/golden/sarif';
  const files = existsSync(dir) ? readdirSync(dir) : [];
  t.deepEqual(files.filter((f) => !goldens.includes(f.replace(/\.sarif$/, ''))), []);
  for (const f of files) t.deepEqual(sarifSchemaErrors(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))), [], f);
});

test('the command line names both bases, and every location resolves to a file on this machine', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/e2e/qpc-source.ts', 'check', '--error-format', 'sarif', path.posix.join(cases, 'QP2001-unknown-name', 'input.qpol')], { encoding: 'utf8' });
  t.is(r.status, 1, r.stderr);
  const log = JSON.parse(r.stdout);
  t.deepEqual(sarifSchemaErrors(log), []);
  const run = log.runs[0];
  const bases: Record<string, { uri: string }> = run.originalUriBaseIds;
  t.is(fileURLToPath(bases.SRCROOT.uri), `${process.cwd()}${path.sep}`);
  const where = run.results.flatMap((res: { locations?: unknown[]; relatedLocations?: unknown[] }) => [...(res.locations ?? []), ...(res.relatedLocations ?? [])]);
  t.true(where.length >= 2);
  const basesUsed = new Set<string>();
  for (const l of where as { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[]) {
    const a = l.physicalLocation.artifactLocation;
    const file = fileURLToPath(a.uriBaseId ? new URL(a.uri, bases[a.uriBaseId].uri) : a.uri);
    t.true(existsSync(file), file);
    if (a.uriBaseId) basesUsed.add(a.uriBaseId);
  }
  t.deepEqual([...basesUsed].sort(), ['QPCLIB', 'SRCROOT']);
  t.true(existsSync(fileURLToPath(run.tool.driver.rules[0].helpUri.split('#')[0])));
});
