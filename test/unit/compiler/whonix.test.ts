/**
 * Whonix in the policy: `$whonix` in names, the Whonix role a template
 * declares, and `whonix-tags off` (on a qube, or a named disposable's
 * disposable template), read alike by every pass that needs them.
 */
import test from 'ava';
import { check, overlayHost } from '../../../compiler/index.js';
import { substitute, whonixRole, whonixTagsOff } from '../../../compiler/whonix.js';
import type { Decl, Program } from '../../../compiler/program.js';

test('`$whonix` is replaced wherever it stands as a word', (t) => {
  t.is(substitute('whonix-gateway-$whonix', 18), 'whonix-gateway-18');
  t.is(substitute('$whonix-dvm', 17), '17-dvm');
  t.is(substitute('a-$whonix-b-$whonix', 18), 'a-18-b-18');
  t.is(substitute('no placeholder', 18), 'no placeholder');
});

test('a longer word that starts with `$whonix` is not the placeholder', (t) => {
  t.is(substitute('$whonixy', 18), '$whonixy');
  t.is(substitute('$whonix_2', 18), '$whonix_2');
  t.is(substitute('$whonix2', 18), '$whonix2');
  t.is(substitute('$Whonix', 18), '$Whonix');
});

const policy = `use "qubes"
use "whonix"
settings { whonix 17 }
template debian-12-minimal { tag whonix-updatevm }
amend sys-net { template debian-12-minimal }
amend sys-firewall { template debian-12-minimal }
identity anon { network tor via sys-whonix; label red }
qube plain in anon { template whonix-workstation-$whonix }
qube off in anon { template whonix-workstation-$whonix; whonix-tags off }
qube back-on in anon { template whonix-workstation-$whonix; whonix-tags off }
amend back-on { whonix-tags on }
disposable quiet-dvm in anon { template whonix-workstation-$whonix; whonix-tags off }
named-disposable from-quiet in anon { template quiet-dvm }
named-disposable own-word in anon { template quiet-dvm; whonix-tags on }
`;

function program(): Program {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]])), until: 'bind' });
  if (!r.program) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.program;
}

function decl(p: Program, name: string): Decl {
  const d = p.decls.get(name);
  if (!d) throw new Error(`no declaration ${name}`);
  return d;
}

test('the role is what the template says, after `$whonix` is replaced in its name', (t) => {
  const p = program();
  t.is(whonixRole(decl(p, 'whonix-gateway-17')), 'gateway');
  t.is(whonixRole(decl(p, 'whonix-workstation-17')), 'workstation');
  t.is(whonixRole(decl(p, 'debian-12-minimal')), undefined);
  t.is(whonixRole(undefined), undefined);
});

test('`whonix-tags off` on the qube, the last word of its amendments winning', (t) => {
  const p = program();
  // Named disposables' templates by name, as the graph's facts give them.
  const g = { facts: (name: string) => (name === 'from-quiet' || name === 'own-word' ? { template: decl(p, 'quiet-dvm') } : undefined) };
  t.false(whonixTagsOff(g, decl(p, 'plain')));
  t.true(whonixTagsOff(g, decl(p, 'off')));
  t.false(whonixTagsOff(g, decl(p, 'back-on')));
  t.true(whonixTagsOff(g, decl(p, 'quiet-dvm')));
});

test('a named disposable inherits `whonix-tags off` from its disposable template unless it says otherwise', (t) => {
  const p = program();
  const g = { facts: (name: string) => (name === 'from-quiet' || name === 'own-word' ? { template: decl(p, 'quiet-dvm') } : undefined) };
  t.true(whonixTagsOff(g, decl(p, 'from-quiet')));
  t.false(whonixTagsOff(g, decl(p, 'own-word')));
  // Without facts (the template unknown) there is nothing to inherit.
  t.false(whonixTagsOff({ facts: () => undefined }, decl(p, 'from-quiet')));
});
