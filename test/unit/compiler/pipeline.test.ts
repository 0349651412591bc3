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
    t.is(reads, policyReads + 1, 'only the lock file is read to go on');
    const direct = check(entry);
    t.deepEqual(summary(whole), summary(direct));
    t.deepEqual(whole.model, direct.model);
    t.is(continueCheck(whole), whole, 'a complete result is returned as it is');
  });
}

test('a bound check with errors is final: nothing to go on from', (t) => {
  const host: CompilerHost = { readFile: (p) => (p === 'p.qpol' ? 'use "qubes"\nqube q in nowhere {}\n' : nodeHost.readFile(p)) };
  const r = check('p.qpol', { host, until: 'bind' });
  t.is(r.bound, undefined);
  t.true(r.diagnostics.some((d) => d.code === 'QP2001'));
});
