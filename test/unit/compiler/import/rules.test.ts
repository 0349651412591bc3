/** A native rule in the language's words: the inverse of lowering, and what has none. */
import test from 'ava';
import { nativeText, ruleInLanguage } from '../../../../compiler/import/rules.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';

const at = { file: 'x.policy', start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
const rule = (r: Partial<QrexecRule>): QrexecRule => ({ service: 'qubes.Gpg', argument: '*', source: 'work', target: 'vault', action: 'allow', origin: { policyFile: 'x', stock: false, span: at, id: 'x#1' }, ...r });
const known = (n: string) => ['work', 'vault', 'dom0', 'sd-viewer'].includes(n);

test('every column and parameter has its word', (t) => {
  t.is(ruleInLanguage(rule({}), known), 'allow qubes.Gpg from work to vault');
  t.is(ruleInLanguage(rule({ argument: '+22', action: 'ask', target: '@default', redirect: 'vault', defaultTarget: 'vault', user: 'root', notify: true, autostart: false }), known), 'ask qubes.Gpg +22 from work to @default target vault default vault user root notify no-autostart');
  t.is(ruleInLanguage(rule({ action: 'deny', notify: false, source: '@tag:sd-client', target: '@dispvm:sd-viewer' }), known), 'deny qubes.Gpg from @tag:sd-client to @dispvm:sd-viewer no-notify');
  t.is(ruleInLanguage(rule({ service: '*', argument: '+', source: '@anyvm', target: 'dom0' }), known), 'allow * + from @anyvm to dom0');
});

test('what the language cannot say is a reason', (t) => {
  t.regex((ruleInLanguage(rule({ source: '*' }), known) as { why: string }).why, /`\*`/);
  t.regex((ruleInLanguage(rule({ target: 'gone' }), known) as { why: string }).why, /`gone`/);
  t.regex((ruleInLanguage(rule({ target: '@dispvm:gone' }), known) as { why: string }).why, /`gone`/);
  t.regex((ruleInLanguage(rule({ source: 'uuid:0f0e' }), known) as { why: string }).why, /UUID/);
});

test('the native text is what dom0 has', (t) => {
  t.is(nativeText(rule({ action: 'ask', defaultTarget: 'vault', notify: false })), 'qubes.Gpg * work vault ask default_target=vault notify=no');
});
