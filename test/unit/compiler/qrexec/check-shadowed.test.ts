/**
 * Rules that never decide: a rule of the user's an earlier rule matches
 * every request of first (QP3033), stock rules one of the user's makes
 * unreachable (QP3034).
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
