/**
 * The command line past binding errors: `qpc check` reports the analysis
 * findings a typo cannot change, writes no lock file while there are
 * errors, and `qpc query` answers only from a policy none of whose rules
 * is set aside.
 */
import test from 'ava';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { runQpc } from '../../../helpers/cli.js';

const POLICY = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red }
identity work { network clearnet via sys-firewall; label blue }
qube anon-chat in anon {
  template whonix-workstation-$whonix
  app gajim { socks dedicated }
}
qube anon-web in anon {
  template whonix-workstation-$whonix
  netvm sys-firewall
}
template my-tpl
qube mail in work { template my-tpl }
allow my.Sync from mail to mial
`;

const host = (text: string) => overlayHost(new Map([['p.qpol', text]]), nodeHost);
const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

test('qpc check reports a Tor bypass beside a typo in a rule, and writes no lock file', (t) => {
  const r = runQpc(['check', 'p.qpol', '--error-format', 'plain'], { host: host(POLICY) });
  t.is(r.code, 1);
  t.regex(output(r), /error\[QP2001\]: unknown qube or identity `mial`/);
  t.regex(output(r), /error\[QP3004\]: `anon-web` of Tor identity `anon` reaches the network without Tor/);
  t.is(r.written.size, 0, 'no lock file while there are errors');
  // The same policy without errors allocates gajim's port and writes the lock.
  const fixed = runQpc(['check', 'p.qpol', '--error-format', 'plain'], { host: host(POLICY.replace('to mial', 'to mail').replace('  netvm sys-firewall\n', '')) });
  t.deepEqual([...fixed.written.keys()], ['p.qpol.lock'], output(fixed));
});

test('qpc query does not answer from a policy whose rule is set aside, and answers past other name errors', (t) => {
  const typo = runQpc(['query', 'p.qpol', 'my.Sync mail anon-chat', '--error-format', 'plain'], { host: host(POLICY) });
  t.is(typo.code, 1);
  t.notRegex(typo.stdout, /my\.Sync mail anon-chat:/);
  // A typo in a label says nothing about the qrexec policy: the request is answered.
  const label = POLICY.replace('to mial', 'to mail').replace('label blue', 'label bleu');
  const r = runQpc(['query', 'p.qpol', 'my.Sync mail anon-chat', '--error-format', 'plain'], { host: host(label) });
  t.regex(r.stdout, /my\.Sync mail anon-chat: deny/);
  t.regex(output(r), /error\[QP2013\]/);
});

test('qpc test runs no expectation while one of them does not bind', (t) => {
  const text = `${POLICY.replace('to mial', 'to mail')}expect my.Sync from mail to anon-chat: deny\nexpect my.Sync from mail to anon-caht: deny\n`;
  const r = runQpc(['test', 'p.qpol'], { host: host(text) });
  t.is(r.code, 1);
  t.regex(r.stdout, /0 passed; 0 failed; 2 not run/);
  t.regex(output(r), /error\[QP2001\]: unknown qube `anon-caht`/);
});
