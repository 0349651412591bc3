import test from 'ava';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head =
  'use "qubes"\nuse "whonix"\ntemplate deb\nidentity work { network clearnet via sys-firewall }\nqube mail in work { template deb }\nqube vault in work { template deb }\ndisposable dvm in work { template deb }\n';

test('a valid rule set binds cleanly', (t) => {
  expectDiagnostics(
    t,
    head +
      'allow qubes.Gpg from mail to vault\nask qubes.Filecopy from work to work default vault\nallow qubes.ConnectTCP +22 from mail to @default target vault\ndeny * from @anyvm to @tag:secret notify\nallow qubes.OpenURL from mail to @dispvm:dvm\npolicy-file 20-deny { deny qubes.VMShell from @type:AppVM to @anyvm }\nexpect qubes.Filecopy from mail to vault: ask default vault\n',
    [],
  );
});

test('tokens only in the columns qrexec accepts', (t) => {
  expectDiagnostics(t, head + 'allow qubes.OpenURL from @dispvm to mail\n', [{ code: 'QP2015', underline: '@dispvm', help: /@type:DispVM/ }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from @default to mail\n', [{ code: 'QP2015', underline: '@default' }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from mail to @anyvm target @anyvm\n', [{ code: 'QP2015', underline: '@anyvm', message: /redirect/ }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from mail to @anyvm target work\n', [{ code: 'QP2004', underline: 'work' }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from mail to @anyvmm\n', [{ code: 'QP2013', underline: '@anyvmm', help: /@anyvm/ }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from @type:AppVm to mail\n', [{ code: 'QP2013', underline: '@type:AppVm', help: /AppVM/ }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL from mail to @dispvm:vault\n', [{ code: 'QP2004', underline: '@dispvm:vault' }]);
});

test('parameters must fit the action', (t) => {
  expectDiagnostics(t, head + 'deny qubes.Gpg from mail to vault target vault\n', [{ code: 'QP2016', underline: 'target vault' }]);
  expectDiagnostics(t, head + 'allow qubes.Gpg from mail to vault default vault\n', [{ code: 'QP2016', underline: 'default vault' }]);
  expectDiagnostics(t, head + 'allow qubes.Gpg from mail to @default\n', [{ code: 'QP2016', underline: '@default', help: /target/ }]);
  expectDiagnostics(t, head + 'allow qubes.Gpg from mail to vault notify no-notify\n', [{ code: 'QP2016', underline: 'no-notify' }]);
  expectDiagnostics(t, head + 'allow * +x from mail to vault\n', [{ code: 'QP2016', underline: '+x' }]);
  expectDiagnostics(t, head + 'allow qubes.Gpg from mail to vault because ""\n', [{ code: 'QP2019', underline: '""' }]);
});

test('services and arguments use qrexec characters', (t) => {
  expectDiagnostics(t, head + 'allow qubes.Open/URL from mail to vault\n', [{ code: 'QP2013', underline: 'qubes.Open/URL' }]);
  expectDiagnostics(t, head + 'allow qubes.OpenURL +a/b from mail to vault\n', [{ code: 'QP2013', underline: '+a/b' }]);
});

test('requests in expect name one qube as source and a request target', (t) => {
  expectDiagnostics(t, head + 'expect qubes.Gpg from work to vault: deny\n', [{ code: 'QP2004', underline: 'work' }]);
  expectDiagnostics(t, head + 'expect qubes.Gpg from mail to @anyvm: deny\n', [{ code: 'QP2015', underline: '@anyvm' }]);
  expectDiagnostics(t, head + 'expect qubes.Gpg from mail to vault: allow targets vault, mail\n', [{ code: 'QP2016' }]);
});

test('require and waive resolve their names and codes', (t) => {
  expectDiagnostics(t, head + 'require work isolated-from wrk\n', [{ code: 'QP2001', underline: 'wrk', help: /did you mean `work`/ }]);
  expectDiagnostics(t, head + 'waive QP9999 on mail because "x"\n', [{ code: 'QP2020', underline: 'QP9999' }]);
});

test('an expectation of an asked or denied call names no target', (t) => {
  // The evaluator records no target for an ask, so `: ask target Q` could never hold.
  expectDiagnostics(t, head + 'ask qubes.Gpg from @anyvm to @default target vault default vault\nexpect qubes.Gpg from mail to @default: ask target vault\n', [
    { code: 'QP2016', underline: 'target vault', message: /`target` goes with `allow`/, help: /targets A, B/ },
  ]);
  expectDiagnostics(t, head + 'expect qubes.Gpg from mail to vault: deny target vault\n', [{ code: 'QP2016', underline: 'target vault' }]);
  expectDiagnostics(t, head + 'ask qubes.Gpg from @anyvm to @default target vault default vault\nexpect qubes.Gpg from mail to @default: ask targets vault default vault\n', []);
});

test('rules are checked against the stock services and argument formats, stock blocks are not', (t) => {
  expectDiagnostics(t, head + 'allow qubes.Filecpy from mail to vault\n', [{ code: 'QP2026', underline: 'qubes.Filecpy' }]);
  expectDiagnostics(t, head + 'allow qubes.ConnectTCP +99999 from mail to @default target vault\n', [{ code: 'QP2027', underline: '+99999' }]);
  expectDiagnostics(t, head + 'policy-file 40-x stock sha256 "' + '0'.repeat(64) + '" {\n  allow qubes.Filecpy from mail to vault\n  allow qubes.ConnectTCP +0 from mail to vault\n}\n', []);
  expectDiagnostics(t, head + 'allow qubes.ConnectTCP +a/b from mail to vault\n', [{ code: 'QP2013', underline: '+a/b' }]);
});
