import test from 'ava';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = 'use "qubes"\ntemplate deb\nidentity work { network clearnet via sys-firewall }\nqube mail in work { template deb }\n';

test('bidirectional controls are errors anywhere, comments included', (t) => {
  expectDiagnostics(t, head + '# harmless \u202e comment\n', [{ code: 'QP2010', underline: '\u202e', message: /U\+202E in a comment/ }]);
  expectDiagnostics(t, head + 'allow qubes.Gpg from mail to mail because "a\u2066b"\n', [{ code: 'QP2010', message: /in a string/ }]);
});

test('non-ASCII text in strings is a warning', (t) => {
  expectDiagnostics(t, head + 'qube m2 in work { template deb; feature note "café" }\n', [{ code: 'QP2009', underline: 'é', severity: 'warning' }]);
});
