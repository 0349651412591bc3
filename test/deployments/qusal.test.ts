/**
 * The qusal deployment (ben-grande/qusal, a public set of Salt formulas for
 * Qubes OS R4.2) restated in test/deployments/qusal.qpol: qpc must check it
 * without errors, report exactly the findings judged to be true properties
 * of the upstream deployment, and compile it with upstream's rules and
 * default disposables.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { check, compile } from '../../compiler/index.js';
import { policyLines } from '../helpers/policy-lines.js';

const entry = 'test/deployments/qusal.qpol';

/** The codes of waiver class `explicit` that the policy waives, as its CI names them with `--allow-waived`. */
const allowWaived = ['QP3030'];
const text = readFileSync(entry, 'utf8');

const { lineOf } = policyLines(text);

// Every finding judged true (a real property of qusal), as code@line.
const trueFindings = [
  // qusal never sets default_dispvm on these qubes: they open disposables of
  // the global default (default-dvm, networked), outside their compartment.
  `QP3016@${lineOf('identity pgp {')}`,
  `QP3016@${lineOf('identity ssh-agent {')}`,
  `QP3016@${lineOf('identity git {')}`,
  `QP3016@${lineOf('identity mgmt {')}`,
  `QP3016@${lineOf('identity devel {')}`,
  // qusal's 80-sys-* files let every qube, the Whonix workstation included,
  // ask for the split services through @default.
  `QP3030@${lineOf('ask qubes.Gpg2 ')}`,
  `QP3030@${lineOf('ask qusal.SshAgent ')}`,
  `QP3030@${lineOf('ask qusal.GitFetch ')}`,
  `QP3030@${lineOf('ask qusal.GitPush ')}`,
  `QP3030@${lineOf('ask qusal.GitInit ')}`,
  // The Whonix workstation template (in no compartment) opens its disposables
  // in dvm-whonix-workstation, which belongs to the anonymous one: one finding
  // per stock service that asks (clipboard, file copy, image, open, URL, app).
  ...Array.from({ length: 6 }, () => `QP3030@${lineOf('identity anon {')}`),
].sort();

test('qusal checks without errors', (t) => {
  const r = check(entry, { allowWaived });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  t.deepEqual(errors.map((d) => `${d.code}@${d.span?.line} ${d.message}`), []);
});

test('qusal: the findings are exactly the true ones', (t) => {
  const r = check(entry, { allowWaived });
  // Information (QP4302: no kernel named, so no Xen files) is not a finding.
  const found = r.diagnostics.filter((d) => d.span?.file === entry && d.code !== 'QP4302').map((d) => `${d.code}@${d.span?.line}`).sort();
  t.deepEqual(found, trueFindings);
  // Each true finding is accepted by a waiver in the policy, so none is an error.
  t.true(r.diagnostics.every((d) => d.severity !== 'error'));
});

test('qusal compiles', async (t) => {
  const r = await compile(entry, { allowWaived });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.span?.line} ${d.message}`), []);
  t.truthy(r.artifacts);
  const paths = new Set((r.artifacts ?? []).map((a) => a.path));
  for (const f of ['80-sys-pgp', '80-sys-ssh-agent', '80-sys-git']) t.true(paths.has(`qubes/policy.d/${f}.policy`), f);
  t.true(paths.has('qubes/system-info.json'));
});

/** The rule lines of an emitted policy file, whitespace collapsed. */
function ruleLines(contents: string): string[] {
  return contents.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.trim().split(/\s+/).join(' '));
}

test('qusal: each emitted 80-sys-* file starts with upstream rules, token for token', async (t) => {
  const r = await compile(entry, { targets: ['qrexec'], allowWaived });
  const file = (n: string) => ruleLines(r.artifacts?.find((a) => a.path === `qubes/policy.d/${n}.policy`)?.contents ?? '');
  const upstream: Record<string, string[]> = {
    '80-sys-pgp': [
      'qubes.Gpg2 * @anyvm @default ask target=sys-pgp default_target=sys-pgp',
      'qubes.Gpg2 * @anyvm @anyvm deny',
    ],
    '80-sys-ssh-agent': [
      'qusal.SshAgent * @anyvm @default ask target=sys-ssh-agent default_target=sys-ssh-agent',
      'qusal.SshAgent * @anyvm @anyvm deny',
    ],
    '80-sys-git': [
      'qusal.GitFetch * @anyvm @default ask target=sys-git default_target=sys-git',
      'qusal.GitPush * @anyvm @default ask target=sys-git default_target=sys-git',
      'qusal.GitInit * @anyvm @default ask target=sys-git default_target=sys-git',
      'qusal.GitFetch * @anyvm @anyvm deny',
      'qusal.GitPush * @anyvm @anyvm deny',
      'qusal.GitInit * @anyvm @anyvm deny',
    ],
  };
  for (const [name, rules] of Object.entries(upstream)) t.deepEqual(file(name).slice(0, rules.length), rules, name);
});

// qusal sets default_dispvm '' on whonix-gateway-17 and dvm-whonix-workstation on whonix-workstation-17.
test('qusal: the Whonix templates keep the default disposables qusal gives them', async (t) => {
  const r = await compile(entry, { targets: ['qrexec'], allowWaived });
  const info = JSON.parse(r.artifacts?.find((a) => a.path === 'qubes/system-info.json')?.contents ?? '{}') as { domains: Record<string, { default_dispvm: string | null }> };
  t.is(info.domains['whonix-gateway-17']?.default_dispvm, null);
  t.is(info.domains['whonix-workstation-17']?.default_dispvm, 'dvm-whonix-workstation');
});
