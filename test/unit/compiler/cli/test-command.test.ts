/**
 * `qpc test`: every `expect` reported as passed or failed, a summary, exit 1
 * on a failure or a policy error, JUnit XML; and the check's QP3035 agrees
 * with it, expectation by expectation.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { check } from '../../../../compiler/index.js';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { evaluateExpects } from '../../../../compiler/qrexec/expects.js';
import { runQpc } from '../../../helpers/cli.js';

const base = 'use "qubes"\ntemplate deb\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\nqube web in work { template deb }\n';
const mixed = `${base}deny qubes.Filecopy from mail to web\nexpect qubes.Filecopy from mail to web: deny\nexpect qubes.Filecopy from web to mail: deny\nexpect qubes.OpenURL from mail to dom0: deny\n`;
const green = `${base}expect qubes.Filecopy from mail to dom0: deny\n`;
const broken = `${base}qube x in nowhere\nexpect qubes.Filecopy from mail to web: deny\n`;
const host = overlayHost(new Map([['mixed.qpol', mixed], ['green.qpol', green], ['broken.qpol', broken], ['odd<&>.qpol', `${base}expect qubes.Filecopy from mail to web: allow\n`]]), nodeHost);

test('one line per expect, passed or failed with the decision found, and a summary', (t) => {
  const r = runQpc(['test', 'mixed.qpol'], { host });
  t.is(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.length, 4);
  t.is(lines[0], 'test mixed.qpol:7 expect qubes.Filecopy from mail to web: deny ... ok');
  t.regex(lines[1], /^test mixed\.qpol:8 expect qubes\.Filecopy from web to mail: deny \.\.\. FAILED: found ask \(.*\) \(decided by `ask qubes\.Filecopy from @anyvm to @anyvm` in 90-default\.policy \(stock; /);
  t.is(lines[2], 'test mixed.qpol:9 expect qubes.OpenURL from mail to dom0: deny ... ok');
  t.is(lines[3], 'test result: FAILED. 2 passed; 1 failed');
  t.false(r.stderr.includes('QP3035'), 'a failed expect is a failed test, not also a finding');
  t.is(r.written.size, 0, 'no lock file is written');
});

test('all passing: exit 0; several files; the examples\' expects pass', (t) => {
  const r = runQpc(['test', 'green.qpol', 'examples/developer.qpol'], { host });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^test green\.qpol:6 expect qubes\.Filecopy from mail to dom0: deny \.\.\. ok$/m);
  t.regex(r.stdout, /^test examples\/developer\.qpol:\d+ expect qubes\.ConnectTCP\+22 from dev-code to @default: allow target build \.\.\. ok$/m);
  t.regex(r.stdout, /^test result: ok\. \d+ passed; 0 failed\n$/m);
});

test('a policy with errors: its expects are not run, exit 1, the errors on stderr', (t) => {
  const r = runQpc(['test', 'broken.qpol', 'green.qpol'], { host });
  t.is(r.code, 1);
  t.regex(r.stdout, /^test broken\.qpol:7 expect qubes\.Filecopy from mail to web: deny \.\.\. not run \(the policy has errors\)$/m);
  t.regex(r.stdout, /^test result: FAILED\. 1 passed; 0 failed; 1 not run; 1 policy with errors$/m);
  t.regex(r.stderr, /error\[QP2001\]/);
  t.is(runQpc(['test', 'missing.qpol']).code, 2);
});

test('--junit writes one testsuite per file and one testcase per expect', (t) => {
  const r = runQpc(['test', 'mixed.qpol', 'green.qpol', '--junit', 'report.xml'], { host });
  t.is(r.code, 1);
  const xml = r.written.get('report.xml')!;
  t.truthy(xml);
  t.regex(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="qpc test" tests="4" failures="1" errors="0">/);
  t.is(xml.match(/<testsuite /g)?.length, 2);
  t.is(xml.match(/<testcase /g)?.length, 4);
  t.regex(xml, /<testsuite name="mixed\.qpol" file="mixed\.qpol" tests="3" failures="1" errors="0">/);
  t.regex(xml, /<testcase classname="mixed\.qpol" name="expect qubes\.Filecopy from mail to web: deny" file="mixed\.qpol" line="7"\/>/);
  t.regex(xml, /<testcase classname="mixed\.qpol" name="expect qubes\.Filecopy from web to mail: deny" file="mixed\.qpol" line="8">\n {6}<failure message="ask \([^"]*\)" type="QP3035">expected deny; the policy decides `ask`; decided by /);
  t.regex(xml, /<testsuite name="green\.qpol" file="green\.qpol" tests="1" failures="0" errors="0">/);
});

test('--junit escapes what XML reserves', (t) => {
  const r = runQpc(['test', 'odd<&>.qpol', '--junit', 'r.xml'], { host });
  const xml = r.written.get('r.xml')!;
  t.regex(xml, /name="odd&lt;&amp;&gt;\.qpol"/);
  t.false(/odd<|&>/.test(xml));
  t.is(runQpc(['test', 'green.qpol', '--junit', 'r.xml'], { host, writeFails: true }).code, 2, 'a report that cannot be written is an I/O error');
});

test('the check\'s QP3035 and qpc test agree, expect by expect', (t) => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).map((f) => `examples/${f}`);
  for (const f of ['mixed.qpol', 'green.qpol', ...examples]) {
    const r = check(f, { host });
    t.truthy(r.program && r.policy, f);
    const failed = evaluateExpects(r.program!, r.policy!).filter((o) => !o.passed).map((o) => `${o.expect.span.file}:${o.expect.span.line}`);
    const reported = r.diagnostics.filter((d) => d.code === 'QP3035').map((d) => `${d.span!.file}:${d.span!.line}`);
    t.deepEqual(reported, failed, f);
  }
});
