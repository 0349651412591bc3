import test from 'ava';
import { checkText } from '../../../helpers/expect-diagnostics.js';

const head = `use "qubes"
use "whonix"
template deb
amend sys-net { template deb }
amend sys-firewall { template deb }
identity anon { network tor via sys-whonix; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube chat in anon { template whonix-workstation-18 }
`;

/** The update findings of a policy, with the text under each caret and under each related span. */
function updates(src: string) {
  const at = (s: { file: string; start: number; end: number } | undefined) => (s && s.file === 'test.qpol' ? src.slice(s.start, s.end) : '');
  return checkText(src)
    .filter((d) => d.code === 'QP3015')
    .map((d) => ({ underline: at(d.span), message: d.message, help: d.help ?? '', related: d.related.map((r) => ({ text: at(r.span), file: r.span.file, line: r.span.line, message: r.message })), notes: d.notes }));
}

test('Whonix templates update through sys-whonix as the stock policy has it', (t) => {
  t.deepEqual(updates(head), []);
});

test('a rule that sends a Whonix template to a clearnet qube is reported on the template, with the rule', (t) => {
  const ds = updates(head + 'allow qubes.UpdatesProxy from whonix-workstation-18 to @default target sys-firewall\n');
  t.is(ds.length, 1);
  const d = ds[0];
  t.regex(d.message, /template `whonix-workstation-18` of Tor-identity qubes/);
  const rule = d.related.find((r) => r.text.startsWith('allow qubes.UpdatesProxy'));
  t.truthy(rule, 'a related span is at the deciding rule');
  t.regex(rule!.message, /sys-firewall/);
  t.regex(d.help, /rule/);
  t.notRegex(d.help, /tag whonix-updatevm/);
});

test('an untagged template goes to sys-net by the stock rule: the help is the tag', (t) => {
  const ds = updates(head + 'qube notes in anon { template deb }\n');
  t.is(ds.length, 1);
  t.is(ds[0].underline, 'deb');
  t.regex(ds[0].help, /tag whonix-updatevm/);
  const stock = ds[0].related.find((r) => r.file.endsWith('qubes-policy.qpol'));
  t.truthy(stock, 'a related span is at the stock rule that decides');
  t.regex(stock!.message, /sys-net/);
  t.true(ds[0].related.some((r) => r.text === 'template deb' && /`notes` of Tor identity `anon`/.test(r.message)));
});

test('a tagged template, a template whose updates are denied, or sent to a Tor gateway, is fine', (t) => {
  t.deepEqual(updates(head.replace('template deb\n', 'template deb { tag whonix-updatevm }\n') + 'qube notes in anon { template deb }\n'), []);
  t.deepEqual(updates(head + 'deny qubes.UpdatesProxy from deb to @anyvm\nqube notes in anon { template deb }\n'), []);
  t.deepEqual(updates(head + 'allow qubes.UpdatesProxy from deb to @default target sys-whonix\nqube notes in anon { template deb }\n'), []);
});

test('an ask reaches every target it lists', (t) => {
  t.deepEqual(updates(head + 'ask qubes.UpdatesProxy from whonix-workstation-18 to @default target sys-whonix\n'), []);
  const ds = updates(head + 'ask qubes.UpdatesProxy from whonix-workstation-18 to @anyvm\n');
  t.is(ds.length, 1);
  t.true(ds[0].related.some((r) => r.text.startsWith('ask qubes.UpdatesProxy') && /sys-net/.test(r.message)));
});

test('the template of a disposable template or named disposable counts', (t) => {
  // A disposable template of another identity (QP3016): the Tor identity's disposables still run on its template.
  const dvm = 'template deb2\nidentity work { network clearnet via sys-firewall }\ndisposable plain-dvm in work { template deb2 }\n';
  const named = updates(head + dvm + 'named-disposable anon-usb in anon { template plain-dvm }\n');
  t.deepEqual(named.map((d) => d.underline), ['deb2']);
  t.true(named[0].related.some((r) => r.text === 'template plain-dvm' && /anon-usb/.test(r.message)));
  const dd = updates(head + dvm + 'qube mail in anon { template whonix-workstation-18; default-disposable plain-dvm }\n');
  t.deepEqual(dd.map((d) => d.underline), ['deb2']);
  t.true(dd[0].related.some((r) => r.text === 'default-disposable plain-dvm'));
});

test('a gateway marked `tor` that is not a Whonix gateway does not make updates anonymous', (t) => {
  const ds = updates(head + 'gateway sys-fake { tor; template deb; netvm sys-firewall }\nallow qubes.UpdatesProxy from whonix-workstation-18 to @default target sys-fake\n');
  t.is(ds.length, 1);
  t.regex(ds[0].help + ds[0].notes.join(' '), /sys-fake/);
});

test('a `no-autostart` rule that sends the updates to a clearnet qube counts: the call succeeds while that qube runs', (t) => {
  const ds = updates(head + 'allow qubes.UpdatesProxy from whonix-workstation-18 to @default target sys-firewall no-autostart\n');
  t.true(ds.some((d) => /template `whonix-workstation-18`/.test(d.message)), JSON.stringify(ds));
});
