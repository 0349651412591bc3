import test from 'ava';
import { checkText, expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

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
  expectDiagnostics(t, head + 'qube chat in anon { template whonix-workstation-18; default-disposable work-dvm }\n', [
    { code: 'QP3016', underline: 'default-disposable work-dvm', message: /^`chat` of identity `anon` starts its disposables from `work-dvm`, a disposable template of identity `work`$/ },
  ]);
  expectDiagnostics(t, head + 'named-disposable sys-usb in anon { template work-dvm }\n', [
    { code: 'QP3016', underline: 'template work-dvm', message: /^the named disposable `sys-usb` of identity `anon` runs on `work-dvm`, a disposable template of identity `work`$/ },
  ]);
  expectDiagnostics(t, head.replace('disposable anon-dvm }', 'disposable work-dvm }'), [
    { code: 'QP3016', underline: 'work-dvm', message: /^the disposable template `work-dvm` of identity `anon` belongs to identity `work`$/ },
  ]);
  expectDiagnostics(t, head + 'identity anon2 { network tor via sys-whonix-2 }\ngateway sys-whonix-2 { tor; template whonix-gateway-18; netvm sys-firewall }\nqube c2 in anon2 { template whonix-workstation-18 }\nqube c3 in anon2 { template whonix-workstation-18 }\nsettings { default-disposable work-dvm }\n', [
    { code: 'QP3016', underline: 'anon2', message: /^identity `anon2` starts its disposables from Qubes' global default disposable template `work-dvm`, which belongs to identity `work`$/ },
  ]);
});

test('a Tor identity qube on a non-Whonix template warns; its template must update through Tor', (t) => {
  expectDiagnostics(t, head + 'qube chat in anon { template deb }\n', [{ code: 'QP3009', underline: 'template deb', severity: 'warning' }]);
  expectDiagnostics(t, head.replace('template deb { tag whonix-updatevm }', 'template deb') + 'qube chat in anon { template deb }\n', [
    // On the Tor qube's choice of a template that a clearnet qube (work-dvm) shares, not on the template.
    { code: 'QP3009', severity: 'warning' },
    { code: 'QP3015', underline: 'template deb', help: /^base `chat` on a Whonix workstation template[^\n]*\n`tag whonix-updatevm` on `deb` instead would move the updates of `work-dvm`, which runs on it too, to `sys-whonix` and Tor/ },
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

// Two Tor identities behind one intermediate gateway: Tor on the Tor gateway sees one client.
const second = 'gateway sys-whonix-2 { tor; template whonix-gateway-18; netvm sys-firewall }\ngateway sys-vpn { template deb; netvm sys-whonix-2 }\nidentity a { network tor via sys-whonix-2 }\nidentity b { network tor via sys-whonix-2 }\n';

/** The shared-gateway findings of a policy (its other findings are other tests' business). */
const shared = (src: string) => checkText(src).filter((d) => d.code === 'QP3008');

test('two Tor identities behind one gateway in front of their Tor gateway share it, and a related span names that gateway', (t) => {
  const src = head + second + 'qube a1 in a { template whonix-workstation-18; netvm sys-vpn }\nqube b1 in b { template whonix-workstation-18; netvm sys-vpn }\n';
  const ds = shared(src);
  t.is(ds.length, 1);
  const d = ds[0];
  t.is(src.slice(d.span!.start, d.span!.end), 'sys-whonix-2');
  t.regex(d.message, /2 identities: `a`, `b`$/);
  const via = d.related.find((r) => r.message.includes('`sys-vpn`') && r.message.includes('client address'));
  t.truthy(via, 'a related span names the shared gateway');
  t.is(src.slice(via!.span.start, via!.span.end), 'sys-vpn');
});

test('identities that reach one Tor gateway from different qubes share the gateway, not a client address', (t) => {
  // `a` through sys-vpn, `b` directly: two identities on sys-whonix-2, each from qubes of its own.
  const src = head + second + 'qube a1 in a { template whonix-workstation-18; netvm sys-vpn }\nqube b1 in b { template whonix-workstation-18 }\n';
  const ds = shared(src);
  t.is(ds.length, 1);
  t.regex(ds[0].message, /2 identities: `a`, `b`$/);
  t.false(ds[0].related.some((r) => r.message.includes('client address')));
  t.false(ds[0].notes.some((n) => n.includes('client address')));
  // One identity behind a gateway of its own in front of sys-whonix: nothing is shared.
  t.deepEqual(shared(head + 'gateway sys-vpn-b { template deb; netvm sys-whonix }\nqube c1 in anon { template whonix-workstation-18; netvm sys-vpn-b }\n'), []);
});

test('only the first Tor gateway on a route counts', (t) => {
  // Tor over Tor: sys-whonix sees sys-whonix-3, not the identity behind it.
  t.deepEqual(shared(head + 'gateway sys-whonix-3 { tor; template whonix-gateway-18; netvm sys-whonix }\nidentity a { network tor via sys-whonix-3 }\nqube a1 in a { template whonix-workstation-18 }\n'), []);
});
