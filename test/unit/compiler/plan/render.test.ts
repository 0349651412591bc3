/**
 * The two forms of a plan: the human one (golden files, the spec of its
 * layout; readable at 200 qubes) and the JSON one, validated against the
 * schema docs/plan.md gives.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { produce } from 'immer';
import { PLAN_FILE_FORMAT, planFile, planJson, renderPlan } from '../../../../compiler/plan/render.js';
import type { Plan } from '../../../../compiler/plan/plan.js';
import { expectGolden } from '../../../helpers/golden.js';
import { basePolicy, laterPolicy, planText, provisioned, recorded, withPolicyFile } from './machine.js';

const golden = (name: string) => `test/unit/compiler/plan/golden/${name}`;
const { view: machine, source } = recorded('qubes-4.2-whonix');
const done = withPolicyFile(provisioned(planText(basePolicy, machine, source)), '60-user.policy', 'qubes.Gpg * work @default deny\n');

/** Every change of the plan tests at once: a qube added, one moved off Tor, a policy-file renamed, an app with a dedicated port removed, a device added. */
const changed = basePolicy
  .replace('qube anon-web in anon { template whonix-workstation-17 }', 'qube anon-web in office { template fedora-40-xfce }\nqube anon-mail in anon { template whonix-workstation-17 }')
  .replace('policy-file 40-extra', 'policy-file 45-extra')
  .replace(/\n\s*app hexchat[^\n]*/, '')
  .replace('qube work in office { template fedora-40-xfce }', 'qube work in office {\n  template fedora-40-xfce\n  device usb "sys-usb:2-1"\n}');

