import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SourceFile, type Span } from '../../../../compiler/source.js';
import { diag, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { escapeInvisible, printedFile, renderHuman, renderPlain, summaryLine } from '../../../../compiler/diagnostics/render-text.js';
import { render } from '../../../../compiler/diagnostics/render.js';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost, standardLibraryDir } from '../../../../compiler/host.js';

/** The span of the `nth` occurrence (0-based) of `needle` in `src`. */
function at(src: SourceFile, needle: string, nth = 0): Span {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = src.text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`no ${needle} in ${src.path}`);
  }
  return src.span(i, i + needle.length);
}

function sourcesOf(...files: SourceFile[]): Map<string, SourceFile> {
  return new Map(files.map((f) => [f.path, f]));
}

// A policy's own `policies/net.qpol` (the standard library has none) and the standard library's `policies/qubes.qpol`.
const net = new SourceFile('policies/net.qpol', 'use "qubes"\n' + '#\n'.repeat(10) + 'qube sys-vpn {\n  netvm sys-firewal\n}\n');
const qubes = new SourceFile('policies/qubes.qpol', '# stock\n\ngateway sys-firewall {\n}\n');

function unknownGateway(): Diagnostic {
  return diag('QP2001', at(net, 'sys-firewal'), { what: 'gateway', name: 'sys-firewal' }, {
    label: 'not declared in this policy set',
    help: 'did you mean `sys-firewall`?',
    notes: ['some note'],
    related: [{ span: at(qubes, 'sys-firewall'), message: '`sys-firewall` is declared here' }],
  });
}

const example = [
  'error[QP2001]: unknown gateway `sys-firewal`',
  '  --> policies/net.qpol:13:9',
  '   |',
  '13 |   netvm sys-firewal',
  '   |         ^^^^^^^^^^^ not declared in this policy set',
  '   = help: did you mean `sys-firewall`?',
  '   = note: some note',
  'note: `sys-firewall` is declared here',
  `  --> ${path.join(standardLibraryDir(), 'qubes.qpol')}:3:9`,
  '   |',
  ' 3 | gateway sys-firewall {',
  '   |         ^^^^^^^^^^^^',
  '',
].join('\n');

test('caret under exactly the name, label, help, note and a related span with a shared gutter', (t) => {
  t.is(renderPlain([unknownGateway()], sourcesOf(net, qubes)), example);
});

test('human without colour is plain, and render dispatches both', (t) => {
  const s = sourcesOf(net, qubes);
  t.is(renderHuman([unknownGateway()], s, { color: false }), example);
  t.is(render('plain', [unknownGateway()], s, { color: true, toolVersion: '0' }), example);
  t.is(render('human', [unknownGateway()], s, { color: false, toolVersion: '0' }), example);
  t.not(render('human', [unknownGateway()], s, { color: true, toolVersion: '0' }), example);
});

