/**
 * Every example and standard library module is a golden case: it checks with
 * no diagnostics at all (not even warnings), `qpc check` prints its summary,
 * and the bound program and its network model match
 * test/golden/examples/<name>/{program,network}.txt.
 * A standard library module is checked as the user sees it: through a
 * one-line entry file that `use`s it.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { check } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import { expectGolden } from '../helpers/golden.js';
import { runQpc } from '../helpers/cli.js';
import { dumpNetwork, dumpProgram } from '../helpers/dump-program.js';
import { standardModules } from '../../compiler/passes/load-files.js';

const cases = [
  ...readdirSync('examples').filter((f) => f.endsWith('.qpol')).map((f) => `examples/${f}`),
  ...standardModules.map((m) => `policies/${m}.qpol`),
].sort();

test('there are at least three examples', (t) => {
  t.true(cases.filter((c) => c.startsWith('examples/')).length >= 3);
});

for (const file of cases) {
  const module = path.basename(file, '.qpol');
  const name = `${path.dirname(file)}-${module}`;
  const std = file.startsWith('policies/');
  const entry = std ? `use-${module}.qpol` : file;
  const host = std ? overlayHost(new Map([[entry, `use "${module}"\n`]]), nodeHost) : nodeHost;
  test(`${file} checks clean with --deny-warnings`, (t) => {
    const r = runQpc(['check', '--deny-warnings', '--error-format', 'plain', entry], { host });
    // Information (a module alone names no kernel, so no Xen files: QP4302) is not a finding.
    t.deepEqual(r.stderr.split('\n').filter((l) => /^(error|warning)/.test(l)), []);
    t.is(r.code, 0);
    expectGolden(t, `test/golden/examples/${name}/check.txt`, r.stdout);
  });
  test(`${file} binds as recorded`, (t) => {
    const r = check(entry, { host });
    t.deepEqual(r.diagnostics.filter((d) => d.code !== 'QP4302'), []);
    t.truthy(r.program);
    if (r.program) expectGolden(t, `test/golden/examples/${name}/program.txt`, dumpProgram(r.program));
    if (r.graph) expectGolden(t, `test/golden/examples/${name}/network.txt`, dumpNetwork(r.graph, r.allocation));
    t.false(r.lock?.changed && r.lock.previous !== undefined, 'the committed lock file is up to date');
  });
}
