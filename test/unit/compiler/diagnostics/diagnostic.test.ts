/**
 * Diagnostics as data: built from the catalogue (code, severity, wording),
 * messages filled from typed arguments, long arguments cut, one sort order
 * for every renderer.
 */
import test from 'ava';
import { codes } from '../../../../compiler/diagnostics/codes.js';
import { diag, DiagnosticBag, formatMessage, hasErrors, sortDiagnostics, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { SourceFile } from '../../../../compiler/source.js';

const src = new SourceFile('a.qpol', 'qube x in y\nqube z in y\n');

test('a message template is filled from the arguments; a placeholder without one stays as written', (t) => {
  t.is(formatMessage('unknown {what} `{name}`', { what: 'template', name: 'debian' }), 'unknown template `debian`');
  t.is(formatMessage('{a}{a} and {b}', { a: 1 }), '11 and {b}');
  t.is(formatMessage('no placeholders', { a: 'x' }), 'no placeholders');
  // A `$` in an argument is text, not a replacement pattern.
  t.is(formatMessage('`{name}`', { name: '$& $1' }), '`$& $1`');
});

test('arguments up to 400 characters are kept; longer ones are cut to 100 and their length', (t) => {
  const kept = 'x'.repeat(400);
  t.is(formatMessage('{n}', { n: kept }), kept);
  const long = 'y'.repeat(401);
  t.is(formatMessage('<{n}>', { n: long }), `<${'y'.repeat(100)}…(401 characters)>`);
});

test('a diagnostic takes its severity and message from the catalogue', (t) => {
  const d = diag('QP2001', src.span(10, 11), { what: 'identity', name: 'y' });
  t.is(d.code, 'QP2001');
  t.is(d.severity, codes.QP2001.severity);
  t.is(d.message, 'unknown identity `y`');
  t.deepEqual(d.span, src.span(10, 11));
  t.deepEqual([d.related, d.notes, d.fixes], [[], [], []]);
  for (const k of ['label', 'help', 'subject', 'stage', 'waivedBecause', 'because']) t.false(k in d, k);
});

test('without a place there is no span field at all, and the extras are carried', (t) => {
  const related = [{ span: src.span(0, 4), message: 'here' }];
  const fixes = [{ title: 'Replace', edits: [{ span: src.span(10, 11), newText: 'z' }] }];
  const d = diag('QP5002', undefined, { message: 'boom' }, { label: 'l', help: 'h', notes: ['n'], related, fixes, subject: 'x', severity: 'warning' });
  t.false('span' in d);
  t.like(d, { message: 'boom', label: 'l', help: 'h', notes: ['n'], related, fixes, subject: 'x', severity: 'warning' });
});

test('a code with a template per kind takes the kind\'s template', (t) => {
  const d = diag('QP3016', undefined, { kind: 'identity-disposable', disposable: 'd', identity: 'i', other: 'o' });
  t.is(d.message, codes.QP3016.template['identity-disposable'].replace('{disposable}', 'd').replace('{identity}', 'i').replace('{other}', 'o'));
  t.notRegex(d.message, /[{}]/);
});

test('a kind the code has no template for is a bug, thrown at once', (t) => {
  t.throws(() => diag('QP3016', undefined, { kind: 'no-such-kind' } as never), { message: /QP3016 has no message for the kind `no-such-kind`/ });
});

function d(code: 'QP2001' | 'QP2002', file: string | undefined, start: number, name = 'n'): Diagnostic {
  const span = file ? { ...src.span(start, start + 1), file } : undefined;
  return diag(code, span, code === 'QP2001' ? { what: 'qube', name } : { name });
}

test('sorting: by file, offset, then code, then message; without a place first', (t) => {
  const list = [d('QP2002', 'b.qpol', 0), d('QP2002', 'a.qpol', 5), d('QP2001', 'a.qpol', 5, 'zz'), d('QP2001', 'a.qpol', 5, 'aa'), d('QP2001', undefined, 0), d('QP2002', 'a.qpol', 1)];
  const sorted = sortDiagnostics(list);
  t.deepEqual(
    sorted.map((x) => `${x.span?.file ?? '-'}:${x.span?.start ?? '-'} ${x.code} ${x.message}`),
    ['-:- QP2001 unknown qube `n`', 'a.qpol:1 QP2002 `n` is declared more than once', 'a.qpol:5 QP2001 unknown qube `aa`', 'a.qpol:5 QP2001 unknown qube `zz`', 'a.qpol:5 QP2002 `n` is declared more than once', 'b.qpol:0 QP2002 `n` is declared more than once'],
  );
  t.is(list[0]!.span?.file, 'b.qpol', 'the input is not reordered');
});

test('errors: any diagnostic of severity error, in a list and in a bag', (t) => {
  const warning = diag('QP2018', undefined, { what: 'template', name: 't' });
  const error = diag('QP2001', undefined, { what: 'qube', name: 'q' });
  t.false(hasErrors([]));
  t.false(hasErrors([warning]));
  t.true(hasErrors([warning, error]));
  t.false(hasErrors([diag('QP2001', undefined, { what: 'qube', name: 'q' }, { severity: 'warning' })]));
  const bag = new DiagnosticBag();
  bag.report(warning);
  t.false(bag.hasErrors);
  bag.report(error);
  t.true(bag.hasErrors);
  t.deepEqual(bag.items, [warning, error]);
});
