/**
 * The proof of an import (`qpc import --verify`) on both recorded snapshots:
 * every difference is one the rules closing the Tor identities make, and
 * each is reported; with `--no-identities` there is none. A rule taken out
 * of the import is found.
 */
import test from 'ava';
import { importSnapshot, verifyImport, type ImportResult } from '../../../../compiler/index.js';

const snapshots = { 'qubes-4.2-whonix': 'test/fixtures/snapshots/qubes-4.2-whonix', 'securedrop-like': 'test/fixtures/snapshots/securedrop-like' } as const;

function text(dir: string, noIdentities = false): string {
  const r = importSnapshot(dir, { noIdentities }) as ImportResult;
  return r.text!;
}

function verified(dir: string, t: string) {
  const v = verifyImport(dir, t);
  if (!('compared' in v)) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
  return v;
}

for (const [name, dir] of Object.entries(snapshots)) {
  test(`${name}: only the documented closing rules decide differently, each reported`, (t) => {
    const v = verified(dir, text(dir));
    t.true(v.compared > 10_000);
    t.true(v.differences.length > 0);
    t.deepEqual(v.differences.filter((d) => !d.documented).map((d) => d.request), []);
    t.is(v.diagnostics.length, v.differences.length);
    t.true(v.diagnostics.every((d) => d.code === 'QP6205'));
    // Every documented difference is a call from or to a qube of a Tor identity that the import closes.
    t.true(v.differences.every((d) => d.closing.length > 0 && d.imported.action !== 'allow'));
  });

  test(`${name}: with --no-identities nothing decides differently`, (t) => {
    const v = verified(dir, text(dir, true));
    t.true(v.compared > 10_000);
    t.deepEqual(v.differences.map((d) => d.request), []);
  });
}

test('a rule missing from the import is a difference at the request it decides', (t) => {
  const dir = snapshots['securedrop-like'];
  const cut = text(dir, true).replace(/\n\s*allow qubes\.Gpg\s+from @tag:sd-client\s+to sd-gpg\n/, '\n');
  const v = verified(dir, cut);
  const found = v.differences.filter((d) => !d.documented);
  t.true(found.length > 0);
  t.true(found.every((d) => d.request.service === 'qubes.Gpg' && d.original.action === 'allow' && d.imported.action === 'deny'));
  t.true(found.some((d) => d.request.source === 'sd-app' && d.request.target === 'sd-gpg'));
  t.true(v.diagnostics.some((d) => d.code === 'QP6204' && d.message.includes('`qubes.Gpg sd-app sd-gpg`')));
});

test('an import that does not check gives its diagnostics, not a comparison', (t) => {
  const v = verifyImport(snapshots['qubes-4.2-whonix'], 'use "qubes"\nqube x in nowhere\n');
  t.false('compared' in v);
  t.true(v.diagnostics.some((d) => d.severity === 'error'));
});