const schemaText = /## The JSON plan[\s\S]*?```json\n([\s\S]*?)```/.exec(readFileSync('docs/plan.md', 'utf8'))?.[1];
const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(schemaText ?? '{}') as object);
const schemaErrors = (v: unknown): string[] => (validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`));

const scenarios: Record<string, () => Plan> = {
  first: () => planText(basePolicy, machine, source).plan!,
  empty: () => planText(basePolicy, done, source).plan!,
  changed: () => planText(changed, done, source).plan!,
  blocked: () => planText(basePolicy.replace(/whonix 17/, 'whonix 18').replace(/-17\b/g, '-18'), machine, source).plan!,
  stale: () => { const o = recorded('plan-owned'); return planText(laterPolicy, o.view, o.source).plan!; },
};

test('the human plan of every change at once', (t) => {
  expectGolden(t, golden('changed.txt'), renderPlan(scenarios.changed!(), 'plan-test.qpol', 'snapshot'));
});

test('the human plan of what the ownership record takes back', (t) => {
  expectGolden(t, golden('stale.txt'), renderPlan(scenarios.stale!(), 'plan-test.qpol', 'snapshot'));
});

test('the human plan of a machine provisioned from the policy', (t) => {
  expectGolden(t, golden('empty.txt'), renderPlan(scenarios.empty!(), 'plan-test.qpol', 'snapshot'));
});

for (const [name, make] of Object.entries(scenarios)) {
  test(`the JSON plan (${name}) is valid against the schema of docs/plan.md`, (t) => {
    const p = make();
    const json = JSON.parse(planJson(p, 'plan-test.qpol')) as Record<string, unknown>;
    t.deepEqual(schemaErrors(json), []);
    t.is(json.format, 'qpc-plan 1');
    t.is(json.changes, p.changes);
    t.deepEqual(json.patches, JSON.parse(JSON.stringify(p.patches)));
  });
}

test('the schema is not vacuous: it refuses what the plan never writes', (t) => {
  const json = JSON.parse(planJson(scenarios.changed!(), 'plan-test.qpol')) as Record<string, unknown>;
  t.notDeepEqual(schemaErrors({ ...json, format: 'qpc-plan 2' }), []);
  t.notDeepEqual(schemaErrors({ ...json, patches: [{ op: 'move', path: ['qubes', 'x'] }] }), []);
  t.notDeepEqual(schemaErrors({ ...json, patches: [{ op: 'add', path: ['elsewhere', 'x'] }] }), []);
  t.notDeepEqual(schemaErrors({ ...json, qubes: [{ name: 'x' }] }), []);
  t.notDeepEqual(schemaErrors({ ...json, record: { status: 'maybe', items: 0, stale: 0, left: [] } }), []);
  t.notDeepEqual(schemaErrors({ ...json, qubeFiles: [{ qube: 'q', path: 'relative', action: 'remove', reason: 'r' }] }), []);
  const { summary: _s, ...noSummary } = json;
  t.notDeepEqual(schemaErrors(noSummary), []);
});

/** A policy of `n` qubes in four identities, two of them behind Tor. */
function manyQubes(n: number, extra = (i: number) => ''): string {
  const ids = ['office', 'anon', 'home', 'anon2'];
  const lines = [
    basePolicy.replace(/qube work in office[\s\S]*$/, ''),
    'identity home { network clearnet via sys-firewall; label green }',
    'identity anon2 { network tor via sys-whonix; label purple }',
  ];
  for (let i = 0; i < n; i++) {
    const id = ids[i % 4]!;
    const template = id.startsWith('anon') ? 'whonix-workstation-17' : 'fedora-40-xfce';
    lines.push(`qube q${String(i).padStart(3, '0')} in ${id} { template ${template}${extra(i)} }`);
  }
  return lines.join('\n') + '\n';
}

test('the human plan at 200 qubes: one line per qube without changes is none, a few lines per qube with one', (t) => {
  const before = provisioned(planText(manyQubes(200), machine, source));
  // Ten qubes get more memory, two more qubes are added.
  const after = manyQubes(202, (i) => (i % 20 === 5 ? '; memory 800' : ''));
  const p = planText(after, before, source).plan!;
  t.deepEqual(p.qubes.map((q) => q.name).filter((n) => n.startsWith('q')).length, 12);
  const text = renderPlan(p, 'many.qpol', 'snapshot');
  expectGolden(t, golden('200-qubes.txt'), text);
  t.true(text.split('\n').length < 80, `${text.split('\n').length} lines`);
});

test('what the machine holds reaches the terminal without its control characters', (t) => {
  // A gateway's torrc file is read from the gateway: a compromised gateway chooses its bytes.
  const evil = produce(done, (d) => {
    d.whonix['sys-whonix']!['torrc.d/50_qpc.conf'] = '# generated by qpc\n\u001b]0;owned\u0007\u001b[2JSocksPort 9\tx\n';
  });
  const text = renderPlan(planText(basePolicy, evil, source).plan!, 'plan-test.qpol', 'snapshot');
  t.true(text.includes('\\u{1b}[2JSocksPort 9\tx'), 'the escape is shown, the tab kept');
  t.false(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text));
});

test('the plan file: its header, the provision.sh and state it is bound to, the qubes to visit, the manifest and the human plan, one item a line', (t) => {
  const p = scenarios.changed!();
  const human = renderPlan(p, 'plan-test.qpol', 'snapshot');
  const text = planFile(p, human, 'a'.repeat(64))!;
  const lines = text.split('\n');
  t.is(lines[0], PLAN_FILE_FORMAT);
  t.true(text.endsWith('\n'));
  t.deepEqual(lines.filter((l) => /^(provision|state|start-gateways) /.test(l)), [`provision ${'a'.repeat(64)}`, `state ${source.stateHash}`, 'start-gateways no']);
  t.deepEqual(lines.filter((l) => l.startsWith('qube ')).map((l) => l.slice(5)), [...p.visit]);
  t.true(p.visit.includes('anon-web') && p.visit.includes('anon-mail') && p.visit.includes('work'));
  t.deepEqual(lines.filter((l) => l.startsWith('collected ')).map((l) => l.slice(10)), source.manifest!.split('\n').filter((l) => l !== ''));
  t.is(lines.filter((l) => l.startsWith('text ')).map((l) => l.slice(5)).join('\n'), human.replace(/\n$/, ''));
  // Every line is one of the kinds provision.sh reads, or the comment.
  t.deepEqual(lines.slice(1, -1).filter((l) => !/^(# |provision |state |start-gateways |qube |collected |text )/.test(l)), []);
  // Not from a system info: nothing to compare the machine with.
  const info = planText(basePolicy, machine, { coverage: 'system-info' }).plan!;
  t.is(planFile(info, renderPlan(info, 'plan-test.qpol', 'info.json'), 'a'.repeat(64)), undefined);
});
