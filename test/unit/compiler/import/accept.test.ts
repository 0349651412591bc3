/** The machine's findings marked where check reports them: `because` on a rule, `waive` on a declaration, nothing for a class no waiver takes. */
import test from 'ava';
import { acceptFindings, ACCEPTED } from '../../../../compiler/import/accept.js';
import { diag } from '../../../../compiler/diagnostics/diagnostic.js';

const text = 'use "qubes"\n\nallow qubes.Gpg from a to b\ndeny qubes.X from a to b\n';
const at = (line: number) => ({ file: 'p.qpol', start: 0, end: 1, line, column: 1, endLine: line, endColumn: 2 });

test('a rule gets `because`, a declaration a waiver, once each', (t) => {
  const ds = [
    diag('QP3032', at(3), { kind: 'critical', service: 'qubes.Gpg', what: 'x' } as never),
    diag('QP3032', at(3), { kind: 'critical', service: 'qubes.Gpg', what: 'x' } as never),
    { ...diag('QP3015', at(1), { template: 't', name: 'q', identity: 'i' } as never), subject: 't' },
  ];
  const out = acceptFindings(text, 'p.qpol', ds);
  t.true(out.includes(`allow qubes.Gpg from a to b because "${ACCEPTED}"`));
  t.is(out.split('because').length - 1, 2);
  t.true(out.includes(`waive QP3015 on t because "${ACCEPTED}"`));
  t.regex(out, /deny +qubes\.X +from a to b\n/);
});

test('warnings, other files and codes no waiver takes change nothing', (t) => {
  const ds = [diag('QP2018', at(3), { name: 'x' } as never), { ...diag('QP3032', at(3), { kind: 'critical', service: 'qubes.Gpg', what: 'x' } as never), span: { ...at(3), file: 'other.qpol' } }, diag('QP3035', at(4), {} as never)];
  t.is(acceptFindings(text, 'p.qpol', ds.map((d) => ({ ...d, severity: d.code === 'QP2018' ? 'warning' : d.severity }))), text);
});
