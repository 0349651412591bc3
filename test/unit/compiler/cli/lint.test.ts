/**
 * `qpc lint`: exit codes, the renderers of `check` (SARIF valid against the
 * schema), the stock policy directories of Qubes 4.2 and 4.3 without error,
 * a malformed file reported at its line with the "every call denied"
 * consequence, `--system-info`, and input that is not a policy.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runQpc, runQpcAsync } from '../../../helpers/cli.js';
import { sarifSchemaErrors } from '../../../helpers/sarif-schema.js';

const corpus = 'test/fixtures/native/corpus.json';

/** A policy directory in a fresh temporary directory. */
function policyDir(files: Readonly<Record<string, string>>): string {
  const root = path.join(mkdtempSync(path.join(tmpdir(), 'qpc-lint-')), 'policy.d');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

async function stock(name: string): Promise<Record<string, string>> {
  const { readFile } = await import('node:fs/promises');
  const c = JSON.parse(await readFile(corpus, 'utf8')) as { cases: { name: string; files: Record<string, string> }[] };
  return c.cases.find((x) => x.name === name)!.files;
}

for (const release of ['4.2', '4.3'] as const) {
  test(`Qubes' stock policy.d of ${release} gives no error, and its rules are stock`, async (t) => {
    const dir = policyDir(await stock(`stock-${release}`));
    const r = runQpc(['lint', '--release', release, '--error-format', 'json', dir]);
    const ds = JSON.parse(r.stdout) as { code: string; severity: string }[];
    t.deepEqual(ds.filter((d) => d.severity === 'error'), []);
    t.is(r.code, 0, r.stderr);
    const plain = runQpc(['lint', '--release', release, dir]);
    t.regex(plain.stdout, new RegExp(`: ok for Qubes ${release.replace('.', '\\.')} \\(${release === '4.2' ? 7 : 8} files, ${release === '4.2' ? 60 : 85} rules, ${release === '4.2' ? 60 : 85} of them stock\\)`));
  });
}

test('a malformed file is reported at its line, with the consequence, exit 1', (t) => {
  const dir = policyDir({ '30-user.policy': '# mine\nqubes.Filecopy * work vault allow,notify=yes\n', '90-default.policy': 'qubes.Filecopy * @anyvm @anyvm ask\n' });
  const r = runQpc(['lint', '--error-format', 'plain', dir]);
  t.is(r.code, 1);
  t.regex(r.stderr, /error\[QP6001\]: policy syntax error: invalid action: allow,notify=yes\n --> .*30-user\.policy:2:29\n/);
  t.regex(r.stderr, /\n1 error(\n|, )/);
  t.regex(r.stderr, /dom0 denies every qrexec call on the machine/);
  t.notRegex(r.stdout, /ok for Qubes/);
});

test('SARIF of lint is valid and points into the policy files', (t) => {
  const dir = policyDir({ '30-user.policy': 'qubes.Open/URL * work vault allow\n', README: 'x' });
  const r = runQpc(['lint', '--error-format', 'sarif', dir]);
  t.is(r.code, 1);
  const log = JSON.parse(r.stdout);
  t.deepEqual(sarifSchemaErrors(log), []);
  const result = log.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'QP6001');
  t.regex(result.locations[0].physicalLocation.artifactLocation.uri, /30-user\.policy$/);
  t.is(result.locations[0].physicalLocation.region.startLine, 1);
});

test('--deny-warnings makes a file lint cannot read an error; a missing path and a bad --system-info are I/O errors', (t) => {
  const dir = policyDir({ '30-user.policy': '!include /etc/qubes-rpc/policy/qubes.Gpg\n' });
  t.is(runQpc(['lint', '--error-format', 'plain', '--system-info', path.join(dir, '30-user.policy'), dir]).code, 2);
  const info = path.join(path.dirname(dir), 'info.json');
  writeFileSync(info, JSON.stringify({ domains: { dom0: { type: 'AdminVM', tags: [] }, work: { type: 'AppVM', tags: [] } } }));
  const ok = runQpc(['lint', '--error-format', 'plain', '--system-info', info, dir]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /warning\[QP6004\]/);
  t.is(runQpc(['lint', '--deny-warnings', '--system-info', info, dir]).code, 1);
  const missing = runQpc(['lint', '--error-format', 'plain', path.join(dir, 'nothing-here')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /QP5001/);
});

test('binary junk and a policy file name Qubes refuses give diagnostics, never a stack trace', (t) => {
  const junk = Array.from({ length: 4000 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
  const dir = policyDir({ '30-junk.policy': junk, '30-Junk.policy': 'x' });
  const r = runQpc(['lint', '--error-format', 'json', dir]);
  t.is(r.code, 1);
  const codes = new Set((JSON.parse(r.stdout) as { code: string }[]).map((d) => d.code));
  t.true(codes.has('QP6001'));
  t.true(codes.has('QP6002'));
  t.false(codes.has('QP9001'));
});

test('--system-info also takes a directory qpc snapshot recorded; another directory is an I/O error', (t) => {
  const snap = 'test/fixtures/snapshots/securedrop-like';
  const ok = runQpc(['lint', '--error-format', 'json', '--system-info', snap, `${snap}/policy.d`]);
  const ds = JSON.parse(ok.stdout) as { code: string; severity: string }[];
  t.deepEqual(ds.filter((d) => d.code.startsWith('QP5')), []);
  t.not(ok.code, 2);
  const bad = runQpc(['lint', '--error-format', 'plain', '--system-info', 'test/fixtures/native', `${snap}/policy.d`]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /QP5001.*not one `qpc snapshot` recorded/);
});

test('--graph draws the calls between the qubes of a recorded machine: DOT by the name, SVG otherwise, findings in their colour', async (t) => {
  const snap = 'test/fixtures/snapshots/securedrop-like';
  const r = await runQpcAsync(['lint', '--error-format', 'plain', '--system-info', snap, '--graph', 'sdw.dot', `${snap}/policy.d`]);
  t.is(r.code, 0, r.stderr);
  const text = r.written.get('sdw.dot')!;
  t.regex(text, /^digraph "policy\.d" \{/);
  // SecureDrop's own grants between its qubes, each an edge with the service on it.
  t.regex(text, /"sd-app" -> "sd-gpg" \[id="edge:channel:allow:sd-app->sd-gpg"[^\n]*qubes\.Gpg/);
  t.regex(text, /"sd-app" -> "sd-devices" \[id="edge:channel:allow:sd-app->sd-devices"/);
  // The stock dialogs between every qube are one note, not an edge per pair.
  t.regex(text, /note:any:ask/);
  const s = await runQpcAsync(['lint', '--error-format', 'plain', '--system-info', snap, '--graph', 'sdw.svg', `${snap}/policy.d`]);
  t.is(s.code, 0);
  const xml = s.written.get('sdw.svg')!;
  t.regex(xml, /^<\?xml|^<svg/);
  // Graphviz writes `-` as `&#45;` in ids.
  t.regex(xml, /id="edge:channel:allow:sd&#45;app&#45;&gt;sd&#45;gpg"/);
});
