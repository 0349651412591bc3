import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { NETWORK } from '../../../../compiler/graph/policy-graph.js';

const src = `use "qubes"
use "whonix"
template deb
gateway sys-vpn { template deb; netvm sys-firewall }
identity work { network clearnet via sys-vpn; disposable work-dvm }
identity anon { network tor via sys-whonix }
identity vault { network none }
disposable work-dvm in work { template deb }
qube mail in work { template deb }
qube direct in work { template deb; netvm sys-firewall }
qube chat in anon { template whonix-workstation-18 }
qube keys in vault { template deb }
settings { default-disposable work-dvm }
`;

function graphOf(text: string) {
  const r = check('g.qpol', { host: overlayHost(new Map([['g.qpol', text]]), nodeHost) });
  return r.graph!;
}

test('effective netvm comes from the qube, else its identity', (t) => {
  const g = graphOf(src);
  t.is(g.facts('mail')!.netvm, 'sys-vpn');
  t.false(g.facts('mail')!.netvmExplicit);
  t.is(g.facts('direct')!.netvm, 'sys-firewall');
  t.true(g.facts('direct')!.netvmExplicit);
  t.is(g.facts('keys')!.netvm, null);
  t.is(g.facts('deb')!.netvm, null);
});

test('routes follow netvm edges to the network', (t) => {
  const g = graphOf(src);
  t.deepEqual(g.route('mail').path, ['mail', 'sys-vpn', 'sys-firewall', 'sys-net', NETWORK]);
  t.true(g.route('mail').reachesNetwork);
  t.deepEqual(g.route('chat').path, ['chat', 'sys-whonix', 'sys-firewall', 'sys-net', NETWORK]);
  t.deepEqual(g.route('keys').path, ['keys']);
  t.false(g.route('keys').reachesNetwork);
});

test('membership, service and disposables', (t) => {
  const g = graphOf(src);
  t.deepEqual([...g.members('work')].sort(), ['direct', 'mail', 'work-dvm']);
  t.deepEqual([...g.served('sys-vpn')].sort(), ['mail', 'work-dvm']);
  t.is(g.facts('mail')!.defaultDisposable, 'work-dvm');
  t.is(g.facts('chat')!.defaultDisposable, 'work-dvm', 'the global default applies when neither qube nor identity names one');
  t.deepEqual(g.out('mail', 'template'), ['deb']);
  t.true(g.isTor('sys-whonix'));
  t.false(g.isTor('sys-vpn'));
});

test('gateways inherit the listeners of their template', (t) => {
  const g = graphOf(src + 'gateway sys-whonix-2 { tor; template whonix-gateway-18; netvm sys-firewall }\n');
  const ports = (gw: string) => g.listeners(gw).map((l) => l.from.value);
  t.true(ports('sys-whonix-2').includes(9050));
  t.deepEqual(ports('sys-whonix-2'), ports('sys-whonix'));
  t.deepEqual(ports('sys-vpn'), []);
});

test('netvm cycles are listed once each, in netvm order', (t) => {
  const g = graphOf('use "qubes"\ntemplate d\ngateway a { template d; netvm b }\ngateway b { template d; netvm c }\ngateway c { template d; netvm a }\n');
  t.deepEqual(g.netvmCycles(), [['a', 'b', 'c']]);
  t.true(g.route('a').loops);
});
