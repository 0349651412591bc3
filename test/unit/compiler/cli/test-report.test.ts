/**
 * The report of `qpc test`: one line per `expect`, the totals and the
 * summary line, and JUnit XML (one testsuite per policy file, one testcase
 * per `expect`) with every text escaped.
 */
import test from 'ava';
import { check, evaluateExpects, overlayHost, type ExpectOutcome, type Span } from '../../../../compiler/index.js';
import { caseLine, junitXml, passed, summaryText, totals, type TestCase, type TestSuite } from '../../../../compiler/cli/test-report.js';

const policy = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network clearnet via sys-firewall }
qube work-web in work { template debian-12-xfce }
qube keys in work { template debian-12-xfce }
allow qubes.Gpg from work-web to keys
expect qubes.Gpg from work-web to keys: allow
expect qubes.Gpg from work-web to keys: deny
`;

function cases(): TestCase[] {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]])), targets: [] });
  return evaluateExpects(r.program!, r.policy!).map((o) => ({ status: o.passed ? 'passed' : 'failed', outcome: o, name: o.name, span: o.expect.span }));
}

const span = (file: string, line: number): Span => ({ file, start: 0, end: 1, line, column: 1, endLine: line, endColumn: 2 });

test('the line of each case: where, what, and how it went', (t) => {
  const [ok, failed] = cases();
  t.is(caseLine(ok!), 'test p.qpol:9 expect qubes.Gpg from work-web to keys: allow ... ok');
  t.is(caseLine(failed!), 'test p.qpol:10 expect qubes.Gpg from work-web to keys: deny ... FAILED: found allow (target keys) (decided by `allow qubes.Gpg from work-web to keys` in 30-qpc.policy (ours; p.qpol:8))');
  t.is(caseLine({ status: 'not-run', name: 'x from a to b: deny', span: span('q.qpol', 3) }), 'test q.qpol:3 expect x from a to b: deny ... not run (the policy has errors)');
});

test('totals count the cases of every suite and the suites with errors', (t) => {
  const [ok, failed] = cases();
  const notRun: TestCase = { status: 'not-run', name: 'n', span: span('b.qpol', 1) };
  const suites: TestSuite[] = [
    { file: 'a.qpol', cases: [ok!, failed!, ok!], errors: 0 },
    { file: 'b.qpol', cases: [notRun, notRun], errors: 3 },
    { file: 'c.qpol', cases: [], errors: 1 },
  ];
  t.deepEqual(totals(suites), { passed: 2, failed: 1, notRun: 2, broken: 2 });
  t.deepEqual(totals([]), { passed: 0, failed: 0, notRun: 0, broken: 0 });
});

test('a run passes only with nothing failed, nothing not run and no policy with errors', (t) => {
  t.true(passed({ passed: 3, failed: 0, notRun: 0, broken: 0 }));
  t.true(passed({ passed: 0, failed: 0, notRun: 0, broken: 0 }), 'no expectations: nothing failed');
  t.false(passed({ passed: 3, failed: 1, notRun: 0, broken: 0 }));
  t.false(passed({ passed: 3, failed: 0, notRun: 1, broken: 0 }));
  t.false(passed({ passed: 3, failed: 0, notRun: 0, broken: 1 }));
});

test('the summary line names only the counts that apply, with the right number', (t) => {
  t.is(summaryText({ passed: 2, failed: 0, notRun: 0, broken: 0 }), 'test result: ok. 2 passed; 0 failed');
  t.is(summaryText({ passed: 1, failed: 1, notRun: 0, broken: 0 }), 'test result: FAILED. 1 passed; 1 failed');
  t.is(summaryText({ passed: 0, failed: 0, notRun: 2, broken: 1 }), 'test result: FAILED. 0 passed; 0 failed; 2 not run; 1 policy with errors');
  t.is(summaryText({ passed: 0, failed: 0, notRun: 0, broken: 2 }), 'test result: FAILED. 0 passed; 0 failed; 2 policies with errors');
});

test('JUnit XML: the counts of the run and of each suite, a testcase per expectation', (t) => {
  const [ok, failed] = cases();
  const xml = junitXml([
    { file: 'p.qpol', cases: [ok!, failed!], errors: 0 },
    { file: 'b.qpol', cases: [{ status: 'not-run', name: 'n from a to b: deny', span: span('b.qpol', 4) }], errors: 2 },
  ]);
  const lines = xml.split('\n');
  t.is(lines[0], '<?xml version="1.0" encoding="UTF-8"?>');
  t.is(lines[1], '<testsuites name="qpc test" tests="3" failures="1" errors="2">');
  t.true(xml.includes('<testsuite name="p.qpol" file="p.qpol" tests="2" failures="1" errors="0">'));
  t.true(xml.includes('<testsuite name="b.qpol" file="b.qpol" tests="1" failures="0" errors="2">'));
  t.true(xml.includes('<testcase classname="p.qpol" name="expect qubes.Gpg from work-web to keys: allow" file="p.qpol" line="9"/>'));
  t.true(xml.includes('<failure message="allow (target keys)" type="QP3035">expected deny; the policy decides `allow`; decided by `allow qubes.Gpg from work-web to keys` in 30-qpc.policy (ours; p.qpol:8)</failure>'));
  t.true(xml.includes('<error message="not run: the policy has errors" type="not-run"/>'));
  t.true(xml.includes('<system-err>b.qpol: the policy has 2 errors (see qpc check)</system-err>'));
  t.false(xml.slice(0, xml.indexOf('name="b.qpol"')).includes('<system-err>'), 'a suite without errors has no system-err');
  t.true(xml.endsWith('</testsuites>\n'));
  t.is(xml.match(/<testcase /g)?.length, 3);
  t.is(xml.match(/<testsuite /g)?.length, 2);
});

test('one error is "an error"', (t) => {
  t.true(junitXml([{ file: 'x.qpol', cases: [], errors: 1 }]).includes('<system-err>x.qpol: the policy has an error (see qpc check)</system-err>'));
});

test('XML text is escaped, and characters XML 1.0 cannot hold are replaced', (t) => {
  const outcome = { actual: 'a<b>&"c\'', expected: 'deny', problem: 'x\u0001y', rule: undefined } as unknown as ExpectOutcome;
  const failing: TestCase = { status: 'failed', outcome, name: 'q&a "<x>"', span: span('dir/it\'s&.qpol', 2) };
  const xml = junitXml([{ file: 'dir/it\'s&.qpol', cases: [failing], errors: 0 }]);
  t.true(xml.includes('name="expect q&amp;a &quot;&lt;x&gt;&quot;"'));
  t.true(xml.includes('classname="dir/it&apos;s&amp;.qpol"'));
  t.true(xml.includes('message="a&lt;b&gt;&amp;&quot;c&apos;"'));
  t.true(xml.includes('expected deny; x\uFFFDy; no rule matches this request, so qrexec denies it</failure>'));
  t.false(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(xml));
  // Tabs, newlines, astral characters are XML; lone surrogates and U+FFFE are not.
  const odd = junitXml([{ file: 'a\tb\n😀\ud800\ufffe', cases: [], errors: 0 }]);
  t.true(odd.includes('name="a\tb\n😀\uFFFD\uFFFD"'));
  // Every `&` is the start of one of the five entities.
  t.notRegex(xml, /&(?!(amp|lt|gt|quot|apos);)/);
});
