/**
 * The language server's names, read from the binder's references: the name
 * at a cursor, the declaration of a name, and every place it is written.
 */
import test from 'ava';
import { check, overlayHost, type Program } from '../../../../compiler/index.js';
import { definitionOf, occurrenceAt, referencesOf } from '../../../../compiler/lsp/symbols.js';

const text = `use "qubes"
template debian-12-xfce
identity work { network clearnet via sys-firewall }
qube work-web in work { template debian-12-xfce }
amend work-web { memory 400 }
allow qubes.Gpg from work-web to vault
`;

function program(): Program {
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]])), until: 'bind' });
  if (!r.program) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.program;
}

const at = (needle: string, nth = 0): number => {
  let o = -1;
  for (let i = 0; i <= nth; i++) o = text.indexOf(needle, o + 1);
  return o;
};

test('the name at the cursor, from its first character to just after its last', (t) => {
  const p = program();
  const o = at('work-web', 2); // in the rule
  t.is(occurrenceAt(p, 'p.qpol', o)?.name, 'work-web');
  t.is(occurrenceAt(p, 'p.qpol', o + 8)?.name, 'work-web');
  t.is(occurrenceAt(p, 'p.qpol', o - 1), undefined);
  t.is(occurrenceAt(p, 'p.qpol', at('qubes.Gpg')), undefined, 'a service is not a name');
  t.is(occurrenceAt(p, 'p.qpol', at('allow')), undefined);
});

test('the definition of a name is its declaration\'s name; an undeclared one has none', (t) => {
  const p = program();
  const span = definitionOf(p, 'work-web')!;
  t.is(span.file, 'p.qpol');
  t.is(text.slice(span.start, span.end), 'work-web');
  t.is(span.start, at('work-web'));
  t.is(definitionOf(p, 'vault'), undefined);
  // A standard library declaration is defined in its file.
  t.regex(definitionOf(p, 'sys-firewall')!.file, /qubes\.qpol$/);
});

test('the references of a name, with or without its declaration', (t) => {
  const p = program();
  const starts = (decl: boolean) => referencesOf(p, 'work-web', decl).map((r) => r.span.start);
  t.deepEqual(starts(true), [at('work-web', 0), at('work-web', 1), at('work-web', 2)]);
  t.deepEqual(starts(false), [at('work-web', 1), at('work-web', 2)]);
  // An undeclared name is still written somewhere.
  t.deepEqual(referencesOf(p, 'vault', true).map((r) => text.slice(r.span.start, r.span.end)), ['vault']);
  t.true(referencesOf(p, 'sys-firewall', false).some((r) => r.span.file === 'p.qpol'));
});
