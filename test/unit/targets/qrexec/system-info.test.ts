import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { runPipeline } from '../../../../compiler/pipeline.js';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import type { DomainInfo, QubesRelease, SystemInfo } from '../../../../compiler/qrexec/types.js';
import { qubeUuid } from '../../../../targets/qrexec/emit.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { systemInfoPath } from '../../../../targets/paths.js';
import { exampleModel, examples, modelOf, must, releases, unlabelledPolicy } from './models.js';

// The fields `internal.GetSystemInfo` gives each domain, read from qubes-core-admin
// `qubes/api/internal.py` (`get_system_info`): R4.2 at every v4.2.x tag through v4.2.39 and
// release4.2 702cc3f9; R4.3 at v4.3.44 through v4.3.50 (release4.3 68fc8b6b, main 1ad5f9b8 alike),
// `SystemInfoCache.get_system_info`. At the top level both have `domains` only.
const fields42 = ['default_dispvm', 'guivm', 'icon', 'power_state', 'tags', 'template_for_dispvms', 'type'];
const fields43 = [...fields42, 'internal', 'label', 'relayvm', 'transport_rpc', 'uuid'].sort();

// `qubes.Label(index, color, name)` of qubes-core-admin `qubes/app.py` (`load_initial_values`):
// `label` is `str(domain.label.color)`, `icon` is `domain.label.icon`, `appvm-` and the name
// (`qubes/__init__.py`), for every class.
const colours: Record<string, string> = {
  red: '0xcc0000',
  orange: '0xf57900',
  yellow: '0xedd400',
  green: '0x73d216',
  gray: '0x555555',
  blue: '0x3465a4',
  purple: '0x75507b',
  black: '0x000000',
};

/**
 * Every field of the release on every domain, each of the type qubesd gives
 * it, and a label on every domain (qubesd has no domain without one:
 * `str(domain.label.color)` and `str(domain.label.icon)` are never null).
 */
function assertShape(t: ExecutionContext, json: Json, release: QubesRelease): void {
  t.deepEqual(Object.keys(json), ['domains']);
  for (const [name, d] of Object.entries(json.domains)) {
    t.deepEqual(Object.keys(d), release === '4.2' ? fields42 : fields43, name);
    t.true(Array.isArray(d.tags) && (d.tags as unknown[]).every((x) => typeof x === 'string'), `${name} tags`);
    t.is(typeof d.type, 'string', `${name} type`);
    t.is(typeof d.template_for_dispvms, 'boolean', `${name} template_for_dispvms`);
    t.true(d.default_dispvm === null || typeof d.default_dispvm === 'string', `${name} default_dispvm`);
    t.true(d.guivm === null || typeof d.guivm === 'string', `${name} guivm`);
    t.true(d.power_state === 'Running' || d.power_state === 'Halted', `${name} power_state`);
    t.regex(String(d.icon), /^appvm-(red|orange|yellow|green|gray|blue|purple|black)$/, `${name} has an icon`);
    if (release === '4.2') continue;
    t.is(d.label, colours[String(d.icon).slice('appvm-'.length)], `${name} has the label of its icon`);
    t.true(d.internal === null || typeof d.internal === 'string', `${name} internal`);
    t.is(d.relayvm, null, `${name} relayvm`);
    t.is(d.transport_rpc, null, `${name} transport_rpc`);
    t.regex(String(d.uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `${name} uuid`);
  }
}

interface Json {
  domains: Record<string, Record<string, unknown>>;
}

/** Keys in sorted order at every level. */
function sortedKeys(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(sortedKeys);
  if (v === null || typeof v !== 'object') return true;
  const keys = Object.keys(v);
  return keys.every((k, i) => i === 0 || keys[i - 1] < k) && Object.values(v).every(sortedKeys);
}

/** What the evaluator needs, read back from the JSON. */
function asSystemInfo(json: Json): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  for (const [name, d] of Object.entries(json.domains)) {
    domains.set(name, {
      name,
      type: d.type as string,
      tags: d.tags as string[],
      defaultDispvm: d.default_dispvm as string | null,
      templateForDispvms: d.template_for_dispvms as boolean,
      running: d.power_state === 'Running',
    });
  }
  return { domains };
}

