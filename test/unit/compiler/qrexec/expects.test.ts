/**
 * `expect` statements, evaluated against the complete policy with the
 * qubes halted and running: the outcome `qpc test` prints and the QP3035
 * the check reports come from the same evaluation.
 */
import test from 'ava';
import { check, overlayHost, type CheckResult } from '../../../../compiler/index.js';
import { checkExpects, decidedBy, evaluateExpect, evaluateExpects, expectDiagnostic, expectName } from '../../../../compiler/qrexec/expects.js';
import { DiagnosticBag } from '../../../../compiler/diagnostics/diagnostic.js';

const head = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network clearnet via sys-firewall }
identity vault { network none }
qube work-web in work { template debian-12-xfce }
qube keys in vault { template debian-12-xfce }
qube vault-$whonix in vault { template debian-12-xfce }
allow qubes.Gpg from work-web to keys user gpg
allow qubes.PdfConvert from work-web to keys no-autostart
ask qubes.Filecopy from work-web to @default default keys
`;

function checked(expects: string): CheckResult & Required<Pick<CheckResult, 'program' | 'policy'>> {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', head + expects]])), targets: [] });
  if (!r.program || !r.policy) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r as never;
}

function outcomes(expects: string) {
  const r = checked(expects);
  return evaluateExpects(r.program, r.policy);
}

test('an expectation that holds: its request, its name and the rule that decided', (t) => {
  const [o] = outcomes('expect qubes.Gpg from work-web to keys: allow\n');
  t.true(o!.passed);
  t.deepEqual(o!.request, { service: 'qubes.Gpg', argument: '+', source: 'work-web', target: 'keys' });
  t.is(o!.name, 'qubes.Gpg from work-web to keys: allow');
  t.is(o!.expected, 'allow');
  t.is(o!.problem, undefined);
  t.false(o!.whenRunning);
  t.is(o!.rule?.origin.span.line, 10);
  t.is(decidedBy(o!), 'decided by `allow qubes.Gpg from work-web to keys user gpg` in 30-qpc.policy (ours; p.qpol:10)');
});

test('each stated part of the decision is compared: action, user, default target, targets', (t) => {
  const os = outcomes(`expect qubes.Gpg from work-web to keys: deny
expect qubes.Gpg from work-web to keys: allow user root
expect qubes.Gpg from work-web to keys: allow user gpg
expect qubes.Filecopy from work-web to @default: ask default work-web
expect qubes.Filecopy from work-web to @default: ask default keys
expect qubes.Filecopy from work-web to @default: ask targets keys
`);
  t.deepEqual(
    os.map((o) => [o.passed, o.problem ?? '']),
    [
      [false, 'the policy decides `allow`'],
      [false, 'the call runs as `gpg`'],
      [true, ''],
      [false, 'the preselected target is `keys`'],
      [true, ''],
      [false, `the dialog offers ${os[5]!.decision.targets!.join(', ')}`],
    ],
  );
  t.true(os[5]!.decision.targets!.includes('keys'));
  t.true(os[5]!.decision.targets!.length > 1);
});

test('the targets of an ask are compared as a set, in any order', (t) => {
  const offered = outcomes('expect qubes.Filecopy from work-web to @default: ask\n')[0]!.decision.targets!;
  const reversed = [...offered].reverse().join(', ');
  const [o] = outcomes(`expect qubes.Filecopy from work-web to @default: ask targets ${reversed}\n`);
  t.true(o!.passed, o!.problem);
});

test('a decision that differs only once the target runs fails, and says so', (t) => {
  const [deny, allow] = outcomes('expect qubes.PdfConvert from work-web to keys: deny\nexpect qubes.PdfConvert from work-web to keys: allow\n');
  t.false(deny!.passed);
  t.true(deny!.whenRunning);
  t.is(deny!.decision.action, 'allow');
  t.is(deny!.actual, 'allow (target keys) when the qubes it names are running');
  t.is(expectDiagnostic(deny!).label, 'the policy decides `allow` when the target runs');
  // With the qubes halted a `no-autostart` call is denied: `allow` does not hold in every state.
  t.false(allow!.passed);
  t.false(allow!.whenRunning);
  t.is(allow!.decision.action, 'deny');
});

test('names are resolved in the request and the name, and kept as written by expectName', (t) => {
  const [o] = outcomes('expect qubes.Gpg from work-web to vault-$whonix: deny\n');
  t.is(o!.request.target, 'vault-18');
  t.is(o!.name, 'qubes.Gpg from work-web to vault-18: deny');
  t.is(expectName(o!.expect), 'qubes.Gpg from work-web to vault-$whonix: deny');
  t.true(o!.passed);
  t.is(o!.rule, undefined);
  t.is(decidedBy(o!), 'no rule matches this request, so qrexec denies it');
});

test('expectName writes the parameters and the argument as written', (t) => {
  const r = checked('expect qubes.Gpg+key from work-web to keys: allow user gpg\nexpect qubes.Filecopy from work-web to @default: ask targets keys, vault-$whonix\n');
  t.deepEqual(r.program.expects.map(expectName), ['qubes.Gpg+key from work-web to keys: allow user gpg', 'qubes.Filecopy from work-web to @default: ask targets keys, vault-$whonix']);
});

test('QP3035: the expectation\'s span, the rule that decided as related, the source as subject', (t) => {
  const r = checked('expect qubes.Gpg from work-web to keys: deny\n');
  const d = expectDiagnostic(evaluateExpect(r.program, r.policy, r.program.expects[0]!));
  t.is(d.code, 'QP3035');
  t.is(d.message, 'expectation failed: expected deny, but the complete policy gives allow (target keys; user gpg)');
  t.is(d.span, r.program.expects[0]!.span);
  t.is(d.label, 'the policy decides `allow`');
  t.deepEqual(d.related.map((x) => [x.span.line, x.message]), [[10, 'decided by `allow qubes.Gpg from work-web to keys user gpg` in 30-qpc.policy (ours; p.qpol:10)']]);
  t.deepEqual(d.notes, []);
  t.is(d.subject, 'work-web');
});

test('a failure no rule decided carries the reason as a note', (t) => {
  const r = checked('expect qubes.Gpg from work-web to vault-18: allow\n');
  const d = expectDiagnostic(evaluateExpects(r.program, r.policy)[0]!);
  t.deepEqual(d.related, []);
  t.deepEqual(d.notes, ['no rule matches this request, so qrexec denies it']);
});

test('checkExpects reports exactly the failed expectations, as the check does', (t) => {
  const text = 'expect qubes.Gpg from work-web to keys: allow\nexpect qubes.Gpg from work-web to keys: deny\nexpect qubes.Gpg from keys to work-web: deny\nexpect qubes.Gpg from keys to work-web: ask\n';
  const r = checked(text);
  const bag = new DiagnosticBag();
  checkExpects(r.program, r.policy, bag);
  t.deepEqual(bag.items.map((d) => d.span!.line), [14, 16]);
  t.deepEqual(r.diagnostics.filter((d) => d.code === 'QP3035').map((d) => d.span!.line), [14, 16]);
  t.deepEqual(evaluateExpects(r.program, r.policy).map((o) => o.expect.span.line), [13, 14, 15, 16], 'in source order');
});
