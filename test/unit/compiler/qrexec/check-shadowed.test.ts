/**
 * Rules that never decide: a rule of the user's an earlier rule matches
 * every request of first (QP3033), stock rules one of the user's makes
 * unreachable (QP3034).
 */
import test from 'ava';
import { findings, head } from '../../../helpers/qrexec-findings.js';

test('QP3034 agrees in number: one stock rule, or several', (t) => {
  const [one] = findings(head + 'deny qubes.Filecopy from @anyvm to @anyvm\n', 'QP3034');
  t.is(one.message, 'this rule makes the stock rule `ask qubes.Filecopy from @anyvm to @anyvm` of `90-default.policy` unreachable');
  const [two] = findings(head + 'deny qubes.GetDate from @anyvm to @anyvm\n', 'QP3034');
  t.regex(two.message, /^this rule makes 2 stock rules unreachable, among them `[^`]+` of `90-default\.policy`$/);
});

test('QP3033 names the earlier rule that covers a rule, and not a rule that only overlaps it', (t) => {
  const [d] = findings(head + 'deny qubes.Filecopy from @anyvm to work-email\nallow qubes.Filecopy from work-email to work-email\n', 'QP3033');
  t.is(d.underline, 'allow qubes.Filecopy from work-email to work-email');
  t.is(d.related.length, 1);
  t.is(d.related[0].text, 'deny qubes.Filecopy from @anyvm to work-email');
  t.deepEqual(findings(head + 'deny qubes.Filecopy from anon-chat to work-email\nallow qubes.Filecopy from @anyvm to work-email\n', 'QP3033'), []);
});
