/** Which ports qpc may give: a gateway's listeners by port, and the ports Whonix leaves free. */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { buildGraph } from '../../../../compiler/graph/policy-graph.js';
import { appKey, dedicatedPort, flagsKey, FREE_PORTS_TEXT, freePort, isPort, portTables, portUse } from '../../../../compiler/passes/socks-ports.js';

const policy = 'use "qubes"\nuse "whonix"\nidentity anon { network tor via sys-whonix; label red }\n';

test("sys-whonix's listeners: pre-bound custom groups are a dedicated app's, free ports a listener's", (t) => {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]]), nodeHost), until: 'bind' });
  const table = portTables(buildGraph(r.program!));
  const t1 = table('sys-whonix');
  t.is(table('sys-whonix'), t1, 'built once per gateway');
  t.true(dedicatedPort(t1, 9152), 'a port of the pre-bound group without flags');
  t.false(dedicatedPort(t1, 9050), "Whonix's own SOCKS port");
  t.false(freePort(t1, 9152));
  t.true(freePort(t1, 9112));
  t.true(freePort(t1, 9230));
  t.false(freePort(t1, 9200));
  t.false(freePort(t1, 22));
  t.regex(portUse(t1, 9050, 'sys-whonix', 'allocates'), /^port 9050 is a socks listener that `sys-whonix` opens itself$/);
  t.is(portUse(t1, 22, 'sys-whonix', 'allocates'), 'port 22 is not a port qpc allocates');
  t.is(FREE_PORTS_TEXT, '9112, 9113, 9116, 9119–9121, 9230 and up');
});

test('flag sets, app keys and ports', (t) => {
  t.is(flagsKey(['dest-port', 'dest-addr', 'dest-port']), 'dest-addr dest-port');
  t.is(flagsKey([]), '');
  t.is(appKey('chat', 'ssh'), 'chat/ssh');
  t.true(isPort(65535));
  for (const p of [0, 65536, 1.5, '80', null]) t.false(isPort(p));
});