test('colour: bold red error, blue gutter, carets in the severity colour, cyan note', (t) => {
  const src = new SourceFile('a.qpol', 'qube x\n');
  const d = diag('QP2018', at(src, 'x'), { what: 'qube', name: 'x' }, {
    label: 'here',
    help: 'remove it',
    related: [{ span: at(src, 'qube'), message: 'seen' }],
  });
  const B = '\x1b[1;34m';
  const R = '\x1b[0m';
  t.is(
    renderHuman([d], sourcesOf(src), { color: true }),
    [
      `\x1b[1;33mwarning[QP2018]${R}\x1b[1m: qube \`x\` is never used${R}`,
      ` ${B}-->${R} a.qpol:1:6`,
      `  ${B}|${R}`,
      `${B}1 |${R} qube x`,
      `  ${B}|${R}      \x1b[1;33m^ here${R}`,
      `  ${B}=${R} \x1b[1mhelp:${R} remove it`,
      `\x1b[1;36mnote${R}: seen`,
      ` ${B}-->${R} a.qpol:1:1`,
      `  ${B}|${R}`,
      `${B}1 |${R} qube x`,
      `  ${B}|${R} \x1b[1;36m^^^^${R}`,
      '',
    ].join('\n'),
  );
  const error = diag('QP2001', at(src, 'x'), { what: 'qube', name: 'x' });
  const coloured = renderHuman([error], sourcesOf(src), { color: true });
  t.true(coloured.startsWith('\x1b[1;31merror[QP2001]\x1b[0m'));
  t.true(coloured.includes('\x1b[1;31m^\x1b[0m'));
  const info = diag('QP2018', at(src, 'x'), { what: 'qube', name: 'x' }, { severity: 'info' });
  t.true(renderHuman([info], sourcesOf(src), { color: true }).startsWith('\x1b[1;36minfo[QP2018]\x1b[0m'));
  // Stripping the escapes gives the plain rendering.
  const s = sourcesOf(net, qubes);
  t.is(renderHuman([unknownGateway()], s, { color: true }).replace(/\x1b\[[0-9;]*m/g, ''), renderPlain([unknownGateway()], s));
});

test('tabs expand to the next multiple of 4 in the line and the carets alike', (t) => {
  const src = new SourceFile('t.qpol', 'qube a {\n\tnetvm\tsys-firewal\n}\n');
  const name = diag('QP2001', at(src, 'sys-firewal'), { what: 'qube', name: 'sys-firewal' });
  t.is(
    renderPlain([name], sourcesOf(src)),
    ['error[QP2001]: unknown qube `sys-firewal`', ' --> t.qpol:2:8', '  |', '2 |     netvm   sys-firewal', '  |             ^^^^^^^^^^^', ''].join('\n'),
  );
  // A span over `netvm` and the tab after it covers the tab's expanded width.
  const withTab = diag('QP2014', at(src, 'netvm\t'), { item: 'netvm', form: 'a qube' });
  t.is(renderPlain([withTab], sourcesOf(src)).split('\n')[4], '  |     ^^^^^^^^');
});

test('a span over several lines is underlined to the end of its first line', (t) => {
  const src = new SourceFile('m.qpol', 'qube work {\n  memory 400\n}\n');
  const start = src.text.indexOf('work');
  const d = diag('QP2002', src.span(start, src.text.length - 1), { name: 'work' }, { label: 'this block' });
  t.is(
    renderPlain([d], sourcesOf(src)),
    ['error[QP2002]: `work` is declared more than once', ' --> m.qpol:1:6', '  |', '1 | qube work {', '  |      ^^^^^^ this block', ''].join('\n'),
  );
});

test('a span at the end of the file gets one caret after the last character', (t) => {
  const noNewline = new SourceFile('e.qpol', 'qube a {');
  const d1 = diag('QP1001', noNewline.span(8, 8), { expected: '"}"', found: 'end of file' });
  t.is(
    renderPlain([d1], sourcesOf(noNewline)),
    ['error[QP1001]: expected "}", found end of file', ' --> e.qpol:1:9', '  |', '1 | qube a {', '  |         ^', ''].join('\n'),
  );
  const newline = new SourceFile('f.qpol', 'qube a {\n');
  const d2 = diag('QP1001', newline.span(9, 9), { expected: '"}"', found: 'end of file' });
  t.is(
    renderPlain([d2], sourcesOf(newline)),
    ['error[QP1001]: expected "}", found end of file', ' --> f.qpol:2:1', '  |', '2 |', '  | ^', ''].join('\n'),
  );
});

test('a zero-width span inside a line gets one caret', (t) => {
  const src = new SourceFile('z.qpol', 'qube a b\n');
  const d = diag('QP1001', src.span(7, 7), { expected: 'end of line', found: '`b`' });
  t.is(renderPlain([d], sourcesOf(src)).split('\n')[4], '  |        ^');
});

test('a diagnostic without a span prints its header, help and notes only', (t) => {
  const d = diag('QP5001', undefined, { path: 'missing.qpol', reason: 'no such file or directory' }, { help: 'check the path', notes: ['first', 'second'] });
  t.is(
    renderPlain([d], new Map()),
    ['error[QP5001]: cannot read `missing.qpol`: no such file or directory', '  = help: check the path', '  = note: first', '  = note: second', ''].join('\n'),
  );
});

test('a span whose file is not among the sources prints only its pointer', (t) => {
  const d = diag('QP2001', at(net, 'sys-firewal'), { what: 'gateway', name: 'sys-firewal' }, { label: 'unused' });
  t.is(renderPlain([d], new Map()), 'error[QP2001]: unknown gateway `sys-firewal`\n --> policies/net.qpol:13:9\n');
});

test('waived findings say why; multi-line help is indented', (t) => {
  const src = new SourceFile('w.qpol', 'qube x\n');
  const d: Diagnostic = { ...diag('QP2018', at(src, 'x'), { what: 'qube', name: 'x' }, { help: 'line one\nline two' }), waivedBecause: 'kept for later' };
  t.is(
    renderPlain([d], sourcesOf(src)),
    [
      'warning[QP2018]: qube `x` is never used',
      ' --> w.qpol:1:6',
      '  |',
      '1 | qube x',
      '  |      ^',
      '  = help: line one',
      '          line two',
      '  = note: waived: kept for later',
      '',
    ].join('\n'),
  );
});

test('diagnostics are sorted by file and offset and separated by a blank line', (t) => {
  const src = new SourceFile('s.qpol', 'qube a\nqube y\n');
  const b = diag('QP2018', at(src, 'y'), { what: 'qube', name: 'y' }, { severity: 'info' });
  const a = diag('QP2001', at(src, 'a'), { what: 'qube', name: 'a' });
  const io = diag('QP5002', undefined, { message: 'bad flag' });
  t.is(
    renderPlain([b, a, io], sourcesOf(src)),
    [
      'error[QP5002]: bad flag',
      '',
      'error[QP2001]: unknown qube `a`',
      ' --> s.qpol:1:6',
      '  |',
      '1 | qube a',
      '  |      ^',
      '',
      'info[QP2018]: qube `y` is never used',
      ' --> s.qpol:2:6',
      '  |',
      '2 | qube y',
      '  |      ^',
      '',
    ].join('\n'),
  );
  t.is(renderPlain([], new Map()), '');
});

test('BIDI and control characters in an excerpt are escaped and the carets follow', (t) => {
  const src = new SourceFile('b.qpol', 'allow x "\u202e" sys-vpn\u0007 y\n');
  const after = diag('QP2001', at(src, 'sys-vpn'), { what: 'qube', name: 'sys-vpn' });
  const out = renderPlain([after], sourcesOf(src));
  t.false(/[\u202e\u0007]/.test(out));
  t.deepEqual(out.split('\n').slice(3, 5), ['1 | allow x "\\u{202e}" sys-vpn\\u{7} y', '  |                    ^^^^^^^']);
  const bidi = diag('QP2010', at(src, '\u202e'), { char: 'U+202E', where: 'a string' }, { label: 'reverses \u202etext' });
  t.deepEqual(renderPlain([bidi], sourcesOf(src)).split('\n').slice(3, 5), ['1 | allow x "\\u{202e}" sys-vpn\\u{7} y', '  |          ^^^^^^^^ reverses \\u{202e}text']);
});

test('invisible characters in messages, paths and reasons are escaped', (t) => {
  const d: Diagnostic = { ...diag('QP5001', undefined, { path: 'a\u2066b', reason: 'x\ny' }), waivedBecause: 'r\u200bs' };
  t.is(renderPlain([d], new Map()), 'error[QP5001]: cannot read `a\\u{2066}b`: x\\u{a}y\n  = note: waived: r\\u{200b}s\n');
  t.is(escapeInvisible('\ud800 \u{e0041} \u00ad ok é'), '\\u{d800} \\u{e0041} \\u{ad} ok é');
});

test('wide characters and surrogate pairs take their displayed width', (t) => {
  const src = new SourceFile('w.qpol', 'x "日本" sys-a\n"😀" sys-b\n');
  const a = diag('QP2001', at(src, 'sys-a'), { what: 'qube', name: 'sys-a' });
  t.is(renderPlain([a], sourcesOf(src)).split('\n')[4], '  |          ^^^^^');
  const b = diag('QP2001', at(src, 'sys-b'), { what: 'qube', name: 'sys-b' });
  t.is(renderPlain([b], sourcesOf(src)).split('\n')[4], '  |      ^^^^^');
  const wide = diag('QP2001', at(src, '日本'), { what: 'qube', name: '日本' });
  t.is(renderPlain([wide], sourcesOf(src)).split('\n')[4], '  |    ^^^^');
  // A combining accent takes no column of its own.
  const accent = new SourceFile('a.qpol', '"cafe\u0301" x\n');
  const x = diag('QP2001', at(accent, 'x'), { what: 'qube', name: 'x' });
  t.is(renderPlain([x], sourcesOf(accent)).split('\n')[4], '  |        ^');
});

test('CRLF line ends are not printed', (t) => {
  const src = new SourceFile('c.qpol', 'qube a\r\nqube b\r\n');
  const d = diag('QP2018', at(src, 'b', 2), { what: 'qube', name: 'b' });
  t.is(renderPlain([d], sourcesOf(src)), 'warning[QP2018]: qube `b` is never used\n --> c.qpol:2:6\n  |\n2 | qube b\n  |      ^\n');
});

test('the gutter fits the largest line number printed, related ones included', (t) => {
  const src = new SourceFile('g.qpol', '#\n'.repeat(8) + 'qube a\n' + '#\n'.repeat(90) + 'qube a\n');
  const d = diag('QP2002', at(src, 'a', 0), { name: 'a' }, { related: [{ span: at(src, 'a', 1), message: 'again here' }] });
  t.is(
    renderPlain([d], sourcesOf(src)),
    [
      'error[QP2002]: `a` is declared more than once',
      '   --> g.qpol:9:6',
      '    |',
      '  9 | qube a',
      '    |      ^',
      'note: again here',
      '   --> g.qpol:100:6',
      '    |',
      '100 | qube a',
      '    |      ^',
      '',
    ].join('\n'),
  );
});

test('summaryLine counts by severity', (t) => {
  const src = new SourceFile('s.qpol', 'qube a\n');
  const e = diag('QP2001', at(src, 'a'), { what: 'qube', name: 'a' });
  const w = diag('QP2018', at(src, 'a'), { what: 'qube', name: 'a' });
  const i = diag('QP2018', at(src, 'a'), { what: 'qube', name: 'a' }, { severity: 'info' });
  t.is(summaryLine([]), 'no problems');
  t.is(summaryLine([e, e, w]), '2 errors, 1 warning');
  t.is(summaryLine([w, w]), '2 warnings');
  t.is(summaryLine([e, i]), '1 error, 1 info message');
});

test('a very long line is shown as a window around the span, and long names are cut in messages', (t) => {
  const name = 'a'.repeat(10_000);
  const text = `qube ${name} in x\n`;
  const src = new SourceFile('long.qpol', text);
  const d = diag('QP2003', src.span(5, 5 + name.length), { name, reason: 'too long' });
  t.true(d.message.length < 300);
  t.regex(d.message, /…\(10000 characters\)/);
  const out = renderPlain([d], new Map([[src.path, src]]));
  for (const line of out.split('\n')) t.true(line.length < 400, `line of ${line.length} characters`);
  t.regex(out, /\| qube a+…\n/);
  const late = diag('QP2001', src.span(text.indexOf(' x') + 1, text.indexOf(' x') + 2), { what: 'identity', name: 'x' });
  t.regex(renderPlain([late], new Map([[src.path, src]])), /\| …a+ in x\n +\| +\^\n/);
});

test('a place in the standard library is printed by the absolute path of the installed file; a policy\'s own `policies/` file stays as named', (t) => {
  t.is(printedFile('policies/qubes.qpol'), path.join(standardLibraryDir(), 'qubes.qpol'));
  t.true(path.isAbsolute(printedFile('policies/whonix-policy.qpol')));
  t.is(printedFile('policies/net.qpol'), 'policies/net.qpol');
  t.is(printedFile('policies/../package.json'), 'policies/../package.json');
  t.is(printedFile('net.qpol'), 'net.qpol');
});

test('every `-->` path the renderer prints into the standard library exists, and its line is the excerpt shown', (t) => {
  // An unknown gateway, with a note at `sys-firewall` in the standard library.
  const policy = 'use "qubes"\ntemplate deb\namend sys-net { template deb }\namend sys-firewall { template deb }\ngateway sys-vpn { template deb; netvm sys-firewal }\n';
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]]), nodeHost), targets: [] });
  const lines = renderPlain(r.diagnostics, r.sources).split('\n');
  const std = lines.flatMap((l, i) => {
    const m = /^ *--> (.*):(\d+):(\d+)$/.exec(l);
    return m && m[1] !== 'p.qpol' ? [{ file: m[1], line: Number(m[2]), shown: lines[i + 2] }] : [];
  });
  t.true(std.length > 0, lines.join('\n'));
  for (const { file, line, shown } of std) {
    t.true(path.isAbsolute(file), `${file} is not absolute`);
    t.true(file.startsWith(standardLibraryDir() + path.sep));
    const text = readFileSync(file, 'utf8').split('\n')[line - 1];
    t.is(shown.replace(/^ *\d+ \| ?/, ''), text.replace(/\s+$/, ''), `${file}:${line}`);
  }
});
