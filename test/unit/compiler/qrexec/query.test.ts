/**
 * The scenarios for the qrexec analysis, as small policies: what
 * `qpc query` answers with no user rule, GetDate, @dispvm, and the findings.
 */
import test from 'ava';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { runQpc } from '../../../helpers/cli.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const base = `use "qubes"
use "whonix"
template deb { tag whonix-updatevm }
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
qube anon-web in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue; disposable work-dvm }
disposable work-dvm in work { template deb }
qube work-email in work { template deb }
`;

function query(policy: string, ...requests: string[]) {
  const host = overlayHost(new Map([['p.qpol', policy]]), nodeHost);
  const r = runQpc(['query', '--format', 'json', 'p.qpol', ...requests], { host });
  return { code: r.code, answers: r.code === 0 ? (JSON.parse(r.stdout) as { action: string; target?: string; targets?: string[]; rule: { policyFile: string; stock: boolean; text: string } | null }[]) : [], stderr: r.stderr };
}

test('with no user rule, file copy, open-URL and clipboard are denied between a Tor identity and a clearnet qube, both ways', (t) => {
  const services = ['qubes.Filecopy', 'qubes.OpenURL', 'qubes.ClipboardPaste'];
  const requests = services.flatMap((s) => [`${s} anon-chat work-email`, `${s} work-email anon-chat`]);
  const q = query(base, ...requests);
  t.is(q.code, 0, q.stderr);
  t.deepEqual(q.answers.map((a) => a.action), requests.map(() => 'deny'));
  for (const a of q.answers) t.is(a.rule?.policyFile, '30-qpc.policy');
});

test('inside one identity, file copy stays ask', (t) => {
  const q = query(base, 'qubes.Filecopy anon-chat anon-web', 'qubes.Filecopy anon-chat @default');
  t.is(q.answers[0].action, 'ask');
  t.true(q.answers[0].targets!.includes('anon-web'));
  t.is(q.answers[1].action, 'ask');
  t.false(q.answers[1].targets!.some((x) => x.startsWith('work')), 'the dialog offers only qubes of the identity');
});

test('GetDate from a Tor-identity qube is denied by the stock rule of 90-default', (t) => {
  const q = query(base, 'qubes.GetDate anon-chat @default', 'qubes.GetDate work-email @default');
  t.is(q.answers[0].action, 'deny');
  t.deepEqual([q.answers[0].rule?.policyFile, q.answers[0].rule?.stock], ['90-default.policy', true]);
  t.is(q.answers[1].action, 'allow');
  t.is(q.answers[1].target, 'dom0');
});

test('OpenURL to @dispvm from a Tor identity opens its own Whonix disposable', (t) => {
  const q = query(base, 'qubes.OpenURL anon-chat @dispvm');
  t.is(q.answers[0].action, 'allow');
  t.is(q.answers[0].target, '@dispvm:anon-dvm');
});

test('human output names the deciding rule and its file', (t) => {
  const host = overlayHost(new Map([['p.qpol', base]]), nodeHost);
  const r = runQpc(['query', 'p.qpol', 'qubes.GetDate anon-chat @default'], { host });
  t.is(r.code, 0);
  t.regex(r.stdout, /^qubes\.GetDate anon-chat @default: deny\n  rule  deny qubes\.GetDate from @tag:anon-vm to @anyvm\n  in    90-default\.policy \(stock; policies\/qubes-policy\.qpol:\d+\)\n$/);
});

test('requests from a file or stdin, one per line', (t) => {
  const host = overlayHost(new Map([['p.qpol', base], ['reqs.txt', '# comment\nqubes.Filecopy anon-chat anon-web\n\nqubes.GetDate anon-chat @default\n']]), nodeHost);
  const r = runQpc(['query', '--format', 'json', '--requests', 'reqs.txt', 'p.qpol'], { host });
  t.is(r.code, 0);
  t.is(JSON.parse(r.stdout).length, 2);
  const s = runQpc(['query', '--format', 'json', '--requests', '-', 'p.qpol'], { host, stdin: 'qubes.Filecopy anon-chat anon-web\n' });
  t.is(JSON.parse(s.stdout)[0].action, 'ask');
});

test('bad requests are usage errors; a policy with errors cannot be queried', (t) => {
  t.is(query(base, 'qubes.Filecopy anon-chat').code, 2);
  t.is(query(base, 'qubes.Filecopy nobody anon-chat').code, 2);
  t.is(query(base + 'qube x in nowhere\n', 'qubes.Filecopy anon-chat anon-web').code, 1);
});

test('an allow from a Tor identity to a clearnet qube is an error; with because alone, still one (it needs --allow-waived QP3030)', (t) => {
  expectDiagnostics(t, base + 'allow qubes.Filecopy from anon-chat to work-email\n', [{ code: 'QP3030', underline: 'allow qubes.Filecopy from anon-chat to work-email', severity: 'error' }]);
  expectDiagnostics(t, base + 'allow qubes.Filecopy from anon-chat to work-email because "publishing"\n', [{ code: 'QP3030', severity: 'error' }]);
});

test('a shell to a non-disposable is flagged with its danger level; to a disposable it is not', (t) => {
  expectDiagnostics(t, base + 'qube work-build in work { template deb }\nallow qubes.VMShell from work-email to work-build\n', [{ code: 'QP3032', message: /^critical danger: `qubes\.VMShell`/ }]);
  expectDiagnostics(t, base + 'allow qubes.VMShell from work-email to @dispvm\n', []);
});

test('a rule made unreachable by an earlier wildcard is reported with both spans', (t) => {
  const src = base + 'qube work-build in work { template deb }\nallow qubes.Gpg from work to @type:AppVM because "split GPG among work qubes"\ndeny qubes.Gpg from work-email to work-build\n';
  expectDiagnostics(t, src, [
    { code: 'QP3030', severity: 'error' }, // @type:AppVM reaches the Tor identity too: the `because` counts only with --allow-waived QP3030
    { code: 'QP3033', underline: 'deny qubes.Gpg from work-email to work-build' },
  ]);
});

test('a false expect fails with the actual decision and the rule', (t) => {
  expectDiagnostics(t, base + 'expect qubes.Filecopy from anon-chat to anon-web: deny\n', [{ code: 'QP3035', message: /gives ask/ }]);
  expectDiagnostics(t, base + 'expect qubes.Filecopy from anon-chat to work-email: deny\nexpect qubes.OpenURL from anon-chat to @dispvm: allow target @dispvm:anon-dvm\n', []);
});

test('a `require` names a dialog that offers a new disposable of the other side as such', (t) => {
  // `deny * from work to keys` removes keys' qubes from the file-copy dialog, not new disposables of its template.
  const policy = `use "qubes"
