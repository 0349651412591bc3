/**
 * The machine the proof reasons about: the declared qubes, all running,
 * plus stand-ins for running disposables of every disposable template and
 * for qubes outside the policy, one per type a rule can tell apart and per
 * tag a rule names (not qpc's own `identity-*` tags).
 */
import test from 'ava';
import { allRunning, describeStandIn, isStandIn, worldOf } from '../../../../compiler/qrexec/world.js';
import type { DomainInfo, QrexecRule, SystemInfo } from '../../../../compiler/qrexec/types.js';
import { SourceFile } from '../../../../compiler/source.js';
import { qubeNameSyntax } from '../../../../compiler/qubes-values.js';
import { deepFreeze } from '../../../helpers/deep-freeze.js';

const span = new SourceFile('p.qpol', 'x').span(0, 1);

function dom(name: string, extra: Partial<DomainInfo> = {}): DomainInfo {
  return { name, type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: false, ...extra };
}

function info(...ds: DomainInfo[]): SystemInfo {
  return { domains: new Map(ds.map((d) => [d.name, d])) };
}

function rule(source: string, target: string, extra: Partial<QrexecRule> = {}): QrexecRule {
  return { service: 'qubes.Test', argument: '*', source, target, action: 'allow', origin: { policyFile: '30-qpc', stock: false, span, id: '30-qpc#1' }, ...extra };
}

const declared = info(
  dom('dom0', { type: 'AdminVM' }),
  dom('work', { tags: ['identity-work'], defaultDispvm: 'work-dvm' }),
  dom('work-dvm', { tags: ['identity-work', 'dvm-tag'], templateForDispvms: true, defaultDispvm: 'work-dvm', defaultDispvmIsDefault: true, internal: '1' }),
  dom('anon-dvm', { tags: ['anon-vm'], templateForDispvms: true, defaultDispvm: 'other-dvm' }),
);

test('stand-ins have names no declared qube can have', (t) => {
  const w = worldOf(declared, [rule('@tag:personal', '@type:TemplateVM')]);
  t.true(w.standIns.size > 0);
  for (const name of w.standIns.keys()) {
    t.true(isStandIn(name), name);
    t.false(qubeNameSyntax.test(name), name);
    t.true(w.info.domains.has(name));
  }
  for (const name of declared.domains.keys()) t.false(isStandIn(name), name);
});

test('every qube of the world runs, the declared ones keeping what they are', (t) => {
  const w = worldOf(declared, []);
  for (const d of w.info.domains.values()) t.true(d.running, d.name);
  for (const d of declared.domains.values()) t.deepEqual(w.info.domains.get(d.name), { ...d, running: true });
});

test('a running disposable of each disposable template, with its tags and internal feature', (t) => {
  const w = worldOf(declared, []);
  const disposables = [...w.standIns].filter(([, s]) => s.kind === 'disposable');
  t.deepEqual(disposables.map(([, s]) => s), [{ kind: 'disposable', template: 'anon-dvm' }, { kind: 'disposable', template: 'work-dvm' }]);
  const [anonName] = disposables[0]!;
  const [workName] = disposables[1]!;
  const work = w.info.domains.get(workName)!;
  t.like(work, { type: 'DispVM', tags: ['identity-work', 'dvm-tag'], templateForDispvms: false, internal: '1', running: true });
  // Qubes' default on the template is not copied: the disposable's own default is its template.
  t.is(work.defaultDispvm, 'work-dvm');
  // A value set on the template is copied.
  t.is(w.info.domains.get(anonName)!.defaultDispvm, 'other-dvm');
  t.false('internal' in w.info.domains.get(anonName)!);
});

test('without rules naming types or tags: one untagged AppVM and one disposable template outside the policy', (t) => {
  const w = worldOf(declared, [rule('work', 'dom0')]);
  const outside = [...w.standIns.values()].filter((s) => s.kind === 'outside');
  t.deepEqual(outside, [
    { kind: 'outside', type: 'AppVM' },
    { kind: 'outside', type: 'AppVM', dispvmTemplate: true },
  ]);
  for (const [name, s] of w.standIns) if (s.kind === 'outside') t.like(w.info.domains.get(name), { tags: [], defaultDispvm: null, templateForDispvms: s.dispvmTemplate === true });
});

test('each type and tag a rule names, in any column, gets stand-ins; qpc\'s identity tags do not', (t) => {
  const rules = [
    rule('@tag:b', '@type:TemplateVM'),
    rule('@anyvm', '@dispvm:@tag:a', { redirect: '@type:StandaloneVM' }),
    rule('@tag:identity-work', '@default', { action: 'ask', defaultTarget: '@tag:c' }),
    rule('@type:AdminVM', 'work'),
  ];
  const w = worldOf(declared, rules);
  const outside = [...w.standIns.values()].filter((s) => s.kind === 'outside' && !s.dispvmTemplate);
  const types = [...new Set(outside.map((s) => (s.kind === 'outside' ? s.type : '')))];
  // dom0 is the only AdminVM, so no AdminVM stands outside the policy.
  t.deepEqual(types, ['AppVM', 'StandaloneVM', 'TemplateVM']);
  const tagsOfAppVMs = outside.filter((s) => s.kind === 'outside' && s.type === 'AppVM').map((s) => (s.kind === 'outside' ? s.tag ?? '-' : ''));
  t.deepEqual(tagsOfAppVMs, ['-', 'a', 'b', 'c']);
  const templates = [...w.standIns.values()].filter((s) => s.kind === 'outside' && s.dispvmTemplate).map((s) => (s.kind === 'outside' ? s.tag ?? '-' : ''));
  t.deepEqual(templates, ['-', 'a', 'b', 'c']);
  for (const [name, s] of w.standIns) if (s.kind === 'outside' && s.tag) t.deepEqual(w.info.domains.get(name)!.tags, [s.tag]);
});

test('the declared system is not changed', (t) => {
  const frozen = deepFreeze(info(dom('a'), dom('b-dvm', { templateForDispvms: true })));
  t.notThrows(() => worldOf(frozen, [rule('@tag:x', '@anyvm')]));
  t.is(frozen.domains.get('a')!.running, undefined);
});

test('all running: running qubes kept as they are, the result memoized per system', (t) => {
  const up = dom('up', { running: true });
  const s = info(up, dom('down'), dom('off', { running: false }));
  const r = allRunning(s);
  t.is(r.domains.get('up'), up);
  t.true(r.domains.get('down')!.running);
  t.true(r.domains.get('off')!.running);
  t.is(allRunning(s), r);
  t.not(allRunning(info(up)), r);
  t.is(s.domains.get('down')!.running, undefined);
});

test('how stand-ins read in messages', (t) => {
  t.is(describeStandIn({ kind: 'disposable', template: 'anon-dvm' }), 'a running disposable of `anon-dvm`');
  t.is(describeStandIn({ kind: 'outside', type: 'AppVM' }), 'a qube outside the policy');
  t.is(describeStandIn({ kind: 'outside', type: 'AppVM', tag: 'personal' }), 'a qube outside the policy tagged `personal`');
  t.is(describeStandIn({ kind: 'outside', type: 'TemplateVM' }), 'a TemplateVM outside the policy');
  t.is(describeStandIn({ kind: 'outside', type: 'AppVM', dispvmTemplate: true, tag: 't' }), 'a disposable template outside the policy tagged `t`');
});
