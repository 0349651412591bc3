/**
 * "Did you mean" comes with a fix: the edit that replaces the misspelt word,
 * which the language server offers as a code action.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { overlayHost } from '../../../../compiler/host.js';

const policy = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work {
  network clearnet via sys-firewal
  label bleu
}
qube work-web in work { template debian-12-xfce }
`;

function apply(text: string, edit: { span: { start: number; end: number }; newText: string }): string {
  return text.slice(0, edit.span.start) + edit.newText + text.slice(edit.span.end);
}

test('an unknown name and an unknown value carry the fix their help suggests', (t) => {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]])) });
  const unknown = r.diagnostics.find((d) => d.code === 'QP2001')!;
  const choice = r.diagnostics.find((d) => d.code === 'QP2013')!;
  t.is(unknown.help, 'did you mean `sys-firewall`?');
  t.deepEqual(unknown.fixes.map((f) => f.title), ['Replace with `sys-firewall`']);
  t.deepEqual(choice.fixes.map((f) => f.title), ['Replace with `blue`']);
  let fixed = apply(policy, choice.fixes[0].edits[0]);
  fixed = apply(fixed, unknown.fixes[0].edits[0]);
  const again = check('p.qpol', { host: overlayHost(new Map([['p.qpol', fixed]])) });
  t.deepEqual(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
});

test('no fix without a suggestion', (t) => {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy.replace('sys-firewal', 'nothing-like-it')]])) });
  const unknown = r.diagnostics.find((d) => d.code === 'QP2001')!;
  t.deepEqual(unknown.fixes, []);
});
