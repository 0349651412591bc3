import test from 'ava';
import { SourceFile } from '../../../../compiler/source.js';
import { diag, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { renderGcc } from '../../../../compiler/diagnostics/render-gcc.js';
import { render } from '../../../../compiler/diagnostics/render.js';

const net = new SourceFile('policies/net.qpol', 'qube sys-vpn {\n  netvm sys-firewal\n}\n');
const qubes = new SourceFile('policies/qubes.qpol', '\n\ngateway sys-firewall {\n}\n');

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
      'policies/qubes.qpol:3:9: note: `sys-firewall` is declared here',
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
      'policies/qubes.qpol:3:9: note: `sys-firewall` is declared here',
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
  t.deepEqual(parsed[3], ['policies/qubes.qpol', '3', '9', 'n', '`sys-firewall` is declared here']);
});

test('every diagnostic stays on its lines: newlines split notes, invisible characters are escaped', (t) => {
  const d = diag('QP5002', undefined, { message: 'bad\nflag \u202e' }, { notes: ['one\ntwo'] });
  t.is(renderGcc([d]), 'qpc: error: bad\\u{a}flag \\u{202e} [QP5002]\nqpc: note: one\nqpc: note: two\n');
});
