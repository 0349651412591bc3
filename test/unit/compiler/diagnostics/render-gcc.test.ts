import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SourceFile } from '../../../../compiler/source.js';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost, standardLibraryDir } from '../../../../compiler/host.js';
import { diag, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { renderGcc } from '../../../../compiler/diagnostics/render-gcc.js';
import { render } from '../../../../compiler/diagnostics/render.js';

// A policy's own `policies/net.qpol` (the standard library has none) and the standard library's `policies/qubes.qpol`.
const net = new SourceFile('policies/net.qpol', 'qube sys-vpn {\n  netvm sys-firewal\n}\n');
const qubes = new SourceFile('policies/qubes.qpol', '\n\ngateway sys-firewall {\n}\n');

/** Where the standard library's qubes.qpol is installed: what a gcc line names, so that the editor opens it. */
const stdQubes = path.join(standardLibraryDir(), 'qubes.qpol');

function unknownGateway(): Diagnostic {
  const i = net.text.indexOf('sys-firewal');
  const j = qubes.text.indexOf('sys-firewall');
  return diag('QP2001', net.span(i, i + 11), { what: 'gateway', name: 'sys-firewal' }, {
    label: 'not declared in this policy set',
    help: 'did you mean `sys-firewall`?',
    notes: ['some note'],
    related: [{ span: qubes.span(j, j + 12), message: '`sys-firewall` is declared here' }],
  });
}

test('one line per diagnostic, help, note and related span', (t) => {
  t.is(
    renderGcc([unknownGateway()]),
    [
      'policies/net.qpol:2:9: error: unknown gateway `sys-firewal` [QP2001]',
      'policies/net.qpol:2:9: note: help: did you mean `sys-firewall`?',
      'policies/net.qpol:2:9: note: some note',
      `${stdQubes}:3:9: note: \`sys-firewall\` is declared here`,
      '',
    ].join('\n'),
  );
  t.is(renderGcc([]), '');
});

test('severities map to gcc words; spanless diagnostics are located at qpc; output is sorted', (t) => {
  const w: Diagnostic = { ...diag('QP2018', net.span(5, 12), { what: 'qube', name: 'sys-vpn' }), waivedBecause: 'spare' };
  const i = diag('QP2018', net.span(0, 4), { what: 'qube', name: 'sys-vpn' }, { severity: 'info' });
  const io = diag('QP5001', undefined, { path: 'gone.qpol', reason: 'no such file' }, { help: 'check the path' });
  t.is(
    renderGcc([unknownGateway(), w, i, io]),
    [
      'qpc: error: cannot read `gone.qpol`: no such file [QP5001]',
      'qpc: note: help: check the path',
      'policies/net.qpol:1:1: note: qube `sys-vpn` is never used [QP2018]',
      'policies/net.qpol:1:6: warning: qube `sys-vpn` is never used [QP2018]',
      'policies/net.qpol:1:6: note: waived: spare',
      'policies/net.qpol:2:9: error: unknown gateway `sys-firewal` [QP2001]',
      'policies/net.qpol:2:9: note: help: did you mean `sys-firewall`?',
      'policies/net.qpol:2:9: note: some note',
      `${stdQubes}:3:9: note: \`sys-firewall\` is declared here`,
      '',
    ].join('\n'),
  );
  t.is(render('gcc', [io, w], new Map(), { color: true, toolVersion: '0' }), renderGcc([w, io]));
});

test("vim's errorformat %f:%l:%c: %t%*[^:]: %m reads every located line", (t) => {
  const efm = /^([^:]+):(\d+):(\d+): ([a-z])[^:]*: (.*)$/;
  const lines = renderGcc([unknownGateway()]).trimEnd().split('\n');
  const parsed = lines.map((l) => efm.exec(l)?.slice(1));
  t.deepEqual(parsed[0], ['policies/net.qpol', '2', '9', 'e', 'unknown gateway `sys-firewal` [QP2001]']);
  t.deepEqual(parsed[1], ['policies/net.qpol', '2', '9', 'n', 'help: did you mean `sys-firewall`?']);
  t.deepEqual(parsed[3], [stdQubes, '3', '9', 'n', '`sys-firewall` is declared here']);
});

test('every diagnostic stays on its lines: newlines split notes, invisible characters are escaped', (t) => {
  const d = diag('QP5002', undefined, { message: 'bad\nflag \u202e' }, { notes: ['one\ntwo'] });
  t.is(renderGcc([d]), 'qpc: error: bad\\u{a}flag \\u{202e} [QP5002]\nqpc: note: one\nqpc: note: two\n');
});

test('a note into the standard library names the installed file, which exists and has the line', (t) => {
  const policy = 'use "qubes"\ntemplate deb\namend sys-net { template deb }\namend sys-firewall { template deb }\ngateway sys-vpn { template deb; netvm sys-firewal }\n';
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', policy]]), nodeHost), targets: [] });
  const notes = renderGcc(r.diagnostics)
    .split('\n')
    .map((l) => /^(.*?):(\d+):(\d+): note: `sys-firewall` is declared here$/.exec(l))
    .filter((m) => m !== null);
  t.is(notes.length, 1);
  const [, file, line, column] = notes[0]!;
  t.true(path.isAbsolute(file) && file.startsWith(standardLibraryDir() + path.sep), file);
  t.is(readFileSync(file, 'utf8').split('\n')[Number(line) - 1].slice(Number(column) - 1).split(/\s/)[0], 'sys-firewall');
});
