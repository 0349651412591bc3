/**
 * The token model against Qubes' parser.py (v4.2.25, v4.3.12): how each
 * release reads a token, where it may stand, what it matches; and the
 * analyses' view of a qube (`takesQube`) against the evaluator's.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  acceptedIn,
  allowTarget,
  expansion,
  intendedTarget,
  isLoopback,
  readRuleTokens,
  ruleTokens,
  sourceMatches,
  takesQube,
  targetMatches,
  token,
  tokenIn,
  tokenShape,
  writeFault,
  YES,
} from '../../../../compiler/qrexec/token.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from '../../../../compiler/qrexec/types.js';

const span = { file: 't.qpol', start: 0, end: 0 } as unknown as QrexecRule['origin']['span'];
const rule = (source: string, target: string, extra: Partial<QrexecRule> = {}): QrexecRule => ({
  service: 'qubes.Test',
  argument: '*',
  source,
  target,
  action: 'allow',
  ...extra,
  origin: { policyFile: '30-t', stock: false, span, id: '30-t#1' },
});

const dom = (name: string, type: string, tags: string[] = [], extra: Partial<DomainInfo> = {}): DomainInfo => ({ name, type, tags, defaultDispvm: null, templateForDispvms: false, ...extra });
const info: SystemInfo = {
  domains: new Map(
    [
      dom('dom0', 'AdminVM', [], { running: true }),
      dom('work', 'AppVM', ['office'], { defaultDispvm: 'work-dvm' }),
      dom('work-dvm', 'AppVM', ['office'], { templateForDispvms: true }),
      dom('vault', 'AppVM'),
      dom('disp12', 'DispVM', ['office']),
    ].map((d) => [d.name, d]),
  ),
};

test('each release reads the tokens as parser.py does', (t) => {
  const kinds = (r: QubesRelease) => ['*', '@anyvm', '@adminvm', 'dom0', '@default', '@dispvm', '@dispvm:work-dvm', '@dispvm:@tag:office', '@tag:office', '@type:AppVM', 'uuid:00000000-0000-0000-0000-000000000000', 'work', '@tagg:x', '@dispvm:@x'].map((x) => token(x, r).kind);
  t.deepEqual(kinds('4.3'), ['any', 'anyvm', 'adminvm', 'name', 'default', 'dispvm', 'dispvm-of', 'dispvm-tag', 'tag', 'type', 'uuid', 'name', 'invalid', 'invalid']);
  // R4.2: `VMToken.__new__` rewrites `dom0` to `@adminvm`; `uuid:` is a plain name.
  t.deepEqual(kinds('4.2'), ['any', 'anyvm', 'adminvm', 'adminvm', 'default', 'dispvm', 'dispvm-of', 'dispvm-tag', 'tag', 'type', 'name', 'name', 'invalid', 'invalid']);
  t.true(token('dom0', '4.3').dom0);
  t.true(token('uuid:00000000-0000-0000-0000-000000000000', '4.3').dom0);
  t.false(token('uuid:00000000-0000-0000-0000-000000000000', '4.2').dom0);
  t.is(token('@dispvm:@tag:office', '4.3').value, 'office');
});

test("Qubes' messages for tokens it refuses, per column", (t) => {
  t.is(token('', '4.3').problem, 'invalid empty vm token');
  t.is(tokenIn('', 'source', '4.3').problem, 'invalid empty source token');
  // R4.2 takes an empty name.
  t.is(token('', '4.2').kind, 'name');
  t.is(tokenIn('@tag:', 'target', '4.3').problem, "invalid empty @tag: token: '@tag:'");
  // A class the column does not declare: `@default` is no source (parser.py `Source`).
  t.is(tokenIn('@default', 'source', '4.3').problem, "invalid source token: '@default'");
  // `@dispvm:@tag:T` is no redirect: `@dispvm:` gives way to the longer prefix, which Redirect does not take.
  t.is(tokenIn('@dispvm:@tag:x', 'redirect', '4.3').problem, "invalid redirect token: '@dispvm:@tag:x'");
  t.is(tokenIn('@dispvm:q', 'redirect', '4.3').kind, 'dispvm-of');
});

test('the column table is parser.py’s inheritance', (t) => {
  t.true(acceptedIn('dispvm-of', 'source'));
  t.false(acceptedIn('dispvm', 'source'));
  t.false(acceptedIn('tag', 'redirect'));
  t.true(acceptedIn('default', 'intended'));
  t.false(acceptedIn('anyvm', 'intended'));
});

test('the prefix split keeps a bad value for the checker to explain', (t) => {
  t.deepEqual(tokenShape('@tag:'), { kind: 'tag', value: '' });
  t.deepEqual(tokenShape('@dispvm:@x'), { kind: 'dispvm-of', value: '@x' });
  t.deepEqual(tokenShape('@dispvm:@tag:t'), { kind: 'dispvm-tag', value: 't' });
  t.deepEqual(tokenShape('uuid:abc'), { kind: 'uuid', value: 'abc' });
  t.deepEqual(tokenShape('@nope'), { kind: 'invalid', value: '' });
});

test('what qpc refuses to write, beyond what Qubes loads', (t) => {
  t.is(writeFault('@dispvm:work-dvm', 'source', '4.3')?.fault, 'column', 'Qubes loads it, but a disposable never calls by that name');
  t.is(writeFault('@type:RemoteVM', 'source', '4.2')?.fault, 'release');
  t.is(writeFault('uuid:1234', 'source', '4.3')?.fault, 'release');
  t.is(writeFault('my.qube', 'target', '4.2')?.fault, 'release');
  t.is(writeFault('@tag:a b', 'target', '4.3')?.fault, 'value');
  t.is(writeFault('@default', 'target', '4.3'), undefined);
});

test('rules carry their tokens; others are read once and remembered', (t) => {
  const r = rule('work', 'dom0');
  t.is(ruleTokens(r, '4.2'), ruleTokens(r, '4.2'));
  t.is(ruleTokens(r, '4.2').target.kind, 'adminvm');
  t.is(ruleTokens(r, '4.3').target.kind, 'name');
  const carried = { ...r, tokens: readRuleTokens(r, '4.3') };
  t.is(ruleTokens(carried, '4.3'), carried.tokens);
});

test('dom0 never matches as a caller on 4.2, and does on 4.3', (t) => {
  for (const text of ['@adminvm', 'dom0']) {
    t.false(sourceMatches(token(text, '4.2'), 'dom0', info), `${text} on 4.2`);
    t.true(sourceMatches(token(text, '4.3'), 'dom0', info), `${text} on 4.3`);
    t.false(takesQube(token(text, '4.2'), info.domains.get('dom0')!, 'source'));
  }
});

test('allow: redirects verified again, @dispvm through the caller, loopback per caller', (t) => {
  t.deepEqual(allowTarget(rule('work', '@anyvm', { redirect: 'nosuchqube' }), 'vault', 'work', info, '4.3'), { refused: { reason: 'no target', notify: true } });
  t.deepEqual(allowTarget(rule('work', '@dispvm'), '@dispvm', 'work', info, '4.3'), { target: '@dispvm:work-dvm' });
  t.deepEqual(allowTarget(rule('work', '@anyvm', { autostart: false }), 'vault', 'work', info, '4.3'), { refused: { reason: 'requires autostart', notify: false } });
  t.deepEqual(allowTarget(rule('work', '@adminvm'), '@adminvm', 'work', info, '4.2'), { target: 'dom0' });
  t.true(isLoopback('work', 'work'));
});

test('expansion: R4.2 yields dom0 as @adminvm, R4.3 as its name', (t) => {
  t.true(expansion(token('*', '4.2'), info).set.has('@adminvm'));
  t.true(expansion(token('*', '4.3'), info).set.has('dom0'));
  t.false(expansion(token('@anyvm', '4.3'), info).set.has('dom0'));
  t.deepEqual(expansion(token('@dispvm:@tag:office', '4.3'), info).list, ['@dispvm:work-dvm']);
  t.is(expansion(token('@dispvm:nosuch', '4.3'), info).error, 'qrexec error: no such qube `nosuch`');
});

// The analyses decide per qube with `takesQube`; the evaluator per request. They must agree
// on every token and qube (the channel analysis once let dom0 be a caller on 4.2 here).
const texts = ['*', '@anyvm', '@adminvm', 'dom0', '@default', '@dispvm', '@dispvm:work-dvm', '@dispvm:@tag:office', '@tag:office', '@type:AppVM', '@type:AdminVM', '@type:DispVM', 'uuid:00000000-0000-0000-0000-000000000000', 'work', 'vault', 'disp12', '@tagg:x'];

test('takesQube agrees with the evaluator on every token, qube and release', (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...texts), fc.constantFrom(...info.domains.keys()), fc.constantFrom<QubesRelease>('4.2', '4.3'), (text, name, release) => {
      const tok = token(text, release);
      const d = info.domains.get(name)!;
      const asSource = sourceMatches(tok, name, info);
      const t2 = intendedTarget(name, info, release);
      const asTarget = typeof t2 === 'string' && targetMatches(tok, t2, 'work', info) === YES;
      return takesQube(tok, d, 'source') === asSource && takesQube(tok, d, 'target') === asTarget;
    }),
    { numRuns: 500 },
  );
  t.pass();
});
