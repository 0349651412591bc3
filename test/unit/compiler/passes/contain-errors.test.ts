/**
 * The graph stage runs past binding errors: a finding of it is reported
 * when no poisoned statement could change it, and none follows from the
 * error itself. Each cascade is shown three ways: with the error it is not
 * reported; with the poisoned statement removed (what the analysis would
 * see without containment) it is; with the error fixed, the policy says
 * what it really says.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, type CompilerHost } from '../../../../compiler/host.js';
import { poisonOf } from '../../../../compiler/passes/contain-errors.js';

/** A clean policy: a Tor identity, a clearnet one, and a service only rules of ours decide. */
const BASE = `use "qubes"
use "whonix"
settings { kernel "6.6.63-1.fc37" }

template my-tpl

identity anon {
  network tor via sys-whonix
  label red
  disposable anon-dvm
}
identity work {
  network clearnet via sys-firewall
  label blue
}

disposable anon-dvm in anon { template whonix-workstation-$whonix }
qube anon-chat in anon { template whonix-workstation-$whonix }
qube mail in work { template my-tpl }
qube notes in work { template my-tpl }

deny my.Sync from anon to @anyvm
deny my.Sync from @anyvm to anon
allow my.Sync from @anyvm to @type:AppVM
allow qubes.OpenInVM from mail to notes
expect qubes.OpenInVM from mail to notes: allow
expect my.Sync from anon-chat to mail: deny
require anon isolated-from work
`;

function run(text: string) {
  const host: CompilerHost = { readFile: (p, o) => (p === 'p.qpol' ? text : nodeHost.readFile(p, o)) };
  return check('p.qpol', { host });
}

/** `CODE what` of every error and warning: its subject, else the text it underlines (up to 30 characters). */
function found(text: string): string[] {
  return run(text)
    .diagnostics.filter((d) => d.severity !== 'info')
    .map((d) => `${d.code} ${d.subject ?? text.slice(d.span!.start, Math.min(d.span!.end, d.span!.start + 30))}`);
}

const codes = (text: string) => new Set(found(text).map((x) => x.split(' ')[0]));

/** Replaces exactly one occurrence. */
function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`\`${from}\` must occur once`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

test('the base policy is clean', (t) => {
  t.deepEqual(found(BASE), []);
});

test('a typo in one rule does not hide a Tor bypass elsewhere', (t) => {
  const text = edit(edit(BASE, 'allow qubes.OpenInVM from mail to notes', 'allow qubes.OpenInVM from mail to notse'), 'qube anon-chat in anon { template whonix-workstation-$whonix }', 'qube anon-chat in anon {\n  template whonix-workstation-$whonix\n  netvm sys-firewall\n}');
  const r = run(text);
  t.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    ['QP3004', 'QP2001'],
  );
  t.is(r.model, undefined, 'no model of a policy with errors');
  t.is(r.policy, undefined, 'no policy to answer requests with while a rule is set aside');
  t.truthy(r.graph);
});

test('a misspelt deny opens no channel, fails no expect and breaks no require', (t) => {
  const typo = edit(BASE, 'deny my.Sync from anon to @anyvm', 'deny my.Sync from anonn to @anyvm');
  t.deepEqual(found(typo), ['QP2001 anonn']);
  // What the analysis of the rest alone would say.
  const without = codes(edit(BASE, 'deny my.Sync from anon to @anyvm', ''));
  for (const c of ['QP3030', 'QP3035', 'QP3036']) t.true(without.has(c), c);
});

test('a finding of a service no broken rule names is still reported', (t) => {
  const typo = edit(BASE, 'deny my.Sync from anon to @anyvm', 'deny my.Sync from anonn to @anyvm');
  const text = `${typo}expect qubes.OpenInVM from notes to mail: allow\n`;
  t.deepEqual(found(text), ['QP2001 anonn', 'QP3035 notes']);
});

test('a broken rule of `*` holds back the qrexec findings of every service', (t) => {
  const typo = edit(BASE, 'deny my.Sync from anon to @anyvm', 'deny my.Sync from anon to @anyvm\ndeny * from mial to @anyvm');
  t.deepEqual(found(`${typo}expect qubes.OpenInVM from notes to mail: allow\n`), ['QP2001 mial']);
});

test('a broken name in the netvm chain of a qube holds back its Tor finding until it is fixed', (t) => {
  const gateway = `${BASE}gateway my-vpn {\n  netvm sys-firewall\n  label bluee\n}\nqube anon-web in anon {\n  template whonix-workstation-$whonix\n  netvm my-vpn\n}\n`;
  t.deepEqual(found(gateway), ['QP2013 bluee']);
  const fixed = codes(edit(gateway, 'label bluee', 'label blue'));
  t.true(fixed.has('QP3004'));
});

