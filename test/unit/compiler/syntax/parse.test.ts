import test from 'ava';
import { parseFile } from '../../../../compiler/syntax/parse.js';
import { SourceFile } from '../../../../compiler/source.js';
import type { Declaration, Rule } from '../../../../compiler/syntax/ast.js';

const parse = (text: string) => parseFile(new SourceFile('t.qpol', text));

function syntaxError(t: import('ava').ExecutionContext, text: string, line: number, column: number, message: RegExp): void {
  const r = parse(text);
  t.is(r.ast, undefined);
  t.is(r.diagnostics.length, 1);
  const d = r.diagnostics[0];
  t.is(d.code, 'QP1001');
  t.is(d.span?.line, line, d.message);
  t.is(d.span?.column, column, d.message);
  t.regex(d.message, message);
}

test('every node has a span and named nodes a name span', (t) => {
  const r = parse('qube work-email in work {\n  memory 400 max 4000\n}\n');
  const decl = r.ast!.statements[0] as Declaration;
  t.is(decl.name.text, 'work-email');
  t.deepEqual([decl.name.span.line, decl.name.span.column, decl.name.span.start, decl.name.span.end], [1, 6, 5, 15]);
  t.is(decl.identity!.text, 'work');
  t.is(decl.span.file, 't.qpol');
  const mem = decl.items[0];
  t.is(mem.kind, 'MemoryItem');
  if (mem.kind === 'MemoryItem') {
    t.is(mem.memory.value, 400);
    t.is(mem.max!.value, 4000);
    t.deepEqual([mem.keySpan.line, mem.keySpan.column], [2, 3]);
  }
});

test('statements end at newlines or semicolons; comments are kept', (t) => {
  const r = parse('identity keys { network none; label black }  # offline\n# end\n');
  t.deepEqual(r.diagnostics, []);
  t.is(r.ast!.statements.length, 1);
  t.deepEqual(r.ast!.comments.map((c) => c.text), [' offline', ' end']);
});

test('rules keep service, argument, endpoints and parameters', (t) => {
  const r = parse('allow qubes.ConnectTCP +22 from work-email to @default target vault user root notify because "ssh"\nexpect qubes.OpenURL+x from a to @dispvm: allow target @dispvm:dvm\n');
  t.deepEqual(r.diagnostics, []);
  const rule = r.ast!.statements[0] as Rule;
  t.is(rule.service.text, 'qubes.ConnectTCP');
  t.is(rule.argument!.text, '+22');
  t.is(rule.target.text, '@default');
  t.deepEqual(rule.params.map((p) => p.kind), ['EndpointParam', 'UserParam', 'FlagParam', 'BecauseParam']);
  const ex = r.ast!.statements[1];
  t.is(ex.kind, 'Expect');
  if (ex.kind === 'Expect') {
    t.is(ex.argument!.text, '+x');
    t.is(ex.decision, 'allow');
  }
});

test('a device item keeps the words after its id, such as `no-strict-reset`', (t) => {
  const r = parse('amend sys-net {\n  device pci "dom0:00_14.3" no-strict-reset\n  device usb "sys-usb:2-1"\n}\n');
  const [pci, usb] = (r.ast!.statements[0] as Declaration).items;
  t.is(pci.kind, 'DeviceItem');
  t.is(usb.kind, 'DeviceItem');
  if (pci.kind !== 'DeviceItem' || usb.kind !== 'DeviceItem') return;
  t.is(pci.id!.value, 'dom0:00_14.3');
  t.deepEqual(pci.options.map((o) => [o.text, o.span.line, o.span.column]), [['no-strict-reset', 2, 29]]);
  t.deepEqual(usb.options, []);
});

test('strings resolve escapes', (t) => {
  const r = parse('qube a in b { feature x "say \\"hi\\" \\\\ ok" }\n');
  const d = r.ast!.statements[0] as Declaration;
  const f = d.items[0];
  t.is(f.kind === 'FeatureItem' ? f.value.value : '', 'say "hi" \\ ok');
});

test('syntax errors say what was expected in words, at the right place', (t) => {
  syntaxError(t, 'alow x from a to b', 1, 1, /^expected a statement \(use, settings.*found `alow`$/);
  syntaxError(t, 'qube x in y {\n  memory 400MB\n}', 2, 10, /^expected a number, found `400MB`$/);
  syntaxError(t, 'qube x', 1, 7, /^expected `in`, found the end of the file$/);
  syntaxError(t, 'allow x from a to b bogus', 1, 21, /^expected a rule parameter .*found `bogus`$/);
  syntaxError(t, 'identity x { network tor via }', 1, 30, /^expected a name, found `}`$/);
  syntaxError(t, 'expect a from b to c: maybe', 1, 23, /^expected a decision \(allow, ask, deny\), found `maybe`$/);
  syntaxError(t, 'qube x in y {\n  colour red\n}', 2, 3, /^expected an item \(template, label.*found `colour`$/);
});

test('the kernel setting takes a string or `none`, kept as written', (t) => {
  const r = parse('settings { kernel "6.6.63-1.fc37"; kernel none; qubes 4.2 }\n');
  t.deepEqual(r.diagnostics, []);
  const st = r.ast!.statements[0];
  if (st.kind !== 'SettingsBlock') return t.fail();
  const [version, none, qubes] = st.settings;
  t.is(version!.value.text, '6.6.63-1.fc37');
  t.is(version!.string?.value, '6.6.63-1.fc37');
  t.deepEqual([version!.value.span.start, version!.value.span.end], [18, 33], 'the value spans the string, quotes included');
  t.is(none!.value.text, 'none');
  t.is(none!.string, undefined);
  t.is(qubes!.string, undefined);
  syntaxError(t, 'settings { kernel 6.6.63-1.fc37 }', 1, 19, /^expected a kernel \(a string or `none`\), found `6\.6\.63-1\.fc37`$/);
  syntaxError(t, 'settings { kernal "6.6" }', 1, 12, /^expected a setting \(qubes, whonix, policy-file, default-disposable, kernel\), found `kernal`$/);
});

test('an unterminated string is QP1002 at the opening quote', (t) => {
  const r = parse('use "qubes\n');
  t.is(r.diagnostics[0].code, 'QP1002');
  t.is(r.diagnostics[0].span?.column, 5);
});

test('bytes that are not UTF-8 are QP1003', (t) => {
  const r = parse('qube a\uFFFD in b\n');
  t.true(r.diagnostics.some((d) => d.code === 'QP1003'));
});

test('deep nesting, long lines and binary input end in a diagnostic, not a crash', (t) => {
  for (const text of ['{'.repeat(100000), 'qube ' + 'a'.repeat(2_000_000), '\u0000\u0001\u0002\uFFFD', '}}}}', 'allow * from @anyvm to @anyvm'.repeat(1000)]) {
    const r = parse(text);
    t.true(r.diagnostics.length > 0);
    for (const d of r.diagnostics) t.true(d.span!.start >= 0 && d.span!.end <= text.length);
  }
});
