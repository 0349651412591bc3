/**
 * `qpc import` on the command line: the policy to standard output or `-o`,
 * never into the snapshot, `--verify`'s summary and exit codes, and what a
 * directory that is not a snapshot gets.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { runQpc } from '../../../helpers/cli.js';
import { snapshotCopy } from './snapshot-copy.js';

const whonix = 'test/fixtures/snapshots/qubes-4.2-whonix';

test('the policy goes to standard output, the diagnostics to standard error', (t) => {
  const r = runQpc(['import', whonix]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, readFileSync('test/golden/import/qubes-4.2-whonix.qpol', 'utf8'));
  t.regex(r.stderr, /warning\[QP6202\]: the pci device `dom0:00_14\.3` of `sys-net` is not imported/);
  t.deepEqual([...r.written.keys()], []);
});

test('-o writes the file; a path inside the snapshot is refused and nothing is written', (t) => {
  const r = runQpc(['import', whonix, '-o', 'machine.qpol']);
  t.is(r.code, 0);
  t.is(r.stdout, '');
  t.is(r.written.get('machine.qpol'), readFileSync('test/golden/import/qubes-4.2-whonix.qpol', 'utf8'));
  for (const out of [`${whonix}/machine.qpol`, `${whonix}/policy.d/../x.qpol`, whonix, `./${whonix}/qubes/x`]) {
    const bad = runQpc(['import', whonix, '-o', out]);
    t.is(bad.code, 2, out);
    t.regex(bad.stderr, /never writes into a snapshot/);
    t.deepEqual([...bad.written.keys()], []);
  }
});

test('--verify: a summary line, exit 0 when only the closing rules differ', (t) => {
  const r = runQpc(['import', '--verify', '--error-format', 'json', whonix]);
  t.is(r.code, 0);
  t.regex(r.stderr, /^verify: \d+ requests compared; \d+ decide differently: \d+ by the rules that close the Tor identities \(documented\), 0 otherwise\n$/m);
  const none = runQpc(['import', '--verify', '--no-identities', whonix]);
  t.regex(none.stderr, /verify: \d+ requests compared; 0 decide differently/);
  t.is(none.code, 0);
});

test('--verify exits 1 for a difference no closing rule makes', (t) => {
  const dir = snapshotCopy(whonix, { 'policy.d/30-user.policy': 'qubes.Filecopy * * @anyvm deny\n' });
  const r = runQpc(['import', '--verify', '--no-identities', dir]);
  t.is(r.code, 1);
  t.regex(r.stderr, /error\[QP6204\]: `qubes\.Filecopy work vault` decides differently: in dom0 deny, in the import ask/);
  t.regex(r.stderr, /verify: \d+ requests compared; \d+ decide differently: 0 by the rules that close the Tor identities \(documented\), [1-9]\d* otherwise/);
});

test('a directory that is not a snapshot: diagnostics, exit 2, no policy', (t) => {
  const r = runQpc(['import', 'test/fixtures/no-such-snapshot']);
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /QP5001/);
});
