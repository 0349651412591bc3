import test from 'ava';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = `use "qubes"
use "whonix"
template deb { tag whonix-updatevm }
identity work { network clearnet via sys-firewall; disposable work-dvm }
disposable work-dvm in work { template deb }
identity anon { network tor via sys-whonix; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
`;

test('a clean topology has no findings', (t) => {
  expectDiagnostics(t, head + 'qube mail in work { template deb }\nqube chat in anon { template whonix-workstation-18 }\n', []);
});

test('the Tor invariant: a netvm that leaves Tor out, with the path', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon {\n  template whonix-workstation-18\n  netvm sys-firewall\n}\n', [
    { code: 'QP3004', underline: 'netvm sys-firewall', message: /chat → sys-firewall → sys-net → \(network\)$/ },
  ]);
});

test('a route through a gateway behind Tor still passes Tor', (t) => {
  expectDiagnostics(t, head + 'gateway sys-vpn-over-tor { template deb; netvm sys-whonix }\nqube chat in anon { template whonix-workstation-18; netvm sys-vpn-over-tor }\n', []);
});

test('netvm none is always allowed', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; netvm none }\nqube mail in work { template deb; netvm none }\n', []);
});

test('a clearnet qube behind a Tor gateway', (t) => {
  expectDiagnostics(t, head + 'qube mail in work { template deb; netvm sys-whonix }\n', [{ code: 'QP3007', underline: 'netvm sys-whonix' }]);
});

test('a clearnet netvm that passes the identity gateway is fine; one that skips it is not', (t) => {
  const vpn = 'gateway sys-vpn { template deb; netvm sys-firewall }\nidentity home { network clearnet via sys-vpn; disposable home-dvm }\ndisposable home-dvm in home { template deb }\n';
  expectDiagnostics(t, head + vpn + 'gateway sys-inner { template deb; netvm sys-vpn }\nqube bank in home { template deb; netvm sys-inner }\n', []);
  expectDiagnostics(t, head + vpn + 'qube bank in home { template deb; netvm sys-firewall }\n', [{ code: 'QP3003', underline: 'netvm sys-firewall' }]);
});

test('devices on Tor qubes and PCI on PVH', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; device mic }\n', [{ code: 'QP3013', underline: 'device mic' }]);
  expectDiagnostics(t, head + 'qube mail in work { template deb; device pci "sys-net:00_1f.6" }\n', []);
  expectDiagnostics(t, head + 'qube mail in work { template deb; virt-mode pvh; device pci "sys-net:00_1f.6" }\n', [{ code: 'QP3014', underline: 'pvh' }]);
});

test('disposables must stay in their identity', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; default-disposable work-dvm }\n', [{ code: 'QP3016', underline: 'default-disposable work-dvm' }]);
  expectDiagnostics(t, head + 'named-disposable sys-usb in anon { template work-dvm }\n', [{ code: 'QP3016', underline: 'template work-dvm' }]);
  expectDiagnostics(t, head + 'identity anon2 { network tor via sys-whonix-2 }\ngateway sys-whonix-2 { tor; template whonix-gateway-18; netvm sys-firewall }\nqube c2 in anon2 { template whonix-workstation-18 }\nqube c3 in anon2 { template whonix-workstation-18 }\nsettings { default-disposable work-dvm }\n', [
    { code: 'QP3016', underline: 'anon2', message: /global default disposable/ },
  ]);
});

test('a Tor identity qube on a non-Whonix template warns; its template must update through Tor', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template deb }\n', [{ code: 'QP3009', underline: 'template deb', severity: 'warning' }]);
  expectDiagnostics(t, head.replace('template deb { tag whonix-updatevm }', 'template deb') + 'qube chat in anon { template deb }\n', [
    { code: 'QP3015', underline: 'deb' },
    { code: 'QP3009', severity: 'warning' },
  ]);
});

test('loops are reported once, not as leaks too', (t) => {
  expectDiagnostics(t, head + 'gateway a { template deb; netvm b }\ngateway b { template deb; netvm a }\nqube chat in anon { template whonix-workstation-18; netvm a }\n', [{ code: 'QP3001', underline: 'netvm b' }]);
});

test('waived findings become warnings that quote the reason', (t) => {
  expectDiagnostics(
    t,
    head + 'identity anon2 { network tor via sys-whonix; disposable anon2-dvm }\ndisposable anon2-dvm in anon2 { template whonix-workstation-18 }\nwaive QP3008 on sys-whonix because "one persona per session"\n',
    [{ code: 'QP3008', severity: 'info' }],
  );
});
