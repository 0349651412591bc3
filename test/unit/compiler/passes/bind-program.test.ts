import test from 'ava';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = 'use "qubes"\nuse "whonix"\n';

test('unknown references get "did you mean" with the declaration as related span', (t) => {
  expectDiagnostics(t, head + 'template debian-12\ngateway sys-vpn { template debian-12; netvm sys-firewal }\n', [
    { code: 'QP2001', underline: 'sys-firewal', help: /did you mean `sys-firewall`\?/, message: /^unknown gateway `sys-firewal`$/ },
  ]);
});

test('a standard library name without its `use` says which module declares it', (t) => {
  expectDiagnostics(t, 'template d\ngateway g { template d; netvm sys-firewall }\n', [{ code: 'QP2001', underline: 'sys-firewall', help: /add `use "qubes"`/ }]);
});

test('duplicate declarations point at both', (t) => {
  expectDiagnostics(t, head + 'identity a { network none }\nidentity a { network none }\nqube q in a\n', [{ code: 'QP2002', underline: 'a', line: 4 }]);
  expectDiagnostics(t, head + 'template d\ngateway sys-firewall { template d }\n', [{ code: 'QP2002', underline: 'sys-firewall', help: /amend sys-firewall/ }]);
});

test('names follow Qubes rules for the release', (t) => {
  const q = (name: string) => `${head}identity i { network none }\nqube ${name} in i\n`;
  expectDiagnostics(t, q('2fa'), [{ code: 'QP2003', underline: '2fa', message: /start with a letter/ }]);
  expectDiagnostics(t, q('a'.repeat(32)), [{ code: 'QP2003', message: /32 characters/ }]);
  expectDiagnostics(t, q('default'), [{ code: 'QP2003', message: /reserves/ }]);
  expectDiagnostics(t, q('Domain-0'), [{ code: 'QP2003' }]);
  expectDiagnostics(t, q('work-dm'), [{ code: 'QP2003', message: /-dm/ }]);
  expectDiagnostics(t, q('my$qube'), [{ code: 'QP2003', message: /`\$` is not allowed/ }]);
  expectDiagnostics(t, q('work.mail'), [{ code: 'QP2022', underline: 'work.mail' }]);
  expectDiagnostics(t, 'settings { qubes 4.3 }\n' + q('work.mail'), []);
  expectDiagnostics(t, q('vаult'), [{ code: 'QP2008', message: /U\+0430/ }]);
});

test('$whonix follows the settings', (t) => {
  expectDiagnostics(t, head + 'settings { whonix 17 }\nidentity anon { network tor via sys-whonix }\nqube a in anon { template whonix-workstation-17 }\n', []);
  expectDiagnostics(t, head + 'settings { whonix 17 }\nidentity anon { network tor via sys-whonix }\nqube a in anon { template whonix-workstation-18 }\n', [
    { code: 'QP2001', underline: 'whonix-workstation-18', help: /whonix-workstation-17/ },
  ]);
});

test('settings are checked and given once', (t) => {
  expectDiagnostics(t, 'settings { qubes 4.1; whonix 16; policy-file 30-My_Policy }\n', [
    { code: 'QP2013', underline: '4.1' },
    { code: 'QP2013', underline: '16' },
    { code: 'QP2013', underline: '30-My_Policy' },
  ]);
  expectDiagnostics(t, 'settings { qubes 4.2 }\nsettings { qubes 4.3 }\n', [{ code: 'QP2011', line: 2 }]);
});

test('amend adds to a declaration made elsewhere and must name one', (t) => {
  expectDiagnostics(t, head + 'amend sys-firewall { memory 500 }\n', []);
  expectDiagnostics(t, head + 'amend sys-firewal { memory 500 }\n', [{ code: 'QP2001', underline: 'sys-firewal', help: /sys-firewall/ }]);
  expectDiagnostics(t, head + 'amend sys-firewall { network none }\n', [{ code: 'QP2014', underline: 'network' }]);
});
