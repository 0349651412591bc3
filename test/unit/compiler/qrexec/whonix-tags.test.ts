/**
 * Whonix's anon-vm tag on the qubes of a Tor identity: on by default (the
 * stock policy then denies them dom0's clock and lets Whonix's calls run
 * between them and their gateway), and `whonix-tags off` for a qube that a
 * deployment leaves untagged on purpose, with QP3037 naming the consequence.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { query, queryRunning } from '../../../../compiler/qrexec/query.js';

const policy = (item: string) => `use "qubes"
use "whonix"
template deb { tag whonix-updatevm }
identity anon { network tor via sys-whonix; label red }
qube box in anon { template deb; netvm none${item} }
qube ws in anon { template whonix-workstation-18 }
waive QP3009 on box because "a Debian qube of the identity"
`;

function run(text: string) {
  return check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost) });
}

test('by default every qube of a Tor identity is tagged anon-vm: no clock from dom0', (t) => {
  const r = run(policy(''));
  t.true(r.model!.systemInfo.domains.get('box')!.tags.includes('anon-vm'));
  t.is(query(r.policy!, { service: 'qubes.GetDate', argument: '+', source: 'box', target: '@default' }).action, 'deny');
  t.false(r.diagnostics.some((d) => d.code === 'QP3037'));
});

test('whonix-tags off leaves the qube untagged, as the upstream deployment has it, and says what that changes', (t) => {
  const r = run(policy('; whonix-tags off') + 'expect qubes.GetDate from box to @default: allow target dom0\nexpect whonix.NewStatus from box to sys-whonix: deny\n');
  t.false(r.model?.systemInfo.domains.get('box')!.tags.includes('anon-vm') ?? true);
  t.true(r.model!.systemInfo.domains.get('ws')!.tags.includes('anon-vm'), 'the workstation keeps its tags');
  const found = r.diagnostics.filter((d) => d.code === 'QP3037');
  t.is(found.length, 1);
  t.regex(found[0].message, /`box` does not carry Whonix's `anon-vm` tag: the stock policy gives it the clock of dom0/);
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  t.is(query(r.policy!, { service: 'whonix.NewStatus', argument: '+', source: 'box', target: 'sys-whonix' }).action, 'deny');
});

test('whonix-tags takes on or off', (t) => {
  const r = run(policy('; whonix-tags maybe'));
  t.true(r.diagnostics.some((d) => d.code === 'QP2013' && /maybe/.test(d.message)));
});

test("Whonix's calls run between a qube and its own Tor gateway only, not another identity's", (t) => {
  const text = `use "qubes"
use "whonix"
gateway gw2 { tor; template whonix-gateway-18; netvm sys-firewall; label black }
identity a { network tor via sys-whonix; label red }
identity b { network tor via gw2; label purple }
qube wa in a { template whonix-workstation-18 }
qube wb in b { template whonix-workstation-18 }
expect whonix.NewStatus from wa to gw2: deny
expect whonix.GatewayCommand+restart from gw2 to wa: deny
expect whonix.SdwdateStatus from sys-whonix to wb: deny
`;
  const r = run(text);
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
  const running = (service: string, argument: string, source: string, target: string) => queryRunning(r.policy!, { service, argument, source, target }).action;
  t.is(running('whonix.NewStatus', '+', 'wa', 'sys-whonix'), 'allow');
  t.is(running('whonix.GatewayCommand', '+restart', 'gw2', 'wb'), 'allow');
  t.is(running('whonix.GatewayCommand', '+foo', 'gw2', 'wb'), 'deny', 'only the arguments Whonix allows');
  t.is(running('whonix.SdwdateStatus', '+', 'gw2', 'wb'), 'allow');
});
