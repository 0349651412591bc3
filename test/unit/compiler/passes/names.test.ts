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

test('every "did you mean" of the checker carries the edit that writes the suggestion where the mistake is', (t) => {
  // An unknown module stops loading, so it has a policy of its own.
  const modules = check('m.qpol', { host: overlayHost(new Map([['m.qpol', 'use "qubse"\n']])) }).diagnostics;
  t.deepEqual(modules.map((d) => [d.code, d.fixes[0]?.edits[0].newText, d.fixes[0]?.edits[0].span.start, d.fixes[0]?.edits[0].span.end]), [['QP2005', '"qubes"', 4, 11]]);
  const text = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewal { template debian-12-xfce }
identity work {
  network clearnet via sys-firewall
  label blue
}
qube work-web in work {
  template debian-12-xfce
}
allow qubes.Gpg from @tagg:work to @type:AppVMM
waive QP2O18 on work-web because "kept"
`;
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]])) });
  const suggested = r.diagnostics.filter((d) => /^did you mean/.test(d.help ?? ''));
  const wanted = new Map([
    ['QP2001', 'sys-firewall'],
    ['QP2013', '@tag:'],
    ['QP2020', 'QP2018'],
  ]);
  for (const [code, newText] of wanted) {
    const d = suggested.find((x) => x.code === code && x.fixes[0]?.edits[0].newText === newText);
    t.truthy(d, `${code} suggests ${newText} with a fix:\n${suggested.map((x) => `${x.code} ${x.help} ${JSON.stringify(x.fixes)}`).join('\n')}`);
  }
  const typeFix = suggested.find((x) => x.code === 'QP2013' && x.fixes[0]?.edits[0].newText === 'AppVM');
  t.truthy(typeFix, '`@type:AppVMM` suggests AppVM');
  // Each fix replaces exactly the misspelt part.
  for (const d of suggested) {
    t.is(d.fixes.length, 1, `${d.code} ${d.message}`);
    const e = d.fixes[0].edits[0];
    const written = text.slice(e.span.start, e.span.end);
    t.true(['sys-firewal', '@tagg:', 'AppVMM', 'QP2O18'].includes(written), `${d.code} replaces \`${written}\``);
    t.is(e.span.endColumn - e.span.column, written.length);
  }
});
