/**
 * `check` runs every target's own check over the model (DESIGN §5, STYLE
 * §2 "check vs compile"): what a default `compile` refuses, `check` reports,
 * through the API, the language server's bound-then-continued check, and
 * `qpc check`. `compile --target` checks only the targets it runs.
 */
import test from 'ava';
import { check, compile, continueCheck, type Diagnostic } from '../../../compiler/index.js';
import { nodeHost, overlayHost, type CompilerHost } from '../../../compiler/host.js';
import { targets } from '../../../targets/index.js';
import { runQpc } from '../../helpers/cli.js';

// `kernel none`: every domain boots its own kernel, so that the xen target has a kernel for each.
const head = `use "qubes"
template debian-12-xfce { kernel none }
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
`;

/** An app qube without a label: `qvm-create` needs one and Qubes has no default for it. */
const unlabelled = `${head}identity work { network clearnet via sys-firewall }
qube work-web in work { template debian-12-xfce }
`;

/** The policy: a gateway that names no label, behind which a labelled identity runs. */
const gateway = `${head}gateway sys-vpn { template debian-12-xfce; netvm sys-firewall }
identity work { network clearnet via sys-vpn; label blue }
qube work-web in work { template debian-12-xfce }
`;

const host = (text: string): CompilerHost => overlayHost(new Map([['p.qpol', text]]), nodeHost);
const errors = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const underlined = (text: string, d: Diagnostic) => (d.span ? text.slice(d.span.start, d.span.end) : undefined);

test('check reports what the provision target refuses, at the declaration of the qube', (t) => {
  const r = check('p.qpol', { host: host(unlabelled) });
  const [e, ...rest] = errors(r.diagnostics);
  t.deepEqual(rest, []);
  t.is(e?.code, 'QP4001');
  t.is(underlined(unlabelled, e!), 'work-web');
  t.regex(e!.message, /without a label/);
  t.truthy(r.model, 'the model is built: target findings do not unmake it');
});

test('the language server path (bind, then continue) reports target findings too', (t) => {
  const bound = check('p.qpol', { host: host(unlabelled), until: 'bind' });
  t.deepEqual(errors(bound.diagnostics), [], 'binding alone finds nothing');
  const whole = continueCheck(bound, { host: host(unlabelled) });
  t.deepEqual(errors(whole.diagnostics).map((d) => d.code), ['QP4001']);
});

test('check runs the check of every target in the registry', (t) => {
  const file = 'test/golden/diagnostics/QP4002-target-unsafe-value/input.qpol';
  const r = check(file);
  const artifacts = errors(r.diagnostics).map((d) => d.message.replace(/.* into /, ''));
  // The kernel options are refused by the xen target and by the provision target alike.
  t.deepEqual(artifacts.sort(), ['an xl domain configuration', 'qubes/provision.sh']);
  const own = targets.flatMap((x) => x.check(r.model!)).map((d) => d.message);
  t.deepEqual(r.diagnostics.map((d) => d.message).sort(), own.sort());
});

test('check with no targets stops at the model', (t) => {
  const r = check('p.qpol', { host: host(unlabelled), targets: [] });
  t.deepEqual(errors(r.diagnostics), []);
  t.truthy(r.model);
});

test('a gateway without a label checks and compiles: it gets the label Qubes gives such a gateway', async (t) => {
  const r = check('p.qpol', { host: host(gateway) });
  t.deepEqual(errors(r.diagnostics), []);
  t.is(r.model?.qubes.find((q) => q.name === 'sys-vpn')?.label, 'green');
  const c = await compile('p.qpol', { host: host(gateway) });
  t.deepEqual(errors(c.diagnostics), []);
  t.truthy(c.artifacts);
  t.regex(c.artifacts!.find((a) => a.path === 'qubes/provision.sh')!.contents, /'sys-vpn' 'AppVM' 'green'/);
});

test('compile --target checks only the targets it runs, as before', async (t) => {
  const c = await compile('p.qpol', { host: host(unlabelled), targets: ['qrexec'] });
  t.deepEqual(errors(c.diagnostics), []);
  t.truthy(c.artifacts);
  const all = await compile('p.qpol', { host: host(unlabelled) });
  t.deepEqual(errors(all.diagnostics).map((d) => d.code), ['QP4001']);
  t.is(all.artifacts, undefined);
});

test('qpc check shows target findings and fails; without them it says ok', (t) => {
  const bad = runQpc(['check', '--error-format', 'plain', 'p.qpol'], { host: host(unlabelled) });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /error\[QP4001\]: the `provision` target cannot express qube `work-web` without a label/);
  t.regex(bad.stderr, /p\.qpol:6:6/);
  t.notRegex(bad.stdout, /ok/);
  const good = runQpc(['check', '--error-format', 'plain', 'p.qpol'], { host: host(gateway) });
  t.is(good.stderr, '');
  t.is(good.code, 0);
  t.regex(good.stdout, /^p\.qpol: ok /);
});
