/**
 * The stock services and argument formats: the list covers the standard
 * library, a service one edit from a stock one is QP2026, an argument its
 * service refuses is QP2027.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { argumentFormats, knownServices, nearKnownService } from '../../../../compiler/passes/check-services.js';
import { SourceFile } from '../../../../compiler/source.js';
import { parseFile } from '../../../../compiler/syntax/parse.js';
import type { Rule, Statement } from '../../../../compiler/syntax/ast.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';

const head = 'use "qubes"\ntemplate deb\nidentity work { network clearnet via sys-firewall }\nqube mail in work { template deb }\nqube vault in work { template deb }\n';

function rulesOf(statements: readonly Statement[]): Rule[] {
  return statements.flatMap((s) => (s.kind === 'Rule' ? [s] : s.kind === 'PolicyFileBlock' ? [...s.rules] : []));
}

test('every service the standard library names is a known service', (t) => {
  for (const name of readdirSync('policies').filter((f) => f.endsWith('.qpol'))) {
    const ast = parseFile(new SourceFile(`policies/${name}`, readFileSync(`policies/${name}`, 'utf8'))).ast!;
    for (const r of rulesOf(ast.statements)) if (r.service.text !== '*') t.true(knownServices.has(r.service.text), `${name}: ${r.service.text}`);
  }
});

test('a service one edit from a stock one is a likely typo; others are not', (t) => {
  t.is(nearKnownService('qubes.Filecpy'), 'qubes.Filecopy');
  t.is(nearKnownService('qubes.FIlecopy'), 'qubes.Filecopy', 'case is ignored');
  t.is(nearKnownService('qubes.Flecopy'), 'qubes.Filecopy');
  t.is(nearKnownService('qubes.Fliecopy'), 'qubes.Filecopy', 'a swap is one edit');
  t.is(nearKnownService('admin.vm.feature.Get'), undefined, 'an Admin API method is known, though it is one edit from another');
  t.is(nearKnownService('qubes.Filecopy'), undefined);
  t.is(nearKnownService('qubes.Flcopy'), undefined, 'two edits away');
  t.is(nearKnownService('my.OwnService'), undefined);
});

test('QP2026 on rules and expectations, with the fix; a `because` on the rule waives it', (t) => {
  expectDiagnostics(t, head + 'deny qubes.Filecpy from mail to vault\n', [{ code: 'QP2026', severity: 'warning', underline: 'qubes.Filecpy', help: /did you mean `qubes\.Filecopy`\?/ }]);
  expectDiagnostics(t, head + 'expect qubes.Filecpy from mail to vault: deny\n', [{ code: 'QP2026', underline: 'qubes.Filecpy' }]);
  expectDiagnostics(t, head + 'allow my.Filecopy from mail to vault\nallow qubes.Gpg2 from mail to vault\n', []);
  expectDiagnostics(t, head + 'allow qubes.Filecpy from mail to vault because "our own service"\n', [{ code: 'QP2026', severity: 'info' }]);
});

test('QP2027: qubes.ConnectTCP takes a port from 1 to 65535', (t) => {
  for (const arg of ['+99999', '+0', '+abc', '+', '+022', '+65536', '+1+22']) {
    expectDiagnostics(t, head + `allow qubes.ConnectTCP ${arg} from mail to vault\n`, [{ code: 'QP2027', severity: 'error', underline: arg, help: /from 1 to 65535/ }]);
  }
  expectDiagnostics(t, head + 'allow qubes.ConnectTCP +99999 from mail to vault\n', [{ code: 'QP2027', message: /^`\+99999` is not a valid argument of `qubes\.ConnectTCP`: TCP ports run from 1 to 65535$/ }]);
  for (const arg of ['+1', '+22', '+65535', '']) expectDiagnostics(t, head + `allow qubes.ConnectTCP ${arg} from mail to vault\n`, []);
  expectDiagnostics(t, head + 'allow qubes.OpenURL +99999 from mail to vault\n', []); // other services take any argument
  t.true(Object.keys(argumentFormats).every((s) => knownServices.has(s)));
});
