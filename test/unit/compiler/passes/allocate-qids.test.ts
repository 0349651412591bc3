/** Qube numbers are stable: kept from the lock, new qubes take the lowest free ones in name order, dom0 is 0. */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { buildGraph } from '../../../../compiler/graph/policy-graph.js';
import { allocateQids, MAX_QID } from '../../../../compiler/passes/allocate-qids.js';

function graphOf(qubes: string) {
  const text = `use "qubes"\ntemplate deb\nidentity work { network clearnet via sys-firewall; label blue }\n${qubes}`;
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost), until: 'bind' });
  return buildGraph(r.program!);
}

test('new qubes take the lowest free numbers in name order; dom0 is 0', (t) => {
  const q = allocateQids(graphOf('qube b in work { template deb }\nqube a in work { template deb }\n'), {});
  t.is(q.dom0, 0);
  const numbers = Object.entries(q).filter(([n]) => n !== 'dom0').sort(([a], [b]) => (a < b ? -1 : 1)).map(([, n]) => n);
  t.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => i + 1));
  t.true(q.a! < q.b!);
});

test('a qube keeps its number; adding one renumbers no other; a number twice is given once', (t) => {
  const first = allocateQids(graphOf('qube b in work { template deb }\n'), {});
  const added = allocateQids(graphOf('qube a in work { template deb }\nqube b in work { template deb }\n'), first);
  for (const [name, n] of Object.entries(first)) t.is(added[name], n, name);
  t.false(Object.values(first).includes(added.a!));
  const twice = allocateQids(graphOf('qube a in work { template deb }\nqube b in work { template deb }\n'), { a: 40, b: 40 });
  t.is(twice.a, 40);
  t.not(twice.b, 40);
  t.is(MAX_QID, 64515);
});
