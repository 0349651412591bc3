/** What the standard library declares and which stock files it models, for binding's help and `stock` blocks. */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { overlayHost } from '../../../../compiler/host.js';
import { resolverFor, standardDeclarations, standardStockModules } from '../../../../compiler/passes/standard-library.js';

test('each module declares its names, `$whonix` unreplaced; an unknown module declares none', (t) => {
  t.true(standardDeclarations('qubes').includes('sys-firewall'));
  t.true(standardDeclarations('whonix').some((n) => n.includes('$whonix')));
  t.is(standardDeclarations('qubes'), standardDeclarations('qubes'), 'read once');
  t.deepEqual(standardDeclarations('no-such-module'), []);
});

test('stock policy files are mapped to the module that models them', (t) => {
  const stock = standardStockModules();
  t.true(stock.size > 0);
  for (const m of stock.values()) t.true(m === 'qubes' || m === 'whonix', m);
});

test("the resolver names the standard library's declarations with `$whonix` replaced", (t) => {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', 'template deb\n']])), until: 'bind' });
  const resolver = resolverFor(r.program!, new Set(['qubes']));
  const names = resolver.stdNames();
  t.is(names.get('sys-firewall'), 'qubes');
  t.false([...names.keys()].some((n) => n.includes('$whonix')));
  t.true([...names.values()].includes('whonix'));
  t.is(resolver.stdNames(), names, 'built once');
});