for (const name of examples) {
  for (const release of releases) {
    test(`${name} on Qubes ${release}: system-info.json has every declared qube with the evaluator's facts`, (t) => {
      const m = must(exampleModel(name, release));
      const text = qrexecTarget.emit(m, []).find((a) => a.path === systemInfoPath)!.contents;
      const json = JSON.parse(text) as Json;
      t.is(text, JSON.stringify(json, null, 2) + '\n', '2-space JSON with a final newline');
      t.true(sortedKeys(json), 'keys sorted at every level');
      assertShape(t, json, release);
      t.deepEqual(Object.keys(json.domains), m.qubes.map((q) => q.name).sort(), 'every declared qube, and no other');
      for (const q of m.qubes) {
        const d = json.domains[q.name];
        const info = m.systemInfo.domains.get(q.name)!;
        t.deepEqual(Object.keys(d), release === '4.2' ? fields42 : fields43, q.name);
        t.is(d.type, info.type);
        t.is(d.type, q.klass, 'the qube class');
        t.deepEqual(d.tags, [...info.tags].sort());
        t.deepEqual(d.tags, q.tags);
        t.is(d.default_dispvm, info.defaultDispvm);
        t.is(d.template_for_dispvms, info.templateForDispvms);
        t.is(d.power_state, info.running ? 'Running' : 'Halted');
        // The policy's label; dom0 and templates are black unless the policy says otherwise, as Qubes installs them.
        const shown = q.label ?? (q.klass === 'AdminVM' || q.klass === 'TemplateVM' ? 'black' : 'red');
        t.is(d.icon, `appvm-${shown}`);
        t.is(d.guivm, q.klass === 'AdminVM' ? null : 'dom0');
        if (release !== '4.2') t.is(d.uuid, q.name === 'dom0' ? '00000000-0000-0000-0000-000000000000' : qubeUuid(q.name));
      }
      if (release !== '4.2') {
        const uuids = Object.values(json.domains).map((d) => d.uuid as string);
        t.is(new Set(uuids).size, uuids.length, 'UUIDs are distinct');
        for (const u of uuids) t.regex(u, /^[0-9a-f]{8}-[0-9a-f]{4}-[05][0-9a-f]{3}-[089ab0][0-9a-f]{3}-[0-9a-f]{12}$/);
      }

      // The file says what the checker evaluated: decisions over it equal those over the model's system information.
      const read = asSystemInfo(json);
      const names = [...m.systemInfo.domains.keys()];
      const services = [...new Set(m.completePolicy.map((r) => r.service).filter((s) => s !== '*'))];
      let compared = 0;
      for (const service of services) for (const source of names) for (const target of [...names, '@default', '@dispvm']) {
        const request = { service, argument: '+', source, target };
        t.deepEqual(evaluate(m.completePolicy, read, request, release), evaluate(m.completePolicy, m.systemInfo, request, release), JSON.stringify(request));
        compared++;
      }
      t.true(compared > 1000);
    });
  }
}

test('labels map to the icon (R4.2+) and the label colour (R4.3+)', (t) => {
  const m = must(exampleModel('journalist', '4.3'));
  const json = JSON.parse(qrexecTarget.emit(m, []).find((a) => a.path === systemInfoPath)!.contents) as Json;
  t.like(json.domains['source-web'], { icon: 'appvm-red', label: '0xcc0000' });
  t.like(json.domains['work-web'], { icon: 'appvm-blue', label: '0x3465a4' });
  t.like(json.domains['vault-gpg'], { icon: 'appvm-black', label: '0x000000' });
  t.like(json.domains['dom0'], { type: 'AdminVM', power_state: 'Running', guivm: null });
});

