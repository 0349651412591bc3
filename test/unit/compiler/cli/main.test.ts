import test from 'ava';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { runQpc } from '../../../helpers/cli.js';

const bad = 'use "qubes"\ntemplate deb\ngateway sys-vpn { template deb; netvm sys-firewal }\n';
const warn = 'use "qubes"\ntemplate deb\ntemplate unused\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n';
const host = overlayHost(new Map([['bad.qpol', bad], ['warn.qpol', warn], ['messy.qpol', 'identity   keys {network none;label black}\nqube v in keys\n']]), nodeHost);

test('check: exit 0 and a summary on a clean policy', (t) => {
  const r = runQpc(['check', 'examples/journalist.qpol']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^examples\/journalist\.qpol: ok \(/);
  t.is(r.stderr, '');
});

test('check: exit 1 with rustc-style diagnostics on stderr', (t) => {
  const r = runQpc(['check', 'bad.qpol'], { host });
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, /error\[QP2001\]: unknown gateway `sys-firewal`\n  --> bad\.qpol:3:39\n/);
  t.regex(r.stderr, /\^{11} not declared/);
  t.regex(r.stderr, /= help: did you mean `sys-firewall`\?/);
  t.regex(r.stderr, /1 error/);
  t.false(r.stderr.includes('\u001b['), 'no colour when not on a terminal');
});

test('check: colour only on a terminal, or when forced', (t) => {
  t.true(runQpc(['check', 'bad.qpol'], { host, isTTY: true }).stderr.includes('\u001b['));
  t.false(runQpc(['check', '--color', 'never', 'bad.qpol'], { host, isTTY: true }).stderr.includes('\u001b['));
  t.true(runQpc(['check', '--color=always', 'bad.qpol'], { host }).stderr.includes('\u001b['));
});

test('check: warnings pass unless --deny-warnings', (t) => {
  t.is(runQpc(['check', 'warn.qpol'], { host }).code, 0);
  t.is(runQpc(['check', '--deny-warnings', 'warn.qpol'], { host }).code, 1);
});

test('check: every error format', (t) => {
  const json = runQpc(['check', '--error-format', 'json', 'bad.qpol'], { host });
  t.is(json.code, 1);
  const parsed = JSON.parse(json.stdout);
  t.is(parsed[0].code, 'QP2001');
  t.is(parsed[0].span.line, 3);
  const gcc = runQpc(['check', '--error-format=gcc', 'bad.qpol'], { host });
  t.regex(gcc.stdout, /^bad\.qpol:3:39: error: unknown gateway `sys-firewal` \[QP2001\]$/m);
  const sarif = JSON.parse(runQpc(['check', '--error-format', 'sarif', 'bad.qpol'], { host }).stdout);
  t.is(sarif.version, '2.1.0');
  t.is(sarif.runs[0].results[0].ruleId, 'QP2001');
  const plain = runQpc(['check', '--error-format', 'plain', 'bad.qpol'], { host });
  t.regex(plain.stderr, /^error\[QP2001\]/);
});

test('check: a missing file is an I/O error, exit 2, no stack trace', (t) => {
  const r = runQpc(['check', 'no/such/file.qpol']);
  t.is(r.code, 2);
  t.regex(r.stderr, /error\[QP5001\]: cannot read `no\/such\/file\.qpol`: no such file/);
  t.false(r.stderr.includes('    at '));
});

test('usage errors exit 2', (t) => {
  t.is(runQpc([]).code, 2);
  t.is(runQpc(['frobnicate']).code, 2);
  t.is(runQpc(['check']).code, 2);
  t.is(runQpc(['check', '--bogus', 'x']).code, 2);
  t.is(runQpc(['check', '--error-format', 'xml', 'x']).code, 2);
  t.regex(runQpc(['check', '--error-format']).stderr, /needs a value/);
});

test('help and version', (t) => {
  t.regex(runQpc(['--help']).stdout, /^usage: qpc COMMAND/m);
  t.regex(runQpc(['-V']).stdout, /^qpc \d+\.\d+\.\d+\n$/);
});

test('an internal error is exit 3 with a request to report it', (t) => {
  const broken = { readFile: () => undefined as unknown as string };
  const r = runQpc(['check', 'x.qpol'], { host: broken });
  t.is(r.code, 3);
  t.regex(r.stderr, /error\[QP9001\]: internal error/);
  t.regex(r.stderr, /please report/);
});

test('explain: one code, all codes, unknown code', (t) => {
  const one = runQpc(['explain', 'QP2001']);
  t.is(one.code, 0);
  t.regex(one.stdout, /^QP2001 \(unknown-name\): /);
  t.regex(one.stdout, /Prefer:/);
  t.regex(runQpc(['explain', 'qp2001']).stdout, /^QP2001/);
  const all = runQpc(['explain']);
  t.regex(all.stdout, /^QP1001 +error +/m);
  t.regex(all.stdout, /^QP9001 /m);
  const unknown = runQpc(['explain', 'QP0000']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /QP5003/);
});

test('fmt rewrites files in place; --check reports without writing', (t) => {
  const r = runQpc(['fmt', 'messy.qpol'], { host });
  t.is(r.code, 0);
  t.is(r.written.get('messy.qpol'), 'identity keys {\n  network none\n  label black\n}\nqube v in keys\n');
  const c = runQpc(['fmt', '--check', 'messy.qpol'], { host });
  t.is(c.code, 1);
  t.is(c.written.size, 0);
  t.regex(c.stderr, /QP5004/);
  t.is(runQpc(['fmt', '--check', 'examples/journalist.qpol']).code, 0);
});

test('fmt - formats standard input to standard output', (t) => {
  const r = runQpc(['fmt', '-'], { stdin: 'qube a in b {memory 400}\n' });
  t.is(r.code, 0);
  t.is(r.stdout, 'qube a in b {\n  memory 400\n}\n');
});

test('fmt refuses a file that does not parse, and writes nothing', (t) => {
  const r = runQpc(['fmt', 'x.qpol'], { host: overlayHost(new Map([['x.qpol', 'qube a in b {\n']])) });
  t.is(r.code, 1);
  t.is(r.written.size, 0);
  t.regex(r.stderr, /error\[QP1\d{3}\]/, 'a syntax error');
});
