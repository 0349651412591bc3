import test, { type ExecutionContext } from 'ava';
import type { Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import type { PolicyModel } from '../../../../compiler/model.js';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { policyFilePath } from '../../../../targets/paths.js';
import { asRead, parsePolicy } from '../../../helpers/qrexec-policy-parser.js';
import { exampleModel, modelOf, must, withRule } from './models.js';

const base = must(exampleModel('journalist', '4.2'));
const ours = base.policyFiles[0].rules;
const userRule = 0; // `allow qubes.Gpg from work-email to vault`
const generatedRule = ours.findIndex((r) => r.origin.generated !== undefined);

/** Check finds errors of `code`, all at the changed rule's span; and emit refuses the model too. */
function refused(t: ExecutionContext, model: PolicyModel, code: 'QP4001' | 'QP4002', rule: QrexecRule, label: string): readonly Diagnostic[] {
  const found = qrexecTarget.check(model);
  t.true(found.length > 0, `${label}: check reports it`);
  t.true(
    found.every((d) => d.code === code && d.severity === 'error'),
    `${label}: ${code} expected, got ${found.map((d) => `${d.code} ${d.message}`).join('; ')}`,
  );
  t.true(
    found.every((d) => JSON.stringify(d.span) === JSON.stringify(rule.origin.span)),
    `${label}: at the rule's span`,
  );
  // compile never emits after a check error; emit itself also refuses, should it be called anyway.
  t.throws(() => qrexecTarget.emit(model, []), undefined, `${label}: emit refuses it`);
  return found;
}

const hostile: readonly [keyof QrexecRule | 'id' | 'generated', unknown][] = [
  ['service', 'qubes.Gpg evil'],
  ['service', 'qubes.Gpg\nqubes.VMShell * @anyvm @anyvm allow'],
  ['service', 'qubes.Gpg\rqubes.VMShell * @anyvm @anyvm allow'],
  ['service', 'qubes.Open/URL'],
  ['service', '!include'],
  ['service', ''],
  ['argument', '+a b'],
  ['argument', '+22\n!include /etc/qubes/policy.d/include/admin-local-rwx'],
  ['argument', '22'],
  ['argument', '+a#b'],
  ['source', '@anyvm\nqubes.VMShell * @anyvm @anyvm allow'],
  ['source', 'work email'],
  ['source', '!include'],
  ['source', '#work-email'],
  ['source', 'wörk'],
  ['source', '@tag:a b'],
  ['source', ''],
  ['target', '@anyvm @anyvm allow'],
  ['target', 'vault\tallow'],
  ['target', '@dispvm:vault\u2028x'],
  ['target', '@tag:'],
  ['redirect', 'vault notify=yes'],
  ['redirect', 'vault\n* * @anyvm @anyvm allow'],
  ['user', 'root notify=yes'],
  ['user', 'root\n'],
  ['user', ''],
  ['notify', 'yes'],
  ['action', 'allow\n* * @anyvm @anyvm allow'],
  ['id', 'x\nqubes.VMShell * @anyvm @anyvm allow'],
  ['id', ''],
  ['generated', 'reason\r!include-dir /tmp'],
];

function change(field: string, value: unknown): (r: QrexecRule) => QrexecRule {
  return (r) => (field === 'id' || field === 'generated' ? { ...r, origin: { ...r.origin, [field]: value } } : ({ ...r, [field]: value } as unknown as QrexecRule));
}

for (const [which, index] of [
  ['a rule of the user', userRule],
  ['a generated rule', generatedRule],
] as const) {
  test(`hostile values in ${which} are refused (QP4002) at its span`, (t) => {
    t.true(index >= 0);
    for (const [field, value] of hostile) {
      if (which === 'a rule of the user' && field === 'generated') continue;
      const m = withRule(base, 0, index, change(field, value));
      refused(t, m, 'QP4002', m.policyFiles[0].rules[index], `${String(field)} = ${JSON.stringify(value)}`);
    }
  });
}

test('a hostile entry path or policy file name is refused', (t) => {
  const entry = qrexecTarget.check({ ...base, source: 'x.qpol\nqubes.VMShell * @anyvm @anyvm allow' });
  t.deepEqual(entry.map((d) => d.code), ['QP4002']);
  t.throws(() => qrexecTarget.emit({ ...base, source: 'x.qpol\rqubes.VMShell * @anyvm @anyvm allow' }, []));
  for (const name of ['../../etc/passwd', '30-qpc.policy', '30-QPC', '30-qpc\n', '30-q pc', '.30-qpc', 'qpc']) {
    const m = { ...base, policyFiles: [{ ...base.policyFiles[0], name }] };
    const found = qrexecTarget.check(m);
    t.deepEqual(found.map((d) => d.code), ['QP4002'], name);
    t.deepEqual(found[0].span, ours[0].origin.span);
    t.throws(() => qrexecTarget.emit(m, []));
  }
});

test('what Qubes would refuse to parse or read differently is refused (QP4001) at the rule', (t) => {
  const cases: [string, (r: QrexecRule) => QrexecRule, RegExp][] = [
    ['target= on deny', (r) => ({ ...r, action: 'deny', redirect: 'vault-gpg' }), /`target=` on a `deny` rule/],
    ['user= on deny', (r) => ({ ...r, action: 'deny', user: 'root' }), /`user=` on a `deny` rule/],
    ['autostart= on deny', (r) => ({ ...r, action: 'deny', autostart: false }), /`autostart=` on a `deny` rule/],
    ['default_target= on allow', (r) => ({ ...r, defaultTarget: 'vault-gpg' }), /`default_target=` on a `allow` rule/],
    ['allow to @default without target=', (r) => ({ ...r, target: '@default' }), /`@default` without `target=`/],
    ['@default as a source', (r) => ({ ...r, source: '@default' }), /`@default` in the source column/],
    ['@dispvm as a source', (r) => ({ ...r, source: '@dispvm' }), /`@dispvm` in the source column/],
    ['@dispvm:Q as a source', (r) => ({ ...r, source: '@dispvm:work-dvm' }), /`@dispvm:work-dvm` in the source column/],
    ['@anyvm as a redirect', (r) => ({ ...r, redirect: '@anyvm' }), /`@anyvm` as a `target=`/],
    ['* as a redirect', (r) => ({ ...r, redirect: '*' }), /`\*` as a `target=`/],
    ['@tag: as a redirect', (r) => ({ ...r, redirect: '@tag:identity-vault' }), /`@tag:identity-vault` as a `target=`/],
    ['@dispvm:@tag: as a redirect', (r) => ({ ...r, redirect: '@dispvm:@tag:x' }), /as a `target=`/],
    ['@default as a redirect', (r) => ({ ...r, redirect: '@default' }), /`@default` as a `target=`/],
    ['an unknown token', (r) => ({ ...r, target: '@anything' }), /no Qubes release knows/],
    ['an argument on the * service', (r) => ({ ...r, service: '*', argument: '+x' }), /only `\*` there/],
    ['an unknown qube class', (r) => ({ ...r, source: '@type:NoSuchVM' }), /no qube class `NoSuchVM`/],
  ];
  for (const [label, edit, message] of cases) {
    const m = withRule(base, 0, userRule, edit);
    const found = refused(t, m, 'QP4001', m.policyFiles[0].rules[userRule], label);
    t.regex(found[0].message, message, label);
  }
});

test('a policy file named like one Qubes ships or writes is refused: ours would replace it', (t) => {
  for (const name of ['90-default', '50-config-filecopy', '35-compat', '80-whonix']) {
    const found = qrexecTarget.check({ ...base, policyFiles: [{ ...base.policyFiles[0], name }] });
    t.deepEqual(found.map((d) => d.code), ['QP4001'], name);
    t.regex(found[0].message, /Qubes ships or writes a file of that name/);
  }
});

// Tokens Qubes 4.2 and 4.3 read differently (reference §1.3, §1.8).

const dotted = `use "qubes"
settings { qubes RELEASE }
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity keys { network none; label black }
identity work { network clearnet via sys-firewall; label blue }
qube my.vault in keys { template debian-12-xfce }
qube mail in work { template debian-12-xfce }
allow qubes.Gpg from mail to my.vault
allow qubes.GetDate from mail to @anyvm target dom0
`;

test('a qube name with a dot is written for Qubes 4.3 and refused for 4.2', (t) => {
  const m = must(modelOf(dotted.replace('RELEASE', '4.3')));
  t.deepEqual(qrexecTarget.check(m), []);
  const text = qrexecTarget.emit(m, []).find((a) => a.path === policyFilePath('30-qpc'))!.contents;
  t.regex(text, /^qubes\.Gpg +\* +mail +my\.vault +allow$/m);
  t.deepEqual(parsePolicy(text, '4.3').map(({ line: _l, ...r }) => r), m.policyFiles[0].rules.map((r) => asRead(r, '4.3')));
  t.true(qrexecTarget.emit(m, []).find((a) => a.path === 'qubes/system-info.json')!.contents.includes('"my.vault": {'));

  // The same model for Qubes 4.2, where qubesd refuses such a name: the checker says so (QP2022), and so does the target.
  t.true((modelOf(dotted.replace('RELEASE', '4.2')) as string[]).some((e) => e.startsWith('QP2022')));
  const as42: PolicyModel = { ...m, settings: { ...m.settings, qubes: '4.2' } };
  const found = qrexecTarget.check(as42);
  const gpg = m.policyFiles[0].rules[0];
  t.true(found.length > 0 && found.every((d) => d.code === 'QP4001'));
  t.true(found.some((d) => JSON.stringify(d.span) === JSON.stringify(gpg.origin.span) && /my\.vault` on Qubes 4\.2/.test(d.message)));
  t.true(found.some((d) => /my\.vault/.test(d.message) && d.span?.start === m.qubes.find((q) => q.name === 'my.vault')!.span.start), 'system-info names it too');
});

test('`dom0` is written as given; Qubes 4.2 reads it as `@adminvm` and decides the same', (t) => {
  for (const release of ['4.2', '4.3'] as const) {
    const policy = dotted.replace('RELEASE', release).replace(/my\.vault/g, 'myvault');
    const m = must(modelOf(policy));
    t.deepEqual(qrexecTarget.check(m), []);
    const text = qrexecTarget.emit(m, []).find((a) => a.path === policyFilePath('30-qpc'))!.contents;
    t.regex(text, /^qubes\.GetDate +\* +mail +@anyvm +allow target=dom0$/m, release);
    const read = parsePolicy(text, release);
    t.is(read[1].redirect, release === '4.2' ? '@adminvm' : 'dom0');
    const reread = read.map(({ line, ...r }) => ({ ...r, origin: { ...m.policyFiles[0].rules[0].origin, id: `line ${line}` } }));
    for (const target of ['@default', 'dom0', '@adminvm', 'myvault']) {
      const request = { service: 'qubes.GetDate', argument: '+', source: 'mail', target };
      const { rule: _a, ...checked } = evaluate(m.policyFiles[0].rules, m.systemInfo, request, release);
      const { rule: _b, ...emitted } = evaluate(reread, m.systemInfo, request, release);
      t.deepEqual(emitted, checked, `${release} ${target}`);
      if (target === '@default') t.like(emitted, { action: 'allow', target: 'dom0' });
    }
  }
});

test('`@type:RemoteVM` and dom0’s `uuid:` token exist from Qubes 4.3 on', (t) => {
  const m43 = must(exampleModel('journalist', '4.3'));
  const m42 = base;
  const edits: [string, (r: QrexecRule) => QrexecRule][] = [
    ['@type:RemoteVM', (r) => ({ ...r, source: '@type:RemoteVM' })],
    ['uuid:0…0', (r) => ({ ...r, redirect: 'uuid:00000000-0000-0000-0000-000000000000' })],
  ];
  for (const [label, edit] of edits) {
    const ok = withRule(m43, 0, userRule, edit);
    t.deepEqual(qrexecTarget.check(ok), [], `${label} on 4.3`);
    const text = qrexecTarget.emit(ok, []).find((a) => a.path === policyFilePath('30-qpc'))!.contents;
    t.deepEqual(parsePolicy(text, '4.3')[0], { ...asRead(ok.policyFiles[0].rules[0], '4.3'), line: parsePolicy(text, '4.3')[0].line });

    const bad = withRule(m42, 0, userRule, edit);
    const found = refused(t, bad, 'QP4001', bad.policyFiles[0].rules[userRule], `${label} on 4.2`);
    t.regex(found[0].message, /4\.2/);
  }
  // Another qube's UUID cannot be resolved by the checker, on any release.
  const other = withRule(m43, 0, userRule, (r) => ({ ...r, target: 'uuid:12345678-1234-1234-1234-123456789abc' }));
  refused(t, other, 'QP4001', other.policyFiles[0].rules[userRule], 'another UUID on 4.3');
});

test('every rule qpc generates passes the check on both releases', (t) => {
  for (const release of ['4.2', '4.3'] as const) {
    for (const name of ['developer', 'journalist', 'personas']) {
      const m = must(exampleModel(name, release));
      t.true(m.policyFiles.some((f) => f.rules.some((r) => r.origin.generated !== undefined)), `${name} has generated rules`);
      t.deepEqual(qrexecTarget.check(m), [], `${name} ${release}`);
    }
  }
});
