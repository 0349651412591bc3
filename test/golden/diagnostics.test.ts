/**
 * One golden case per diagnostic code: test/golden/diagnostics/QPnnnn-slug/
 * holds `input.qpol` (checked with `--error-format plain`) or `command`
 * (the arguments, one per line), and `expected.txt`: exit code, stdout and
 * stderr of the run. A file `broken-host` injects a host whose readFile
 * returns nothing (a bug, for QP9001); `write-fails` makes every write fail.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expectGolden } from '../helpers/golden.js';
import { runQpcAsync } from '../helpers/cli.js';
import type { CompilerHost } from '../../compiler/host.js';
import { nodeHost } from '../../compiler/host.js';

const root = 'test/golden/diagnostics';

/** A host whose readFile returns nothing: a bug in a host, to exercise QP9001. */
const brokenHost: CompilerHost = { readFile: () => undefined as unknown as string };

for (const name of readdirSync(root).sort()) {
  const dir = path.posix.join(root, name);
  if (!existsSync(path.join(dir, 'expected.txt')) && !existsSync(path.join(dir, 'input.qpol')) && !existsSync(path.join(dir, 'command'))) continue;
  test(`diagnostic ${name}`, async (t) => {
    const code = name.slice(0, 6);
    const argv = existsSync(path.join(dir, 'command'))
      ? readFileSync(path.join(dir, 'command'), 'utf8').split('\n').filter((l) => l !== '').map((l) => l.replaceAll('$DIR', dir))
      : ['check', '--error-format', 'plain', path.posix.join(dir, 'input.qpol')];
    const host = existsSync(path.join(dir, 'broken-host')) ? brokenHost : nodeHost;
    const r = await runQpcAsync(argv, { host, writeFails: existsSync(path.join(dir, 'write-fails')) });
    expectGolden(t, path.join(dir, 'expected.txt'), `exit: ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
    t.true(r.stdout.includes(code) || r.stderr.includes(code), `the case must report ${code}`);
  });
}