test('a changed fact in the system information changes the file', (t) => {
  const m = must(exampleModel('journalist', '4.2'));
  const before = qrexecTarget.emit(m, []).find((a) => a.path === systemInfoPath)!.contents;
  const domains = new Map(m.systemInfo.domains);
  domains.set('work-web', { ...domains.get('work-web')!, defaultDispvm: null });
  const after = qrexecTarget.emit({ ...m, systemInfo: { domains } }, []).find((a) => a.path === systemInfoPath)!.contents;
  t.not(after, before);
  t.is((JSON.parse(after) as Json).domains['work-web'].default_dispvm, null);
  t.is((JSON.parse(before) as Json).domains['work-web'].default_dispvm, 'work-dvm');
});

test('hostile values in the system information are refused at the qube', (t) => {
  const m = must(exampleModel('journalist', '4.2'));
  const span = m.qubes.find((q) => q.name === 'work-web')!.span;
  const cases: Partial<DomainInfo>[] = [{ tags: ['x", "y'] }, { tags: ['a\nb'] }, { type: 'EvilVM' }, { defaultDispvm: 'a b' }];
  for (const c of cases) {
    const domains = new Map(m.systemInfo.domains);
    domains.set('work-web', { ...domains.get('work-web')!, ...c });
    const bad = { ...m, systemInfo: { domains } };
    const found = qrexecTarget.check(bad);
    t.deepEqual(found.map((d) => d.code), ['QP4002'], JSON.stringify(c));
    t.deepEqual(found[0].span, span);
    t.throws(() => qrexecTarget.emit(bad, []));
  }
  const qubes = m.qubes.map((q) => (q.name === 'work-web' ? { ...q, label: 'blue\n' } : q));
  t.deepEqual(qrexecTarget.check({ ...m, qubes }).map((d) => d.code), ['QP4002']);
});

// Qubes' own qrexec-policy-graph colours each qube with its `label`, so a null one stops it
// (policy-graph.test.ts runs it where a copy of qubes-core-qrexec is at hand).
for (const release of releases) {
  test(`Qubes ${release}: every domain has every field of the release and a label, also a qube the policy gives none`, (t) => {
    const m = must(modelOf(unlabelledPolicy.replace('RELEASE', release)));
    t.deepEqual(qrexecTarget.check(m), []);
    const json = JSON.parse(qrexecTarget.emit(m, []).find((a) => a.path === systemInfoPath)!.contents) as Json;
    assertShape(t, json, release);
    for (const q of ['work-web', 'work-dvm', 'box']) {
      t.is(m.qubes.find((x) => x.name === q)!.label, undefined, `${q} has no label in the policy`);
      // Not knowable from the policy: written as red, Qubes' colour for what is least trusted.
      t.like(json.domains[q], release === '4.2' ? { icon: 'appvm-red' } : { icon: 'appvm-red', label: '0xcc0000' }, q);
    }
    t.like(json.domains['dom0'], release === '4.2' ? { icon: 'appvm-black' } : { icon: 'appvm-black', label: '0x000000' });
    t.like(json.domains['debian-12-xfce'], release === '4.2' ? { icon: 'appvm-black' } : { icon: 'appvm-black', label: '0x000000' });
  });
}

// The deployments' system information on both releases, as the examples'.
const deployments: readonly [string, readonly string[]][] = [
  ['test/deployments/qusal.qpol', ['QP3030']],
  ['test/deployments/securedrop-workstation.qpol', ['QP3015', 'QP3030', 'QP3032']],
];
for (const [file, allowWaived] of deployments) {
  for (const release of releases) {
    test(`${path.basename(file)} on Qubes ${release}: every domain has every field of the release and a label`, (t) => {
      const text = readFileSync(file, 'utf8').replace(/^(\s*qubes\s+)4\.[0-9]+/m, `$1${release}`);
      const r = runPipeline(file, overlayHost(new Map([[file, text]]), nodeHost), 'all', { allowWaived }, [qrexecTarget]);
      t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
      const json = JSON.parse(qrexecTarget.emit(r.model!, []).find((a) => a.path === systemInfoPath)!.contents) as Json;
      assertShape(t, json, release);
      t.deepEqual(Object.keys(json.domains), r.model!.qubes.map((q) => q.name).sort());
    });
  }
}
