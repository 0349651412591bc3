/**
 * The ownership record in a snapshot (docs/snapshot.md): `owned`, a copy of
 * dom0's /var/lib/qpc/owned, or `owned.unread`, why there is none; neither
 * in a snapshot older than the record. Its lines become typed items; a line
 * of another shape is a QP5001 finding, never an item.
 */
import test from 'ava';
import fc from 'fast-check';
import { sha256 } from '../../../../compiler/hash.js';
import { nodeHost, type CompilerHost } from '../../../../compiler/host.js';
import { ownedLine, parseOwnership, readSnapshot, type OwnedItem } from '../../../../compiler/snapshot/index.js';

const old = 'test/fixtures/snapshots/qubes-4.2-whonix';
const owned = 'test/fixtures/snapshots/plan-owned';

/** A host over a recorded snapshot with files added, replaced or (undefined) removed, its manifest and state hash kept consistent. */
function snapshotWith(dir: string, changes: Readonly<Record<string, string | undefined>>): CompilerHost {
  const files = new Map<string, string>();
  for (const l of nodeHost.readFile(`${dir}/files.sha256`).split('\n')) {
    const p = l.slice(66);
    if (p !== '') files.set(p, nodeHost.readFile(`${dir}/${p}`));
  }
  for (const [p, v] of Object.entries(changes)) {
    if (v === undefined) files.delete(p);
    else files.set(p, v);
  }
  const manifest = [...files.keys()].sort().map((p) => `${sha256(files.get(p)!)}  ${p}\n`).join('');
  files.set('files.sha256', manifest);
  files.set('state.sha256', `${sha256(manifest)}\n`);
  files.set('version', nodeHost.readFile(`${dir}/version`));
  return {
    readFile(p) {
      const v = files.get(p.slice(dir.length + 1));
      if (v === undefined) throw new Error('no such file');
      return v;
    },
  };
}

const read = (changes: Readonly<Record<string, string | undefined>>, dir = owned) => readSnapshot(dir, snapshotWith(dir, changes));

test('a snapshot older than the record: not recorded, and no finding', (t) => {
  const r = readSnapshot(old, nodeHost);
  t.deepEqual(r.diagnostics, []);
  t.deepEqual(r.state.ownership, { status: 'not-recorded', items: [] });
});

test("the record provision.sh wrote reads as typed items, in the record's order", (t) => {
  const r = readSnapshot(owned, nodeHost);
  t.deepEqual(r.diagnostics, []);
  t.is(r.state.ownership.status, 'recorded');
  const items = r.state.ownership.items;
  t.deepEqual(items.slice(0, 3), [
    { kind: 'pref', qube: 'work', property: 'memory' },
    { kind: 'pref', qube: 'work', property: 'vcpus' },
    { kind: 'device', qube: 'work', devclass: 'usb', device: 'sys-usb:2-1' },
  ]);
  t.true(items.some((i) => i.kind === 'file' && i.qube === 'anon-chat' && i.path === '/usr/local/bin/qpc-hexchat'));
  t.true(items.some((i) => i.kind === 'policy' && i.name === '41-gone' && /^[0-9a-f]{64}$/.test(i.sha256)));
  // Every line but the header comment, each its item's own line again.
  const text = nodeHost.readFile(`${owned}/owned`);
  t.deepEqual(items.map(ownedLine), text.split('\n').filter((l) => l !== '' && !l.startsWith('#')));
  t.throws(() => (items as OwnedItem[]).push(items[0]!), { instanceOf: TypeError });
});

test('absent, empty and unread records are told apart', (t) => {
  t.deepEqual(read({ owned: undefined, 'owned.unread': 'absent\n' }).state.ownership, { status: 'absent', items: [] });
  const empty = read({ owned: '' });
  t.deepEqual(empty.diagnostics, []);
  t.deepEqual(empty.state.ownership, { status: 'recorded', items: [] });
  const unread = read({ owned: undefined, 'owned.unread': 'not readable\n' });
  t.deepEqual(unread.diagnostics, []);
  t.deepEqual(unread.state.ownership, { status: 'unread', reason: 'not readable', items: [] });
});

test('what the script never writes is a finding: both files, an unknown reason', (t) => {
  const both = read({ 'owned.unread': 'absent\n' });
  t.deepEqual(both.diagnostics.map((d) => d.code), ['QP5001']);
  t.is(both.state.ownership.status, 'unread');
  t.deepEqual(both.state.ownership.items, []);
  const odd = read({ owned: undefined, 'owned.unread': 'because\n' });
  t.regex(odd.diagnostics.map((d) => d.message).join('\n'), /owned\.unread`: not a reason the script writes: "because"/);
});

test('a line of another shape is named by its number and left out; the rest is read', (t) => {
  const lines = [
    '# header',
    'tag work mine',
    'tag work mine extra',
    'tag work',
    'feature work $(reboot)',
    'policy ../etc 84a86cd5488c00de0fd8c0eb38cdedc3f2235af956d800ea4b4ef22f379a04b0',
    'policy 30-qpc 84a8',
    'file anon-chat relative/path',
    'file anon-chat /usr/../etc/shadow',
    'file anon-chat /usr//x',
    'device work usb',
    'owner work x',
    'toString',
    'tag  work mine',
    'tag work mine',
    '',
  ];
  const bad: string[] = [];
  const items = parseOwnership(lines.join('\n'), (why) => bad.push(why));
  t.deepEqual(items, [{ kind: 'tag', qube: 'work', tag: 'mine' }], 'each item once');
  t.deepEqual(bad.map((b) => b.slice(0, b.indexOf(' ', 5))), ['line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9', 'line 10', 'line 11', 'line 12', 'line 13', 'line 14']);
  t.regex(bad[6]!, /^line 9 names a file that is not a plain absolute path/);
  const r = read({ owned: lines.join('\n') });
  t.is(r.diagnostics.length, 12);
  t.true(r.diagnostics.every((d) => d.code === 'QP5001' && d.message.includes('owned`: line ')));
});

test('any text as a record: items or findings, never an exception, and every item a line of its own shape', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('toString a b', 'constructor a', 'tag a b', 'pref q memory', 'file q /x/y', 'device q pci dom0:00_14.0', 'policy p '.padEnd(74, 'a'))), { maxLength: 8 }), (ls) => {
      const bad: string[] = [];
      const text = ls.join('\n');
      const lines = text.split('\n');
      const items = parseOwnership(text, (why) => bad.push(why));
      for (const i of items) if (!lines.includes(ownedLine(i))) return false;
      return items.length + bad.length <= lines.length;
    }),
  );
  t.pass();
});
