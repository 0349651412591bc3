/**
 * Loading never shows the text of a file that is not a policy: a `use` (or
 * the entry) that names such a file and does not parse is reported at the
 * `use`, without the file's text, in every error format.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { errorFormats } from '../../../../compiler/diagnostics/render.js';
import { nodeHost, overlayHost, type CompilerHost } from '../../../../compiler/host.js';
import { looksLikePolicy } from '../../../../compiler/passes/load-files.js';
import { runQpc } from '../../../helpers/cli.js';

const SECRET = 'hunter2';
const tail = 'template deb\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n';

/** An in-memory host whose files may lead elsewhere, as symbolic links do. */
function host(files: Record<string, string>, links: Record<string, string> = {}): CompilerHost {
  const inner = overlayHost(new Map(Object.entries(files)), nodeHost);
  return { readFile: (p, o) => inner.readFile(p, o), realPath: (p) => links[p] ?? p };
}

/** Everything `qpc check` prints for the entry, in every error format. */
function allOutput(entry: string, h: CompilerHost): string {
  return errorFormats.map((f) => {
    const r = runQpc(['check', '--error-format', f, entry], { host: h });
    return r.stdout + r.stderr;
  }).join('\n');
}

test('a `use` of a file that is not named .qpol and does not parse: QP2006 at the `use`, its text never shown', (t) => {
  const h = host({ 'main.qpol': `use "qubes"\nuse "./deploy.env"\n${tail}`, 'deploy.env': `TOKEN_NAME=ci\nSECRET=${SECRET}\n` });
  const r = check('main.qpol', { host: h });
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.span?.file, d.span?.line]), [['QP2006', 'main.qpol', 2]]);
  t.regex(r.diagnostics[0].message, /^cannot read `\.\/deploy\.env`: not a qpc policy \(/);
  t.false(r.sources.has('deploy.env'), 'the file is not among the sources a renderer may quote');
  const out = allOutput('main.qpol', h);
  t.false(out.includes(SECRET));
  t.false(out.includes('TOKEN_NAME'));
  t.true(out.includes('not a qpc policy'));
});

test('a `.qpol` name that leads to a file named otherwise is judged by the file it leads to', (t) => {
  const h = host({ 'main.qpol': `use "qubes"\nuse "./shared.qpol"\n${tail}`, 'shared.qpol': `SECRET=${SECRET}\n` }, { 'shared.qpol': '/home/ci/.env' });
  const r = check('main.qpol', { host: h });
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP2006']);
  t.regex(r.diagnostics[0].message, /not a qpc policy/);
  t.false(allOutput('main.qpol', h).includes(SECRET));
});

test('a `.qpol` file with NUL characters that does not parse is not a policy either', (t) => {
  const h = host({ 'main.qpol': `use "qubes"\nuse "./env.qpol"\n${tail}`, 'env.qpol': `HOME=/root\0SECRET=${SECRET}\0` });
  const r = check('main.qpol', { host: h });
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP2006']);
  t.false(allOutput('main.qpol', h).includes(SECRET));
});

test('a policy with a syntax error is still quoted, with the line and the word found', (t) => {
  const h = host({ 'main.qpol': `use "qubes"\nuse "./shared.qpol"\n${tail}`, 'shared.qpol': 'template deb2\nqube oops in\n' });
  const r = check('main.qpol', { host: h });
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.span?.file]), [['QP1001', 'shared.qpol']]);
  t.regex(runQpc(['check', '--error-format', 'plain', 'main.qpol'], { host: h }).stderr, /qube oops in/);
});

test('a file named otherwise that parses is a policy', (t) => {
  const h = host({ 'main.qpol': `use "qubes"\nuse "./shared.rules"\n${tail}`, 'shared.rules': 'template deb2\nqube other in work { template deb2 }\n' });
  const r = check('main.qpol', { host: h });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
  t.true(r.sources.has('shared.rules'));
});

test('an entry file that is not a policy: QP5001 without a span, its text never shown', (t) => {
  const h = host({ 'deploy.env': `SECRET=${SECRET}\n` });
  const r = check('deploy.env', { host: h });
  t.deepEqual(r.diagnostics.map((d) => [d.code, d.span]), [['QP5001', undefined]]);
  t.regex(r.diagnostics[0].message, /^cannot read `deploy\.env`: not a qpc policy \(/);
  t.is(r.sources.size, 0);
  const out = allOutput('deploy.env', h);
  t.false(out.includes(SECRET));
  t.is(runQpc(['check', 'deploy.env'], { host: h }).code, 2);
});

test('what looks like a policy', (t) => {
  t.true(looksLikePolicy('a/b.qpol', 'template t\n'));
  t.true(looksLikePolicy('b.qpol', 'qube \u0007 oops\n'), 'a stray control character is a typo in a policy');
  t.false(looksLikePolicy('b.qpol', 'a\0b'));
  t.false(looksLikePolicy('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'));
  t.false(looksLikePolicy('b.qpol.bak', 'template t\n'));
});

test('a file of the policy at `policies/qubes.qpol` is shown as `./policies/qubes.qpol`, never in the standard library\'s file', (t) => {
  const text = 'use "qubes"\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template nonexist }\n';
  const host = overlayHost(new Map([['policies/qubes.qpol', text], ['policies/mine.qpol', text]]), nodeHost);
  const r = runQpc(['check', '--error-format', 'human', 'policies/qubes.qpol'], { host });
  t.is(r.code, 1);
  // The frame is the user's line, at the user's file; the library's own file is not quoted.
  t.regex(r.stderr, /--> \.\/policies\/qubes\.qpol:3:30\n  \|\n3 \| qube mail in work \{ template nonexist \}/);
  t.false(r.stderr.includes('<qpc>') || r.stderr.includes('A default install'));
  const c = check('policies/qubes.qpol', { host });
  t.true(c.sources.has('./policies/qubes.qpol'));
  t.true(c.sources.has('policies/qubes.qpol'), 'the standard library module keeps its own display path');
  t.is(c.sources.get('./policies/qubes.qpol')!.text, text);
});
