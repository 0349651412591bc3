import test from 'ava';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = 'use "qubes"\nuse "whonix"\ntemplate deb\nidentity work { network clearnet via sys-firewall }\n';

test('items must belong to the declaration form', (t) => {
  expectDiagnostics(t, head + 'identity x { network none; memory 400 }\nqube q in x { template deb }\n', [{ code: 'QP2014', underline: 'memory', help: /belongs in/ }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; tor }\n', [{ code: 'QP2014', underline: 'tor' }]);
});

test('single-valued items are given once; keyed ones once per key', (t) => {
  expectDiagnostics(t, head + 'qube q in work { template deb; memory 400; memory 500 }\n', [{ code: 'QP2012', underline: 'memory' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; app a; app a }\n', [{ code: 'QP2012', underline: 'a' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; feature x "1"; feature y "2" }\n', []);
});

test('values are checked with did-you-mean', (t) => {
  expectDiagnostics(t, head + 'identity x { network none; label bleu }\nqube q in x { template deb }\n', [{ code: 'QP2013', underline: 'bleu', help: /`blue`/ }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; virt-mode pvhh }\n', [{ code: 'QP2013', underline: 'pvhh', help: /`pvh`/ }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; memory 400 max 300 }\n', [{ code: 'QP2013', underline: '300' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; vcpus 0 }\n', [{ code: 'QP2013', underline: '0' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; device usb }\n', [{ code: 'QP2017', underline: 'device usb' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; device pci "sys-net:00_14.0"; device mic }\n', []);
  expectDiagnostics(t, head + 'qube q in work { template deb; tag my/tag }\n', [{ code: 'QP2013', underline: 'my/tag' }]);
  expectDiagnostics(t, head + 'identity a { network tor via sys-whonix }\nqube q in a { template whonix-workstation-$whonix; app x { socks dedicated isolate dest-adr } }\n', [{ code: 'QP2013', underline: 'dest-adr', help: /dest-addr/ }]);
});

test('references must name the right kind', (t) => {
  expectDiagnostics(t, head + 'qube q in work { template work }\n', [{ code: 'QP2004', underline: 'work', message: /is an identity, but/ }]);
  expectDiagnostics(t, head + 'qube q in deb { template deb }\n', [{ code: 'QP2004', underline: 'deb' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb; netvm dom0 }\n', [{ code: 'QP2004', underline: 'dom0' }]);
});

test('identities need a network; network none takes no gateway', (t) => {
  expectDiagnostics(t, head + 'identity x { label red }\nqube q in x { template deb }\n', [{ code: 'QP2017', underline: 'x' }]);
  expectDiagnostics(t, head + 'identity x { network none via sys-net }\nqube q in x { template deb }\n', [{ code: 'QP2016', underline: 'sys-net' }]);
  expectDiagnostics(t, head + 'identity x { network tor }\nqube q in x { template deb }\n', [{ code: 'QP2017', underline: 'network tor' }]);
  expectDiagnostics(t, head + 'identity x { network tor via sys-whonx }\nqube q in x { template deb }\n', [{ code: 'QP2001', underline: 'sys-whonx', help: /sys-whonix/ }]);
});

test('unused identities and templates are warned about, and can be waived', (t) => {
  expectDiagnostics(t, head + 'template other\nqube q in work { template deb }\n', [{ code: 'QP2018', underline: 'other', severity: 'warning' }]);
  expectDiagnostics(t, head + 'template other\nqube q in work { template deb }\nwaive QP2018 on other because "kept for later"\n', [{ code: 'QP2018', severity: 'info' }]);
  expectDiagnostics(t, head + 'qube q in work { template deb }\nwaive QP2018 on deb because "x"\n', [{ code: 'QP2021', underline: 'deb' }]);
});
