/**
 * The report of `qpc test`: one line per `expect` (passed, failed, or not
 * run because the policy has errors), a summary line, and the same results
 * as JUnit XML (one testsuite per policy file, one testcase per `expect`).
 * Pure functions over the evaluated expectations.
 */
import { decidedBy, type ExpectOutcome, type Span } from '../index.js';

/** One `expect` of a policy, as `qpc test` reports it. */
export type TestCase =
  | { readonly status: 'passed' | 'failed'; readonly outcome: ExpectOutcome; readonly name: string; readonly span: Span }
  | { readonly status: 'not-run'; readonly name: string; readonly span: Span };

/** The results of one policy file (the entry of a policy set). */
export interface TestSuite {
  readonly file: string;
  readonly cases: readonly TestCase[];
  /** How many errors the policy has besides failed expectations. */
  readonly errors: number;
}

const where = (s: Span): string => `${s.file}:${s.line}`;

/** The report line of one case. */
export function caseLine(c: TestCase): string {
  const head = `test ${where(c.span)} expect ${c.name} ...`;
  if (c.status === 'passed') return `${head} ok`;
  if (c.status === 'not-run') return `${head} not run (the policy has errors)`;
  return `${head} FAILED: found ${c.outcome.actual} (${decidedBy(c.outcome)})`;
}

export interface TestTotals {
  readonly passed: number;
  readonly failed: number;
  readonly notRun: number;
  /** Policy files with errors besides failed expectations. */
  readonly broken: number;
}

export function totals(suites: readonly TestSuite[]): TestTotals {
  const count = (s: TestCase['status']) => suites.reduce((n, x) => n + x.cases.filter((c) => c.status === s).length, 0);
  return { passed: count('passed'), failed: count('failed'), notRun: count('not-run'), broken: suites.filter((s) => s.errors > 0).length };
}

/** Whether the run passed: every expectation held and no policy has errors. */
export function passed(t: TestTotals): boolean {
  return t.failed === 0 && t.notRun === 0 && t.broken === 0;
}

/** The summary line. */
export function summaryText(t: TestTotals): string {
  const parts = [`${t.passed} passed`, `${t.failed} failed`];
  if (t.notRun > 0) parts.push(`${t.notRun} not run`);
  if (t.broken > 0) parts.push(`${t.broken} ${t.broken === 1 ? 'policy' : 'policies'} with errors`);
  return `test result: ${passed(t) ? 'ok' : 'FAILED'}. ${parts.join('; ')}`;
}

/** Text for an XML attribute or element: escaped, and without the characters XML 1.0 cannot hold. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The JUnit XML of a run. */
export function junitXml(suites: readonly TestSuite[]): string {
  const t = totals(suites);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="qpc test" tests="${t.passed + t.failed + t.notRun}" failures="${t.failed}" errors="${t.notRun + t.broken}">`];
  for (const s of suites) {
    const failures = s.cases.filter((c) => c.status === 'failed').length;
    const errors = s.cases.filter((c) => c.status === 'not-run').length + (s.errors > 0 ? 1 : 0);
    out.push(`  <testsuite name="${xml(s.file)}" file="${xml(s.file)}" tests="${s.cases.length}" failures="${failures}" errors="${errors}">`);
    for (const c of s.cases) {
      const attrs = `classname="${xml(c.span.file)}" name="${xml(`expect ${c.name}`)}" file="${xml(c.span.file)}" line="${c.span.line}"`;
      if (c.status === 'passed') out.push(`    <testcase ${attrs}/>`);
      else if (c.status === 'not-run') out.push(`    <testcase ${attrs}>`, '      <error message="not run: the policy has errors" type="not-run"/>', '    </testcase>');
      else {
        const detail = `expected ${c.outcome.expected}; ${c.outcome.problem ?? ''}; ${decidedBy(c.outcome)}`;
        out.push(`    <testcase ${attrs}>`, `      <failure message="${xml(c.outcome.actual)}" type="QP3035">${xml(detail)}</failure>`, '    </testcase>');
      }
    }
    if (s.errors > 0) out.push(`    <system-err>${xml(`${s.file}: the policy has ${s.errors === 1 ? 'an error' : `${s.errors} errors`} (see qpc check)`)}</system-err>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