test('a broken name in the qube itself holds back its own topology findings only', (t) => {
  const text = `${BASE}qube anon-web in anon {\n  template whonix-workstation-$whonix\n  label purpel\n  netvm sys-firewall\n}\nqube anon-mail in anon {\n  template whonix-workstation-$whonix\n  netvm sys-firewall\n}\n`;
  const lines = found(text);
  t.true(lines.includes('QP2013 purpel'));
  t.deepEqual(lines.filter((l) => l.startsWith('QP3004')), ['QP3004 anon-mail'], 'anon-mail is reported, anon-web is not');
  t.true(found(edit(text, 'label purpel', 'label purple')).includes('QP3004 anon-web'));
});

test('a qube whose identity is in doubt holds back the channel findings', (t) => {
  const text = edit(`${BASE}allow my.Other from anon-chat to anon-dvm\n`, 'disposable anon-dvm in anon {', 'disposable anon-dvm in anonn {');
  t.deepEqual(found(text), ['QP2001 anonn']);
  // In another identity, the disposable template is a qube a Tor qube calls across identities.
  t.true(codes(edit(`${BASE}allow my.Other from anon-chat to anon-dvm\n`, 'disposable anon-dvm in anon {', 'disposable anon-dvm in work {')).has('QP3030'));
});

test('a template used only by a misspelt reference is not called unused', (t) => {
  const typo = edit(BASE, 'qube notes in work { template my-tpl }', 'qube notes in work { template my-tlp }');
  const mailOwn = (s: string) => edit(s, 'qube mail in work { template my-tpl }', 'qube mail in work { template debian-12-xfce }\ntemplate debian-12-xfce');
  t.deepEqual(found(mailOwn(typo)), ['QP2001 my-tlp']);
  t.true(found(mailOwn(edit(BASE, 'qube notes in work { template my-tpl }', 'qube notes in work { }'))).some((l) => l.startsWith('QP2018')));
});

test('an identity used only by a misspelt `in` is not called unused', (t) => {
  const own = `${BASE}identity vault { network none }\nqube keys in vualt { template my-tpl }\n`;
  t.deepEqual(found(own), ['QP2001 vualt']);
  t.true(found(edit(own, 'qube keys in vualt', 'qube keys in work')).some((l) => l === 'QP2018 vault'));
});

test('a misspelt waiver holds back the findings it may have waived', (t) => {
  const plain = edit(BASE, 'qube anon-chat in anon { template whonix-workstation-$whonix }', 'qube anon-chat in anon { template my-tpl }');
  t.true(found(plain).includes('QP3009 anon-chat'));
  const typo = `${plain}waive QP3009 on anon-caht because "a prepared template"\n`;
  t.deepEqual(found(typo), [...found(plain).filter((l) => l !== 'QP3009 anon-chat'), 'QP2001 anon-caht']);
  const fixed = run(edit(typo, 'anon-caht', 'anon-chat')).diagnostics.find((d) => d.code === 'QP3009');
  t.is(fixed?.severity, 'info', 'waived once the waiver binds');
});

test('a waiver of a finding that waits for a fix is not called unused', (t) => {
  const text = `${BASE}gateway my-vpn {\n  netvm sys-firewall\n  label bluee\n}\nqube anon-web in anon {\n  template whonix-workstation-$whonix\n  netvm my-vpn\n}\nwaive QP3004 on anon-web because "testing the VPN"\n`;
  t.deepEqual(found(text), ['QP2013 bluee']);
  t.deepEqual(found(edit(text, 'label bluee', 'label blue')), ['QP3004 anon-web'], 'the finding the waiver names (which needs --allow-waived)');
  t.deepEqual(found(edit(edit(text, 'label bluee', 'label blue'), '  netvm my-vpn\n', '')), ['QP2021 anon-web'], 'a waiver that matches nothing is reported');
});

test('an error outside every statement stops the check after binding', (t) => {
  const r = run(edit(BASE, 'settings { kernel "6.6.63-1.fc37" }', 'settings { kernel "6.6.63-1.fc37"; qubes 4.9 }').replace('qube anon-chat in anon { template whonix-workstation-$whonix }', 'qube anon-chat in anon { template whonix-workstation-$whonix; netvm sys-firewall }'));
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP2013']);
  t.is(r.graph, undefined);
  t.is(r.bound, undefined);
});

test('an amendment of an unknown qube poisons the qube it was meant for, and nothing when none is near', (t) => {
  const r = run(`${BASE}amend sys-firewal { memory 400 }\n`);
  const p = poisonOf(r.program!, r.diagnostics);
  t.deepEqual([...p!.decls.keys()], ['sys-firewall']);
  const far = run(`${BASE}amend zzz-unknown-qube { memory 400 }\n`);
  t.is(poisonOf(far.program!, far.diagnostics), undefined);
  t.is(far.graph, undefined);
});
