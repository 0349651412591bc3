/**
 * Hygiene (QP2018): an identity without qubes and a template nothing is
 * based on are reported; the standard library's declarations are not; and
 * when a reference that binds nothing may have meant a declaration of some
 * kind, no declaration of that kind is reported (that reference may be its
 * use, misspelt).
 */
import test from 'ava';
import { check, overlayHost } from '../../../../compiler/index.js';
import { checkUnused } from '../../../../compiler/passes/check-unused.js';
import { DiagnosticBag } from '../../../../compiler/diagnostics/diagnostic.js';
import type { Program } from '../../../../compiler/program.js';

const head = `use "qubes"
use "whonix"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
`;

function bound(text: string): Program {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', head + text]])), until: 'bind' });
  if (!r.program) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.program;
}

/** What checkUnused reports: `code what name underlined-text`. */
function unused(text: string): string[] {
  const bag = new DiagnosticBag();
  checkUnused(bound(text), bag);
  const all = head + text;
  return bag.items.map((d) => `${d.code} ${d.subject} ${all.slice(d.span!.start, d.span!.end)} (${d.message})`);
}

test('an identity without qubes and a template without users are reported at their names', (t) => {
  t.deepEqual(unused('identity lonely { network none }\ntemplate fedora-41\n'), [
    'QP2018 lonely lonely (identity `lonely` is never used)',
    'QP2018 fedora-41 fedora-41 (template `fedora-41` is never used)',
  ]);
});

test('each report is a warning, with help, about the declaration it names', (t) => {
  const bag = new DiagnosticBag();
  checkUnused(bound('identity lonely { network none }\n'), bag);
  t.is(bag.items.length, 1);
  const d = bag.items[0]!;
  t.is(d.severity, 'warning');
  t.is(d.help, 'put a qube in it (`qube NAME in lonely`) or remove it');
  t.is(d.subject, 'lonely');
  t.false(bag.hasErrors);
});

test('a qube in the identity and on the template uses both', (t) => {
  t.deepEqual(unused('identity work { network clearnet via sys-firewall }\ntemplate fedora-41\nqube w in work { template fedora-41 }\n'), []);
});

test('a disposable template is used by a named disposable; an identity by its disposable template', (t) => {
  t.deepEqual(unused('identity work { network clearnet via sys-firewall }\ntemplate fedora-41\ndisposable w-dvm in work { template fedora-41 }\nnamed-disposable w-disp in work { template w-dvm }\n'), []);
});

test('a use through `$whonix` counts', (t) => {
  t.deepEqual(unused('template fedora-$whonix\nidentity work { network clearnet via sys-firewall }\nqube w in work { template fedora-18 }\n'), []);
  t.deepEqual(unused('template fedora-18\nidentity work { network clearnet via sys-firewall }\nqube w in work { template fedora-$whonix }\n'), []);
});

test('the standard library\'s declarations are never reported', (t) => {
  // Nothing here uses whonix-gateway-18 or sys-whonix's identity-less gateway template pieces.
  t.deepEqual(unused(''), []);
});

test('a template reference that names no template silences template reports, not identity ones', (t) => {
  const text = 'identity lonely { network none }\ntemplate fedora-41\nidentity work { network clearnet via sys-firewall }\nqube w in work { template fedora-4l }\n';
  t.deepEqual(unused(text), ['QP2018 lonely lonely (identity `lonely` is never used)']);
});

test('an `in` that names no identity silences identity reports, not template ones', (t) => {
  const text = 'identity lonely { network none }\ntemplate fedora-41\nqube w in lonley { template debian-12-xfce }\n';
  t.deepEqual(unused(text), ['QP2018 fedora-41 fedora-41 (template `fedora-41` is never used)']);
});

test('an amendment of an unknown qube that sets a template may be that template\'s use', (t) => {
  t.deepEqual(unused('template fedora-41\namend sys-usbb { template fedora-41 }\n'), []);
  // An amendment of an unknown qube without a template says nothing about templates.
  t.deepEqual(unused('template fedora-41\namend sys-usbb { memory 400 }\n'), ['QP2018 fedora-41 fedora-41 (template `fedora-41` is never used)']);
});
