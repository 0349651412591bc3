import test from 'ava';
import { MAX_SYNTAX_ERRORS, parseFile } from '../../../../compiler/syntax/parse.js';
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
  syntaxError(t, 'allow x from a to b bogus', 1, 21, /^expected a rule parameter \(target, .*, because\) or the end of the statement, found `bogus`$/);
  syntaxError(t, 'identity x { network tor via }', 1, 30, /^expected a name, found `}`$/);
  syntaxError(t, 'expect a from b to c: maybe', 1, 23, /^expected a decision \(allow, ask, deny\), found `maybe`$/);
  syntaxError(t, 'qube x in y {\n  colour red\n}', 2, 3, /^expected an item of a qube \(template, label.*whonix-tags\) or `}`, found `colour`$/);
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
  syntaxError(t, 'settings { kernal "6.6" }', 1, 12, /^expected a setting \(qubes, whonix, policy-file, default-disposable, kernel\) or `}`, found `kernal`$/);
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

/** Code, line, column and message of each diagnostic. */
const found = (text: string) => parse(text).diagnostics.map((d) => [d.code, d.span?.line, d.span?.column, d.message]);

test('independent mistakes are each reported, in order, with what was expected at their own place', (t) => {
  const text = 'identity work {\n  network clearnet via sys-firewall\n  colour red\n  label blue\n}\nqube mail in\n\nalow qubes.Gpg from mail to vault\nqube vault in work { memory 4x }\n';
  const r = parse(text);
  t.is(r.ast, undefined);
  t.deepEqual(found(text), [
    ['QP1001', 3, 3, 'expected an item of an identity (network, label, disposable, isolation) or `}`, found `colour`'],
    ['QP1001', 6, 13, 'expected a name, found the end of the line'],
    ['QP1001', 8, 1, 'expected a statement (use, settings, adminvm, template, gateway, identity, qube, disposable, named-disposable, standalone, amend, allow, ask, deny, policy-file, require, expect, waive), found `alow`'],
    ['QP1001', 9, 29, 'expected a number, found `4x`'],
  ]);
});

test('one mistake is reported once: the statement or item around it is skipped whole', (t) => {
  for (const [text, line, column] of [
    ['qube a ib b {\n  memory 400\n  colour red\n}\nqube c in d\n', 1, 8],
    ['qube a in b {\n  app x { sox dedicated\n    more words }\n  memory 400\n}\n', 2, 11],
    ['qube a in b {\n  app y {}\n}\n', 2, 10],
    ['allow qubes.Gpg from mail to vault because "split GPG\nqube x in y\n', 1, 44],
    ['qube a in b\n{\n  memory 400\n}\n', 2, 1],
    ['identity x { network tor via }; identity y {}\n', 1, 30],
    ['}}}}\nqube x in y\n', 1, 1],
  ] as const) {
    const r = parse(text);
    t.deepEqual(r.diagnostics.map((d) => [d.span?.line, d.span?.column]), [[line, column]], text);
  }
});

test('a `{` that is never closed is QP1004, naming the `{` and where its block should have ended', (t) => {
  const r = parse('identity work {\n  network clearnet via sys-firewall\n\nqube mail in work {\n  template deb\n}\nqube vault in work { memory 4x }\n');
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP1004', 'QP1001']);
  const d = r.diagnostics[0];
  t.is(d.message, 'the block of `identity work` is never closed');
  t.deepEqual([d.span?.line, d.span?.column, d.span?.end! - d.span?.start!], [1, 15, 1]);
  t.deepEqual(d.related.map((x) => [x.message, x.span.line, x.span.column]), [['expected `}` before `qube`', 4, 1]]);
  t.deepEqual(d.fixes[0].edits.map((e) => [e.span.start, e.newText]), [[53, '}\n']]);
  t.regex(r.diagnostics[1].message, /found `4x`/, 'the next declaration is read as one');

  const atEnd = parse('qube x in y {\n  memory 400\n  colour red\n');
  t.deepEqual(atEnd.diagnostics.map((x) => [x.code, x.span?.line]), [['QP1001', 3], ['QP1004', 1]], 'a mistake inside the block is reported too');
  t.deepEqual(atEnd.diagnostics[1].related.map((x) => x.message), ['expected `}` before the end of the file']);

  const item = parse('qube a in b {\n  app x { socks dedicated\n  memory 400\n}\n');
  t.deepEqual(item.diagnostics.map((x) => [x.code, x.message, x.span?.line, x.span?.column]), [['QP1004', 'the block of `app x` is never closed', 2, 9]]);
  t.deepEqual(item.diagnostics[0].related.map((x) => [x.message, x.span.line]), [['expected `}` before `memory`', 3]]);

  const head = parse('qube a ib b {\n  memory 400\nqube c in d { memory 4x }\n');
  t.deepEqual(head.diagnostics.map((x) => [x.code, x.span?.line]), [['QP1001', 1], ['QP1004', 1], ['QP1001', 3]], 'a mistake before the `{` does not hide it');
});

test('braces closed at their own indentation are not reported, however the lines between are indented', (t) => {
  t.deepEqual(parse('qube a in b {\nmemory 400\n    }\nidentity x {\n    app y { socks auth }\n  }\n').diagnostics.filter((d) => d.code === 'QP1004'), []);
});

test('a misspelt keyword gets the closest keyword of its place, with the fix', (t) => {
  const r = parse('qbue work in work {\n  label blue\n}\n');
  const d = r.diagnostics[0];
  t.is(d.help, 'did you mean `qube`?');
  t.deepEqual(d.fixes.map((f) => f.edits.map((e) => [e.span.start, e.span.end, e.newText])), [[[0, 4, 'qube']]]);
  t.is(parse('identity x {\n  netwrk none\n}\n').diagnostics[0].help, 'did you mean `network`?');
  t.is(parse('qube x in y {\n  lable blue\n}\n').diagnostics[0].help, 'did you mean `label`?');
  t.is(parse('allow x from a to b notfy\n').diagnostics[0].help, 'did you mean `notify`?');
  t.is(parse('qube x inn y\n').diagnostics[0].help, 'did you mean `in`?');
  t.is(parse('frobnicate x\n').diagnostics[0].help, undefined, 'a word far from every keyword gets none');
});

test('an `amend` block lists every item, since the form it amends is declared elsewhere', (t) => {
  t.regex(parse('amend sys-net { colour x }\n').diagnostics[0].message, /^expected an item \(template, .*, listener\) or `}`, found `colour`$/);
});

test('the number of syntax errors per file is bounded', (t) => {
  const r = parse('qube x\n'.repeat(MAX_SYNTAX_ERRORS + 10));
  t.is(r.diagnostics.length, MAX_SYNTAX_ERRORS);
  t.regex(r.diagnostics[MAX_SYNTAX_ERRORS - 1].notes.join(), /at most 20 syntax errors/);
});

test('a balanced file gets no QP1004, even where a `}` is indented unlike its `{`', (t) => {
  const r = parse('qube a in b {\n  app x {\n    socks auth\n}\n}\nqube c in\n');
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.span?.line]), [['QP1001', 6]]);
});
