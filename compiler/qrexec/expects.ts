/**
 * `expect` statements, evaluated: each one's request against the complete
 * policy (ours and the stock files), in every power state, and whether the
 * decision is the one it states. The check reports a failing expectation as
 * QP3035 and `qpc test` reports every one as passed or failed; both read
 * `evaluateExpects`, so they cannot disagree.
 */
import { diag, type Diagnostic, type Reporter } from '../diagnostics/diagnostic.js';
import { isKeyword } from './token.js';
import { substitute } from '../whonix.js';
import type { Program } from '../program.js';
import type { Expect } from '../syntax/ast.js';
import { decisionText, queryStates, ruleText, ruleWhere, type EvaluatedPolicy } from './query.js';
import type { Decision, QrexecRule, Request } from './types.js';

/** One `expect`, evaluated. */
export interface ExpectOutcome {
  readonly expect: Expect;
  /** The request it makes, names resolved (`anon-gw` under a renamed Whonix gateway, say). */
  readonly request: Request;
  /** The statement as qpc reads it: `SERVICE[+ARG] from SOURCE to TARGET: DECISION [PARAMS]`. */
  readonly name: string;
  /** The decision it states, with its parameters: `allow target work`. */
  readonly expected: string;
  readonly passed: boolean;
  /** The decision found: on failure the one that differs, else the decision with the qubes halted. */
  readonly decision: Decision;
  /** The decision that differs is the one with the qubes the request names running (`no-autostart`). */
  readonly whenRunning: boolean;
  /** The decision found, in words, with the power state when that is what differs. */
  readonly actual: string;
  /** On failure: what differs, as a label for the statement. */
  readonly problem?: string;
  /** The rule that decided, if one matched. */
  readonly rule?: QrexecRule;
}

function endpointName(program: Program, text: string): string {
  return isKeyword(text) && text !== '*' ? text : substitute(text, program.settings.whonix);
}

/** The decision an `expect` states, parameters included, names resolved. */
function expectedText(program: Program, e: Expect): string {
  return [e.decision, ...e.params.map((p) => (p.kind === 'UserParam' ? `user ${p.value.text}` : `${p.key} ${p.values.map((v) => endpointName(program, v.text)).join(', ')}`))].join(' ');
}

/** What of `d` differs from what `e` states, or undefined when it holds. */
function mismatch(program: Program, e: Expect, d: Decision): string | undefined {
  if (d.action !== e.decision) return `the policy decides \`${d.action}\``;
  for (const p of e.params) {
    if (p.kind === 'UserParam') {
      if (d.user !== p.value.text) return `the call runs as ${d.user ? `\`${d.user}\`` : 'the default user'}`;
      continue;
    }
    const want = p.values.map((v) => endpointName(program, v.text));
    if (p.key === 'target' && d.target !== want[0]) return `the call goes to \`${d.target ?? '(none)'}\``;
    if (p.key === 'default' && d.defaultTarget !== want[0]) return `the preselected target is \`${d.defaultTarget ?? '(none)'}\``;
    if (p.key === 'targets' && [...want].sort().join(',') !== [...(d.targets ?? [])].sort().join(',')) return `the dialog offers ${d.targets?.length ? d.targets.join(', ') : 'nothing'}`;
  }
  return undefined;
}

/** Evaluates one `expect`: it holds when the decision is as stated both with the qubes halted (as provisioning leaves them) and running. */
export function evaluateExpect(program: Program, policy: EvaluatedPolicy, e: Expect): ExpectOutcome {
  const request: Request = {
    service: e.service.text,
    argument: e.argument?.text ?? '+',
    source: endpointName(program, e.source.text),
    target: endpointName(program, e.target.text),
  };
  const expected = expectedText(program, e);
  const call = `${request.service}${request.argument === '+' ? '' : request.argument}`;
  const name = `${call} from ${request.source} to ${request.target}: ${expected}`;
  const states = queryStates(policy, request);
  let decision = states.halted;
  let problem = mismatch(program, e, decision);
  let whenRunning = false;
  if (problem === undefined && states.running !== undefined) {
    const running = mismatch(program, e, states.running);
    if (running !== undefined) {
      decision = states.running;
      problem = running;
      whenRunning = true;
    }
  }
  const rule = decision.rule !== undefined ? policy.rules[decision.rule] : undefined;
  return {
    expect: e,
    request,
    name,
    expected,
    passed: problem === undefined,
    decision,
    whenRunning,
    actual: whenRunning ? `${decisionText(decision)} when the qubes it names are running` : decisionText(decision),
    ...(problem !== undefined ? { problem } : {}),
    ...(rule ? { rule } : {}),
  };
}

/** Every `expect` of the program, in source order, evaluated. */
export function evaluateExpects(program: Program, policy: EvaluatedPolicy): ExpectOutcome[] {
  return program.expects.map((e) => evaluateExpect(program, policy, e));
}

/** Where the decision of an outcome came from, in words: the rule and its file, or that none matched. */
export function decidedBy(o: ExpectOutcome): string {
  return o.rule ? `decided by \`${ruleText(o.rule)}\` in ${ruleWhere(o.rule)}` : 'no rule matches this request, so qrexec denies it';
}

/** The QP3035 finding of a failed expectation. */
export function expectDiagnostic(o: ExpectOutcome): Diagnostic {
  const label = o.whenRunning ? `${o.problem} when the target runs` : (o.problem ?? '');
  return diag('QP3035', o.expect.span, { expected: o.expected, actual: o.actual }, {
    label,
    ...(o.rule ? { related: [{ span: o.rule.origin.span, message: decidedBy(o) }] } : { notes: [decidedBy(o)] }),
    subject: o.request.source,
  });
}

/** Checks every `expect` against the complete policy (QP3035). */
export function checkExpects(program: Program, policy: EvaluatedPolicy, ctx: Reporter): void {
  for (const o of evaluateExpects(program, policy)) if (!o.passed) ctx.report(expectDiagnostic(o));
}

/** How an `expect` reads without evaluating it (for one that cannot run, the policy having errors): names as written. */
export function expectName(e: Expect): string {
  const params = e.params.map((p) => (p.kind === 'UserParam' ? `user ${p.value.text}` : `${p.key} ${p.values.map((v) => v.text).join(', ')}`));
  return `${e.service.text}${e.argument?.text ?? ''} from ${e.source.text} to ${e.target.text}: ${[e.decision, ...params].join(' ')}`;
}