template deb
amend sys-net { template deb }
amend sys-firewall { template deb }
identity work { network clearnet via sys-firewall; label blue }
identity keys { network none; label black; disposable keys-dvm }
disposable keys-dvm in keys { template deb }
qube work-email in work { template deb }
qube vault in keys { template deb }
deny * from work to keys
require work never-reaches keys
`;
  expectDiagnostics(t, policy, [{ code: 'QP3036', message: /the policy allows `qubes\.\w+` from `work-email` to a new disposable of `keys-dvm` when the user confirms the dialog$/ }]);
  expectDiagnostics(t, policy.replace('deny * from work to keys\n', 'deny * from work to keys\ndeny * from work to @dispvm:keys-dvm\n'), []);
});

test('a policy whose analysis has errors is still answered, with the errors and exit code 1', (t) => {
  const failing = base + 'expect qubes.Filecopy from anon-chat to work-email: allow\n';
  const host = overlayHost(new Map([['p.qpol', failing]]), nodeHost);
  const r = runQpc(['query', '--format', 'json', 'p.qpol', 'qubes.Filecopy anon-chat work-email'], { host });
  t.is(r.code, 1);
  t.is(JSON.parse(r.stdout)[0].action, 'deny');
  t.regex(r.stderr, /QP3035/);
  t.regex(r.stderr, /the policy has an error/);
  const once = runQpc(['query', 'p.qpol', 'qubes.Filecopy anon-chat work-email'], { host });
  t.is(once.stderr.match(/QP3035/g)?.length, 1, 'each finding is printed once');
});

test('an ask that offers qubes of several other identities is one QP3030 naming every one of them', (t) => {
  const host = overlayHost(new Map([['p.qpol', base.replace('qube work-email in work { template deb }', 'qube work-email in work { template deb; tag shared }') + 'identity vault { network none }\nqube vault-keys in vault { template deb; tag shared }\nask qubes.Filecopy from anon-chat to @tag:shared\n']]), nodeHost);
  const r = runQpc(['check', '--error-format', 'json', 'p.qpol'], { host });
  const found = (JSON.parse(r.stdout) as { code: string; message: string; span?: { line: number } }[]).filter((d) => d.code === 'QP3030' && d.span?.line === 13);
  t.is(found.length, 1, JSON.stringify(found));
  t.regex(found[0].message, /`work-email` \(identity `work`\)/);
  t.regex(found[0].message, /`vault-keys` \(identity `vault`\)/);
});

test('an allow is reported even when a later ask, said to be wanted, offers the same pair', (t) => {
  const host = overlayHost(new Map([['p.qpol', base + 'allow qubes.Filecopy from work-email to anon-chat\nask qubes.Filecopy from @anyvm to @anyvm because "every other copy is asked"\n']]), nodeHost);
  const r = runQpc(['check', '--error-format', 'json', 'p.qpol'], { host });
  const found = (JSON.parse(r.stdout) as { code: string; severity: string; message: string; span?: { line: number } }[]).filter((d) => d.code === 'QP3030' && d.span?.line === 11);
  t.deepEqual(found.map((d) => [d.severity, d.message]), [['error', '`qubes.Filecopy` is allowed from `work-email` (identity `work`) to `anon-chat` (Tor identity `anon`)']]);
});

test('a qubes.USB grant names the direction the device goes: from the target to the caller', (t) => {
  const host = overlayHost(new Map([['p.qpol', base + 'allow qubes.USB from work-email to sys-firewall\nallow qubes.USBAttach from sys-firewall to work-email\n']]), nodeHost);
  const r = runQpc(['check', '--error-format', 'json', 'p.qpol'], { host });
  const found = (JSON.parse(r.stdout) as { code: string; message: string }[]).filter((d) => d.code === 'QP3032').map((d) => d.message);
  t.deepEqual(found, ['high danger: `qubes.USB` hands a USB device of the target to the caller', 'high danger: `qubes.USBAttach` hands a device or its secrets to the target']);
});
