/**
 * The bound program: the reference index (every place a name is written,
 * found by site, by cursor offset and by name), item keys, and `lastItem`
 * (amendments override the declaration's own items).
 */
import test from 'ava';
import { check, overlayHost } from '../../../compiler/index.js';
import { defaultSettings, itemKey, lastItem, ReferenceIndex, whonixVersions, type Program, type Reference } from '../../../compiler/program.js';
import { SourceFile, type Span } from '../../../compiler/source.js';
import type { Item } from '../../../compiler/syntax/ast.js';
import { parseValid } from '../../helpers/ast.js';

const text = `use "qubes"
settings { whonix 17 }
template debian-12-xfce
identity work { network clearnet via sys-firewall; disposable work-dvm }
disposable work-dvm in work { template debian-12-xfce }
qube work-web in work { template debian-12-xfce; memory 200 }
qube tpl-$whonix in work { template debian-12-xfce }
amend work-web { memory 400 }
amend work-web { vcpus 2 }
allow qubes.Filecopy from work-web to @dispvm:work-dvm
`;

function program(): Program {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]])), until: 'bind' });
  if (!r.program) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.program;
}

const offset = (needle: string, nth = 0): number => {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(needle);
  return at;
};

test('the default settings and the Whonix versions qpc knows', (t) => {
  t.deepEqual(defaultSettings, { qubes: '4.2', whonix: 18, policyFile: '30-qpc' });
  t.true(whonixVersions.includes(defaultSettings.whonix));
});

test('the reference at an offset: inside the name and just after it, not before it or after a gap', (t) => {
  const p = program();
  const start = offset('work-web in work');
  t.is(p.references.at('p.qpol', start)?.name, 'work-web');
  t.is(p.references.at('p.qpol', start + 3)?.role, 'declaration');
  t.is(p.references.at('p.qpol', start + 'work-web'.length)?.name, 'work-web', 'the cursor just after a name');
  t.is(p.references.at('p.qpol', start - 1), undefined, 'the space before it');
  t.is(p.references.at('p.qpol', start + 'work-web '.length), undefined, 'between the name and `in`');
  t.is(p.references.at('p.qpol', 0), undefined);
  t.is(p.references.at('other.qpol', start), undefined);
});

test('a name written with `$whonix` is indexed under its replaced name and keeps its text', (t) => {
  const r = program().references.at('p.qpol', offset('tpl-$whonix'))!;
  t.deepEqual([r.name, r.text, r.role, r.context], ['tpl-17', 'tpl-$whonix', 'declaration', 'qube']);
});

test('the name inside `@dispvm:Q`: its span is Q, its site the whole endpoint', (t) => {
  const p = program();
  const at = offset('@dispvm:work-dvm');
  t.is(p.references.at('p.qpol', at), undefined, 'the `@dispvm:` prefix is no name');
  const r = p.references.at('p.qpol', at + '@dispvm:'.length)!;
  t.is(r.name, 'work-dvm');
  t.deepEqual([r.span.start, r.span.end, r.site.start, r.site.end], [at + 8, at + 16, at, at + 16]);
  t.is(p.references.site(r.site), r);
  t.is(p.references.site(r.span), undefined, 'a site is the whole word, not the name inside it');
});

test('the references of a name: declarations first when asked for, otherwise uses only', (t) => {
  const p = program();
  const all = p.references.of('work-web', true);
  t.is(all[0]!.role, 'declaration');
  t.deepEqual(all.map((r) => r.context), ['qube', 'amend', 'amend', 'source']);
  t.deepEqual(p.references.of('work-web', false).map((r) => r.context), ['amend', 'amend', 'source']);
  t.deepEqual(p.references.of('nothing', true), []);
  t.deepEqual(p.references.of('work', false).map((r) => r.context), ['in', 'in', 'in']);
});

test('every reference names its declaration when there is one', (t) => {
  const p = program();
  for (const r of p.references.all.filter((x) => x.span.file === 'p.qpol')) t.is(r.decl, p.decls.get(r.name), r.name);
});

function ref(file: string, start: number, end: number, name: string, role: Reference['role'] = 'reference'): Reference {
  const span: Span = { file, start, end, line: 1, column: start + 1, endLine: 1, endColumn: end + 1 };
  return { name, text: name, span, site: span, role, decl: undefined, context: 'source', statement: undefined as never };
}

test('the index finds by offset whatever order the references were given in', (t) => {
  const index = new ReferenceIndex([ref('a', 20, 25, 'c'), ref('b', 0, 3, 'x'), ref('a', 0, 3, 'a'), ref('a', 10, 12, 'b')]);
  t.deepEqual([0, 3, 4, 10, 12, 13, 19, 25, 26].map((o) => index.at('a', o)?.name ?? '-'), ['a', 'a', '-', 'b', 'b', '-', '-', 'c', '-']);
  t.is(index.at('b', 1)?.name, 'x');
  t.deepEqual(index.all.map((r) => r.name), ['c', 'x', 'a', 'b'], '`all` keeps the given order');
});

test('an empty index finds nothing', (t) => {
  const index = new ReferenceIndex([]);
  t.is(index.at('a', 0), undefined);
  t.deepEqual(index.of('a', true), []);
});

test('the key of every kind of item is the property it sets', (t) => {
  const f = parseValid(`qube q in i {
  template t
  label red
  kernelopts "quiet"
  vcpus 2
  memory 400 max 800
  device pci "dom0:00_14.3"
  feature a.b "c"
  service cups on
  autostart
  app firefox
}
identity i { network tor via g }
gateway g { listener socks 9050 }
`);
  const items = f.statements.flatMap((s) => (s.kind === 'Declaration' ? s.items : []));
  t.deepEqual(items.map((i: Item) => `${i.kind}=${itemKey(i)}`), [
    'RefItem=template',
    'ValueItem=label',
    'StringItem=kernelopts',
    'CountItem=vcpus',
    'MemoryItem=memory',
    'DeviceItem=device',
    'FeatureItem=feature',
    'ServiceItem=service',
    'FlagItem=autostart',
    'AppItem=app',
    'NetworkItem=network',
    'ListenerItem=listener',
  ]);
});

test('the last item of a key wins: an amendment overrides the declaration', (t) => {
  const p = program();
  const web = p.decls.get('work-web')!;
  t.is(lastItem(web, 'MemoryItem')?.memory.value, 400);
  t.is(lastItem(web, 'CountItem', 'vcpus')?.value.value, 2);
  t.is(lastItem(web, 'RefItem', 'template')?.target?.text, 'debian-12-xfce');
  t.is(lastItem(web, 'ValueItem', 'label'), undefined);
  t.is(lastItem(web, 'RefItem', 'netvm'), undefined, 'a key of the kind that is not there');
  t.is(web.amends.length, 2);
});

test('the source file kept for each file of the program is the text read', (t) => {
  const p = program();
  const f = p.files.find((x) => x.source.path === 'p.qpol')!;
  t.true(f.source instanceof SourceFile);
  t.is(f.source.text, text);
  t.false(f.std);
  t.true(p.files.some((x) => x.std));
});
