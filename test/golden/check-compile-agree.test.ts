/**
 * `check` finds every error `compile` refuses a policy for: for each golden
 * diagnostic case, example, standard library module and deployment policy,
 * `check` and a default `compile` (every target) report the same errors, and
 * a policy `check` calls ok compiles. `compile` may add only command-line and
 * I/O findings (QP5xxx).
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { check, compile, type Diagnostic } from '../../compiler/index.js';
import { nodeHost, overlayHost, type CompilerHost } from '../../compiler/host.js';
import { standardModules } from '../../compiler/passes/load-files.js';

const diagnostics = 'test/golden/diagnostics';

/** Every policy file of the golden cases, the examples, the standard library (through a `use`) and the deployments. */
const cases: { entry: string; host: CompilerHost }[] = [
  ...readdirSync(diagnostics)
    .sort()
    .flatMap((name) => {
      const dir = path.posix.join(diagnostics, name);
      return existsSync(path.join(dir, 'expected.txt')) ? readdirSync(dir).filter((f) => f.endsWith('.qpol')).sort().map((f) => path.posix.join(dir, f)) : [];
    }),
  ...['examples', 'test/deployments'].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.qpol')).sort().map((f) => path.posix.join(dir, f))),
].map((entry) => ({ entry, host: nodeHost }));
for (const m of standardModules) cases.push({ entry: `use-${m}.qpol`, host: overlayHost(new Map([[`use-${m}.qpol`, `use "${m}"\n`]]), nodeHost) });

function shown(d: Diagnostic): string {
  const at = d.span ? `${d.span.file}@${d.span.start}-${d.span.end}` : '-';
  return `${d.code} ${at} ${d.message}`;
}

const errors = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === 'error').map(shown);

test('the cases include the golden target-refusal case and every example', (t) => {
  t.true(cases.some((c) => c.entry.startsWith(`${diagnostics}/QP4001-`)));
  t.true(cases.filter((c) => c.entry.startsWith('examples/')).length >= 3);
});

for (const { entry, host } of cases) {
  test(`check and compile agree on the errors of ${entry}`, async (t) => {
    const checked = check(entry, { host });
    const compiled = await compile(entry, { host });
    const fromCheck = errors(checked.diagnostics);
    // compile may only add what the command line and the file system cause.
    const fromCompile = errors(compiled.diagnostics).filter((d) => !d.startsWith('QP5') || fromCheck.includes(d));
    t.deepEqual(fromCheck, fromCompile);
    if (fromCheck.length === 0) t.truthy(compiled.artifacts, 'a policy `check` calls ok compiles');
  });
}
