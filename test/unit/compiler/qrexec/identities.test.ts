/**
 * Who is on which side: a qube's identity, whether a call is a channel a Tor
 * identity must not have, Whonix's own calls between a qube and its own Tor
 * gateway, the side findings are grouped by, and the focus of the analysis.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { completePolicy, systemInfo } from '../../../../compiler/qrexec/lower.js';
import { worldOf } from '../../../../compiler/qrexec/world.js';
import { contextOf, exemptPair, sideOf, torGatewayOf, torRelevant, who } from '../../../../compiler/qrexec/identities.js';

const policy = `use "qubes"
use "whonix"
template deb
identity anon { network tor via sys-whonix; label red }
qube anon-a in anon { template whonix-workstation-18 }
qube anon-b in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue }
qube work-a in work { template deb }
identity other { network clearnet via sys-firewall; label green }
qube loose in other { template deb }
qube loose-b in other { template deb }
require work isolated-from loose
`;

function context() {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]]), nodeHost) });
  if (!r.program || !r.graph) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const info = systemInfo(r.graph);
  return contextOf(r.program, r.graph, info, worldOf(info, completePolicy(r.program)));
}

test('identityOf and the Tor qubes come from the identities', (t) => {
  const cx = context();
  t.is(cx.identityOf('anon-a'), 'anon');
  t.is(cx.identityOf('loose'), 'other');
  t.true(cx.torQube.has('anon-b'));
  t.false(cx.torQube.has('work-a'));
  t.true(cx.isTorIdentity('anon'));
  t.false(cx.isTorIdentity('work'));
  t.true(cx.admin.has('dom0'));
});

test('a call is a Tor channel when it crosses a Tor identity\'s side, and never to dom0', (t) => {
  const cx = context();
  t.true(torRelevant(cx, 'anon-a', 'work-a'));
  t.true(torRelevant(cx, 'work-a', 'anon-a'));
  t.false(torRelevant(cx, 'anon-a', 'anon-b'), 'inside the identity');
  t.false(torRelevant(cx, 'work-a', 'loose'), 'no Tor qube on either side');
  t.false(torRelevant(cx, 'anon-a', 'dom0'));
});

test('a require makes calls between its two sides matter, both ways', (t) => {
  const cx = context();
  t.true(cx.inRequire('work-a', 'loose'));
  t.true(cx.inRequire('loose', 'work-a'));
  t.false(cx.inRequire('work-a', 'anon-a'));
  t.false(cx.inRequire('loose-b', 'work-a'), 'a require naming a qube is of that qube only');
});

test('the focus of a caller outside Tor is the Tor qubes, with the other side of its requires', (t) => {
  const cx = context();
  t.is(cx.focus(true)(['anon-a']), undefined, 'a Tor caller: every target');
  t.deepEqual([...cx.focus(false)(['work-a'])!].sort(), ['anon-a', 'anon-b']);
  t.deepEqual([...cx.focus(true)(['work-a'])!].sort(), ['anon-a', 'anon-b', 'loose']);
});

test('findings are grouped by identity, a qube a require names standing for itself', (t) => {
  const cx = context();
  t.is(sideOf(cx, 'anon-a'), 'anon');
  t.is(sideOf(cx, 'loose'), 'other');
  t.is(cx.key('anon-b'), 'anon');
  t.is(cx.key('loose'), 'loose');
  t.is(cx.key('loose-b'), 'other');
  t.is(who(cx, 'anon-a'), '`anon-a` (Tor identity `anon`)');
  t.is(who(cx, 'loose'), '`loose` (identity `other`)');
  t.is(who(cx, 'sys-firewall'), '`sys-firewall`');
});

test('Whonix\'s own calls run between a qube and its own Tor gateway only', (t) => {
  const cx = context();
  t.is(torGatewayOf(cx, 'anon-a'), 'sys-whonix');
  t.is(torGatewayOf(cx, 'work-a'), undefined);
  t.true(exemptPair(cx, 'anon-a', 'sys-whonix'));
  t.true(exemptPair(cx, 'sys-whonix', 'anon-b'));
  t.false(exemptPair(cx, 'work-a', 'sys-whonix'));
  t.false(exemptPair(cx, 'anon-a', 'work-a'));
});
