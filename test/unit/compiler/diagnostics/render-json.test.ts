import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { standardLibraryDir } from '../../../../compiler/host.js';
import { SourceFile } from '../../../../compiler/source.js';
import { diag, sortDiagnostics, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { renderJson, stringifyJson } from '../../../../compiler/diagnostics/render-json.js';
import { render } from '../../../../compiler/diagnostics/render.js';

const src = new SourceFile('p/a.qpol', 'qube x\nqube y\n');

test('an exact, 2-space indented array with a trailing newline', (t) => {
  const d = diag('QP2018', src.span(5, 6), { what: 'qube', name: 'x' }, { help: 'remove it' });
  t.is(
    renderJson([d]),
    `[
  {
    "code": "QP2018",
    "severity": "warning",
    "message": "qube \`x\` is never used",
    "span": {
      "file": "p/a.qpol",
      "start": 5,
      "end": 6,
      "line": 1,
      "column": 6,
      "endLine": 1,
      "endColumn": 7
    },
    "related": [],
    "help": "remove it",
    "notes": [],
    "fixes": []
  }
]
`,
  );
  t.is(renderJson([]), '[]\n');
});

test('diagnostics come back verbatim and sorted', (t) => {
  const y = diag('QP2001', src.span(12, 13), { what: 'qube', name: 'y' }, {
    label: 'here',
    related: [{ span: src.span(5, 6), message: 'x' }],
    fixes: [{ title: 'rename', edits: [{ span: src.span(12, 13), newText: 'x' }] }],
    subject: 'y',
  });
  const x: Diagnostic = { ...diag('QP2018', src.span(5, 6), { what: 'qube', name: 'x' }), waivedBecause: 'later' };
  const io = diag('QP5001', undefined, { path: 'b.qpol', reason: 'gone' });
  const parsed = JSON.parse(renderJson([y, x, io])) as Diagnostic[];
  t.deepEqual(parsed, sortDiagnostics([y, x, io]));
  t.deepEqual(parsed.map((d) => d.code), ['QP5001', 'QP2018', 'QP2001']);
  t.is(render('json', [y, x, io], new Map(), { color: false, toolVersion: '0' }), renderJson([x, io, y]));
});

test('invisible and BIDI characters are written as escapes but parse back unchanged', (t) => {
  const reason = 'a\u202eb\u2028c\u007fd\u200be\u{e0041}f';
  const d: Diagnostic = { ...diag('QP5001', undefined, { path: 'x\u2066.qpol', reason: 'r' }), waivedBecause: reason };
  const text = renderJson([d]);
  t.false(/[\u202e\u2028\u007f\u200b\u2066]|\u{e0041}/u.test(text));
  t.true(text.includes('a\\u202eb\\u2028c\\u007fd\\u200be\\udb40\\udc41f'));
  t.is((JSON.parse(text) as Diagnostic[])[0].waivedBecause, reason);
  t.is(stringifyJson({ a: 'é\t' }), '{\n  "a": "é\\t"\n}\n');
});

test('a span in the standard library keeps its display path and gains the absolute path of the installed file', (t) => {
  const std = new SourceFile('policies/qubes.qpol', readFileSync(path.join(standardLibraryDir(), 'qubes.qpol'), 'utf8'));
  const i = std.text.indexOf('sys-firewall');
  const d = diag('QP2001', src.span(5, 6), { what: 'gateway', name: 'x' }, { related: [{ span: std.span(i, i + 12), message: 'declared here' }] });
  const [parsed] = JSON.parse(renderJson([d])) as (Diagnostic & { span: { absolutePath?: string }; related: { span: { file: string; absolutePath?: string } }[] })[];
  t.false('absolutePath' in parsed.span, 'a policy file has none');
  t.is(parsed.related[0].span.file, 'policies/qubes.qpol');
  const file = parsed.related[0].span.absolutePath!;
  t.is(file, path.join(standardLibraryDir(), 'qubes.qpol'));
  t.is(readFileSync(file, 'utf8').slice(i, i + 12), 'sys-firewall');
});
