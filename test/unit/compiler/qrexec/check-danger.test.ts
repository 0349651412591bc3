/**
 * Dangerous grants (QP3032): each danger reads as one sentence, and only a
 * grant of the user's is one (not a deny, not a stock or generated rule).
 */
import test from 'ava';
import { checkText } from '../../../helpers/expect-diagnostics.js';
import type { Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';

const head = `use "qubes"
use "whonix"
template deb { tag whonix-updatevm }
amend sys-net { template deb }
amend sys-firewall { template deb }
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue; disposable work-dvm }
disposable work-dvm in work { template deb }
qube work-email in work { template deb }
`;

/** The findings of one code, each with the text under its caret and its related spans' texts. */
function findings(src: string, code: string) {
  const at = (s: { file: string; start: number; end: number } | undefined) => (s && s.file === 'test.qpol' ? src.slice(s.start, s.end) : `(${s?.file ?? 'none'})`);
  return checkText(src)
    .filter((d: Diagnostic) => d.code === code)
    .map((d) => ({ message: d.message, underline: at(d.span), label: d.label ?? '', related: d.related.map((r) => ({ text: at(r.span), message: r.message })) }));
}

test('QP3032 reads as a sentence for every danger', (t) => {
  const [admin] = findings(head + 'allow admin.vm.List from work-email to dom0\n', 'QP3032');
  t.is(admin.message, 'critical danger: `admin.vm.List` is the Admin API: the caller manages qubes (and can take over the system)');
  const [clock] = findings(head + 'allow qubes.GetDate from anon-chat to dom0\n', 'QP3032');
  t.is(clock.message, 'high danger: `qubes.GetDate` gives the caller the clock, which lets an observer correlate the Tor identity with the host');
});

test('QP3032 is for grants of the user\'s only: a deny of a dangerous service is none', (t) => {
  t.deepEqual(findings(head + 'deny admin.vm.List from work-email to dom0\n', 'QP3032'), []);
  t.is(findings(head + 'ask admin.vm.List from work-email to dom0\n', 'QP3032').length, 1);
});

test('QP3032: a shell in the caller\'s own disposable is no danger, one in another qube is', (t) => {
  t.deepEqual(findings(head + 'allow qubes.VMShell from anon-chat to @dispvm\n', 'QP3032'), []);
  const [shell] = findings(head + 'allow qubes.VMShell from anon-chat to work-email\n', 'QP3032');
  t.is(shell.underline, 'allow qubes.VMShell from anon-chat to work-email');
});
