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
    .map((d) => ({ underline: at(d.span), label: d.label ?? '', message: d.message, help: d.help ?? '', related: d.related.map((r) => ({ text: at(r.span), file: r.span.file, line: r.span.line, message: r.message })), notes: d.notes }));
}

test('Whonix templates update through sys-whonix as the stock policy has it', (t) => {
  t.deepEqual(updates(head), []);
});

test('a rule of the user that sends a Whonix template to a clearnet qube is the mistake: the finding is on it', (t) => {
  const rule = 'allow qubes.UpdatesProxy from whonix-workstation-18 to @default target sys-firewall';
  const ds = updates(head + rule + '\n');
  t.is(ds.length, 1);
  const d = ds[0];
  t.is(d.message, 'template `whonix-workstation-18` of `anon-dvm` (Tor identity `anon`) would download its updates over the clearnet');
  t.is(d.underline, rule);
  t.is(d.label, 'the updates go to `sys-firewall`');
  t.false(d.related.some((r) => r.text === rule), 'the rule is not repeated as a note');
  t.true(d.related.some((r) => r.file.endsWith('whonix.qpol') && /`whonix-workstation-18` is declared here/.test(r.message)));
  t.regex(d.help, /rule/);
  t.notRegex(d.help, /tag whonix-updatevm/);
});

test('a Tor qube on a template clearnet qubes share: the finding is on its choice; the help puts the Whonix template first and says what the tag would change', (t) => {
  const ds = updates(head + 'qube notes in anon { template deb }\n');
  t.is(ds.length, 1);
  const d = ds[0];
  t.is(d.message, 'template `deb` of `notes` (Tor identity `anon`) would download its updates over the clearnet');
  t.is(d.underline, 'template deb');
  t.true(d.related.some((r) => r.text === 'deb' && r.message === '`deb` is declared here; `sys-firewall` and `sys-net`, outside Tor identities, also run on it'));
  const stock = d.related.find((r) => r.file.endsWith('qubes-policy.qpol'));
  t.truthy(stock, 'a related span is at the stock rule that decides');
  t.regex(stock!.message, /sys-net/);
  const [first, second] = d.help.split('\n');
  t.regex(first, /^base `notes` on a Whonix workstation template \(`template whonix-workstation-18`\)/);
  t.regex(second, /^`tag whonix-updatevm` on `deb` instead would move the updates of `sys-firewall` and `sys-net`, which run on it too, to `sys-whonix` and Tor/);
});

test('a template only Tor identities use is itself the mistake: the finding is on it, and the help is the tag', (t) => {
  const ds = updates(head + 'template anon-deb\nqube notes in anon { template anon-deb }\n');
  t.is(ds.length, 1);
  t.is(ds[0].underline, 'anon-deb');
  t.true(ds[0].related.some((r) => r.text === 'template anon-deb' && /`notes` of Tor identity `anon` is based on it/.test(r.message)));
  t.regex(ds[0].help, /^add `tag whonix-updatevm` to the template: Qubes then sends its updates through `sys-whonix` over Tor \(only qubes of Tor identities run on it\)/);
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
  t.regex(ds[0].underline, /^ask qubes\.UpdatesProxy/);
  t.regex(ds[0].label, /^the dialog offers .*`sys-net`/);
});

test('the template of a disposable template or named disposable counts', (t) => {
  // A disposable template of another identity (QP3016): the Tor identity's disposables still run on its template.
  const dvm = 'template deb2\nidentity work { network clearnet via sys-firewall }\ndisposable plain-dvm in work { template deb2 }\n';
  const named = updates(head + dvm + 'named-disposable anon-usb in anon { template plain-dvm }\n');
  // deb2 is shared with the clearnet identity: the mistake is the reference to its disposable template.
  t.deepEqual(named.map((d) => d.underline), ['template plain-dvm']);
  t.true(named[0].related.some((r) => r.text === 'deb2' && /`plain-dvm`, outside Tor identities, also runs on it/.test(r.message)));
  // Not: base the other identity's plain-dvm on Whonix-Workstation (that is QP3010).
  t.regex(named[0].help, /^give `anon-usb` a disposable template of identity `anon` instead of `plain-dvm`, based on a Whonix workstation template/);
  const dd = updates(head + dvm + 'qube mail in anon { template whonix-workstation-18; default-disposable plain-dvm }\n');
  t.deepEqual(dd.map((d) => d.underline), ['default-disposable plain-dvm']);
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
