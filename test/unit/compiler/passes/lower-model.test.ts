/**
 * The labels of the model: the qube's own, else its identity's, else the one
 * Qubes gives that kind of qube (its installer's gateways, `qvm-create
 * --disp`); none for any other qube, which the provision target refuses.
 */
import test from 'ava';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { runPipeline } from '../../../../compiler/pipeline.js';

const policy = `use "qubes"
use "whonix"
settings { qubes 4.2; whonix 18 }

template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }

gateway sys-vpn { template debian-12-xfce; netvm sys-firewall }
gateway sys-wifi { template debian-12-xfce; uplink; netvm none }
gateway sys-tor { tor; template whonix-gateway-18; netvm sys-firewall }
gateway sys-blue { template debian-12-xfce; netvm sys-wifi; label blue }

identity work { network clearnet via sys-vpn }
identity home { network clearnet via sys-blue; label yellow }
identity anon { network tor via sys-tor; label purple }

disposable work-dvm in work { template debian-12-xfce; label orange }
named-disposable work-scratch in work { template work-dvm }
named-disposable home-scratch in home { template home-dvm }
disposable home-dvm in home { template debian-12-xfce }
qube work-web in work { template debian-12-xfce }
qube anon-web in anon { template whonix-workstation-18 }
`;

function labels(): Record<string, string | undefined> {
  const r = runPipeline('p.qpol', overlayHost(new Map([['p.qpol', policy]]), nodeHost));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.model) throw new Error(`the policy does not check: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return Object.fromEntries(r.model.qubes.map((q) => [q.name, q.label]));
}

test('a gateway without a label gets the one Qubes gives that kind of gateway', (t) => {
  const l = labels();
  t.is(l['sys-vpn'], 'green', 'a gateway behind another, as sys-firewall');
  t.is(l['sys-wifi'], 'red', 'an uplink, as sys-net');
  t.is(l['sys-tor'], 'black', 'a Tor gateway, as sys-whonix');
});

test("a label the policy gives wins over the default: the qube's own, then its identity's", (t) => {
  const l = labels();
  t.is(l['sys-blue'], 'blue');
  t.is(l['work-dvm'], 'orange');
  t.is(l['home-dvm'], 'yellow');
  t.is(l['home-scratch'], 'yellow', "the identity's label, not qvm-create's red");
  t.is(l['anon-web'], 'purple');
  t.is(l['sys-net'], 'red');
  t.is(l['sys-firewall'], 'green');
  t.is(l['sys-whonix'], 'black');
});

test('a named disposable without a label is red, as `qvm-create --disp` makes it', (t) => {
  t.is(labels()['work-scratch'], 'red');
});

test('any other qube without a label has none: Qubes has no default for it', (t) => {
  const l = labels();
  t.is(l['work-web'], undefined);
});
