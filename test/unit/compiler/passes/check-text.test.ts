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

test('characters that display as a line break, and other controls, are errors in comments and strings, at the character', (t) => {
  for (const [ch, name] of [
    ['\u2028', 'U+2028'],
    ['\u2029', 'U+2029'],
    ['\u0085', 'U+0085'],
    ['\x0b', 'U+000B'],
    ['\x0c', 'U+000C'],
    ['\x1b', 'U+001B'],
    ['\x00', 'U+0000'],
    ['\x7f', 'U+007F'],
    ['\u009b', 'U+009B'],
  ] as const) {
    expectDiagnostics(t, head + `# harmless${ch}allow qubes.VMShell from mail to mail\n`, [{ code: 'QP2024', underline: ch, severity: 'error', message: new RegExp(`${name.replace('+', '\\+')} in a comment`) }]);
    expectDiagnostics(t, head + `allow qubes.Gpg from mail to mail because "split${ch}GPG"\n`, [{ code: 'QP2024', underline: ch, message: /in a string/ }]);
  }
  // A tab is fine in both; the escapes `\n` and `\t` are text, not controls.
  expectDiagnostics(t, head + '#\tnote\nallow qubes.Gpg from mail to mail because "a\\tb\\nc"\n', []);
});

test('a carriage return that ends no line is an error: some viewers show none there, the parser sees a line break', (t) => {
  expectDiagnostics(t, head + '# note\rallow qubes.VMShell from mail to mail\n', [{ code: 'QP2024', underline: '\r', message: /U\+000D in the policy text/ }]);
  // CRLF line ends are ordinary.
  expectDiagnostics(t, head.replace(/\n/g, '\r\n') + '# note\r\n', []);
});

test('a line-break character in a string is reported once, not also as non-ASCII text', (t) => {
  expectDiagnostics(t, head + 'qube m2 in work { template deb; feature note "a\u2028é" }\n', [
    { code: 'QP2024', underline: '\u2028' },
    { code: 'QP2009', underline: 'é', severity: 'warning' },
  ]);
});
