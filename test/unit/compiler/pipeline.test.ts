/**
 * A check that stopped after binding goes on to the whole check without
 * reading or parsing again, and ends where a whole check ends.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { check, continueCheck } from '../../../compiler/index.js';
import { nodeHost, type CompilerHost } from '../../../compiler/host.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).map((f) => `examples/${f}`);

const summary = (r: ReturnType<typeof check>) => r.diagnostics.map((d) => `${d.code} ${d.span?.file}:${d.span?.line}:${d.span?.column} ${d.severity} ${d.message}`);

for (const entry of examples) {
  test(`${entry}: continuing a bound check equals the whole check, with no file read again`, (t) => {
    let reads = 0;
    const counting: CompilerHost = { readFile: (p) => (reads++, nodeHost.readFile(p)) };
    const bound = check(entry, { host: counting, until: 'bind' });
    t.truthy(bound.bound);
    const policyReads = reads;
    const whole = continueCheck(bound, { host: counting });
    t.is(reads, policyReads, 'nothing is read to go on: the lock file was read with the policy set');
    const direct = check(entry);
    t.deepEqual(summary(whole), summary(direct));
    t.deepEqual(whole.model, direct.model);
    t.is(continueCheck(whole), whole, 'a complete result is returned as it is');
  });
}

/** A Tor qube routed around Tor, and a typo in a rule elsewhere. */
const TYPO_AND_BYPASS = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red }
qube anon-chat in anon {
  template whonix-workstation-$whonix
  netvm sys-firewall
}
allow qubes.Filecopy from anon-chat to anon-chta
`;

const hostWith = (text: string): CompilerHost => ({ readFile: (p, o) => (p === 'p.qpol' ? text : nodeHost.readFile(p, o)) });

test('a bound check with name errors goes on past them, and ends where the whole check ends', (t) => {
  const host = hostWith(TYPO_AND_BYPASS);
  const bound = check('p.qpol', { host, until: 'bind' });
  t.truthy(bound.bound);
  t.deepEqual(bound.diagnostics.map((d) => d.code), ['QP2001']);
  const whole = continueCheck(bound, { host });
  t.deepEqual(whole.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['QP3004', 'QP2001']);
  t.deepEqual(summary(whole), summary(check('p.qpol', { host })));
  t.is(whole.model, undefined, 'the target stage never runs with errors');
});

test('an error outside every declaration, rule and statement is final: nothing to go on from', (t) => {
  const r = check('p.qpol', { host: hostWith(`settings { whonix 99 }\n${TYPO_AND_BYPASS}`), until: 'bind' });
  t.is(r.bound, undefined);
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP2013', 'QP2001']);
  t.deepEqual(check('p.qpol', { host: hostWith(`settings { whonix 99 }\n${TYPO_AND_BYPASS}`) }).diagnostics.map((d) => d.code), ['QP2013', 'QP2001']);
});

test('a syntax error stops everything', (t) => {
  const r = check('p.qpol', { host: hostWith(`${TYPO_AND_BYPASS}allow from\n`) });
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP1001']);
  t.is(r.program, undefined);
});

test('which waivers match nothing is said only by the whole check', (t) => {
  const host = hostWith(`${TYPO_AND_BYPASS}waive QP3009 on anon-chat because "no such finding"\n`);
  t.false(check('p.qpol', { host, until: 'bind' }).diagnostics.some((d) => d.code === 'QP2021'));
  t.true(check('p.qpol', { host }).diagnostics.some((d) => d.code === 'QP2021'));
});

test('every diagnostic carries the stage that reported it', (t) => {
  const host = hostWith(`${TYPO_AND_BYPASS}waive QP3009 on anon-chat because "no such finding"\n`);
  const stages = (r: ReturnType<typeof check>) => r.diagnostics.map((d) => `${d.code} ${d.stage}`);
  t.deepEqual(stages(check('p.qpol', { host: hostWith(`${TYPO_AND_BYPASS}allow from\n`) })), ['QP1001 load']);
  t.deepEqual(stages(check('p.qpol', { host, until: 'bind' })), ['QP2001 bind']);
  // A waiver that matches nothing is known only after the graph stage.
  t.deepEqual(stages(check('p.qpol', { host })).sort(), ['QP2001 bind', 'QP2021 graph', 'QP3004 graph']);
  t.deepEqual(stages(check('missing.qpol', { host })), ['QP5001 load']);
  const clean = check('examples/journalist.qpol');
  t.true(clean.diagnostics.every((d) => d.stage === 'target' || d.stage === 'graph' || d.stage === 'bind'), JSON.stringify(clean.diagnostics.map((d) => d.stage)));
});

test('the JSON and SARIF output leave the stage out', async (t) => {
  const { render } = await import('../../../compiler/index.js');
  const r = check('p.qpol', { host: hostWith(TYPO_AND_BYPASS), until: 'bind' });
  t.truthy(r.diagnostics[0]!.stage);
  for (const f of ['json', 'sarif'] as const) t.false(render(f, r.diagnostics, r.sources, { color: false, toolVersion: '0' }).includes('"stage"'), f);
});
