/**
 * Dangerous grants (QP3032): each danger reads as one sentence, and only a
 * grant of the user's is one (not a deny, not a stock or generated rule).
 */
import test from 'ava';
import { findings, head } from '../../../helpers/qrexec-findings.js';

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
