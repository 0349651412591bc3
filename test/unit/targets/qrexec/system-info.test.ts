import test from 'ava';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import type { DomainInfo, SystemInfo } from '../../../../compiler/qrexec/types.js';
import { qubeUuid } from '../../../../targets/qrexec/emit.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { systemInfoPath } from '../../../../targets/paths.js';
import { exampleModel, examples, must, releases } from './models.js';

// Fields of `internal.GetSystemInfo` per release (qubes-core-admin `qubes/api/internal.py`; reference §1.7).
const fields42 = ['default_dispvm', 'guivm', 'icon', 'power_state', 'tags', 'template_for_dispvms', 'type'];
const fields43 = [...fields42, 'internal', 'label', 'relayvm', 'transport_rpc', 'uuid'].sort();

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
      t.deepEqual(Object.keys(json), ['domains']);
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
        // dom0 and templates are black unless the policy says otherwise, as Qubes installs them.
        const shown = q.label ?? (q.klass === 'AdminVM' || q.klass === 'TemplateVM' ? 'black' : undefined);
        t.is(d.icon, shown === undefined ? null : `appvm-${shown}`);
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
