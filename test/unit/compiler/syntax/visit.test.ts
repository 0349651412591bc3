/**
 * `walk`: every node of a syntax tree, parents before children, children in
 * the order of their parent's fields (which is source order), comments too;
 * spans, which are not nodes, are not entered.
 */
import test from 'ava';
import { walk } from '../../../../compiler/syntax/visit.js';
import type { Node } from '../../../../compiler/syntax/ast.js';
import { parseValid } from '../../../helpers/ast.js';

function visited(root: Node): string[] {
  const out: string[] = [];
  walk(root, (n) => out.push(n.kind + ('text' in n && typeof n.text === 'string' ? `:${n.text}` : '')));
  return out;
}

test('every node, parents first, in source order', (t) => {
  const f = parseValid('template t { label red }\nallow qubes.Gpg from a to b target c\n# c\n');
  t.deepEqual(visited(f), ['PolicyFile', 'Declaration', 'Word:t', 'ValueItem', 'Word:red', 'Rule', 'Word:qubes.Gpg', 'Endpoint:a', 'Endpoint:b', 'EndpointParam', 'Endpoint:c', 'Comment: c']);
});

test('walking a subtree visits only it', (t) => {
  const f = parseValid('identity work { network clearnet via sys-firewall }\nqube w in work\n');
  t.deepEqual(visited(f.statements[1]!), ['Declaration', 'Word:w', 'Word:work']);
});

test('nested blocks: the rules of a policy-file block and the apps of a declaration', (t) => {
  const f = parseValid('policy-file 40-x {\n  deny qubes.A from a to b\n}\nqube q in i {\n  app firefox { socks dedicated }\n}\n');
  const kinds = visited(f);
  t.true(kinds.indexOf('PolicyFileBlock') < kinds.indexOf('Rule'));
  t.true(kinds.indexOf('AppItem') < kinds.indexOf('SocksBinding'));
  t.true(kinds.includes('Word:firefox'));
  t.is(kinds.filter((k) => k === 'Endpoint:a' || k === 'Endpoint:b').length, 2);
});

test('the callback may count every node of a file exactly once', (t) => {
  const f = parseValid('template t\nqube a in i { template t }\nqube b in i { template t }\n');
  const seen = new Set<Node>();
  let calls = 0;
  walk(f, (n) => {
    calls++;
    seen.add(n);
  });
  t.is(calls, seen.size);
  t.is([...seen].filter((n) => n.kind === 'Word' && (n as { text: string }).text === 't').length, 3);
});
