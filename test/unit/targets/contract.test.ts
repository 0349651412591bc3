/**
 * The target contract over the whole registry (targets/index.ts): for every
 * example, each target's emit, given a deep-frozen model and the frozen
 * artifacts of the targets it requires, does not throw (it writes nothing it
 * was given) and gives the same bytes when run again.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { nodeHost } from '../../../compiler/host.js';
import type { PolicyModel } from '../../../compiler/model.js';
import { runPipeline } from '../../../compiler/pipeline.js';
import { targets, type Artifact } from '../../../targets/index.js';
import { deepFreeze } from '../../helpers/deep-freeze.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).sort().map((f) => `examples/${f}`);

function frozenModel(entry: string): PolicyModel {
  const r = runPipeline(entry, nodeHost, 'all');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.model || errors.length > 0) throw new Error(`${entry}: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return deepFreeze(r.model);
}

test('the registry holds every target, each after the targets it requires', (t) => {
  t.deepEqual(targets.map((x) => x.name).sort(), ['provision', 'qrexec', 'whonix', 'xen']);
  targets.forEach((x, i) => {
    for (const r of x.requires ?? []) {
      const at = targets.findIndex((y) => y.name === r);
      // -1 (no such target) is not "before it".
      t.true(at >= 0 && at < i, `${x.name} requires ${r}, which is in the registry before it`);
    }
  });
});

test('deepFreeze makes writes throw, in objects, arrays and maps', (t) => {
  const v = deepFreeze({ a: [{ b: 1 }], m: new Map([['k', { c: 2 }]]), s: new Set([1]) });
  t.throws(() => {
    (v.a[0] as { b: number }).b = 3;
  });
  t.throws(() => (v.a as { b: number }[]).push({ b: 4 }));
  t.throws(() => v.m.set('j', { c: 3 }));
  t.throws(() => {
    (v.m.get('k') as { c: number }).c = 5;
  });
  t.throws(() => v.s.add(2));
});

for (const entry of examples) {
  test(`${entry}: every target's emit over a deep-frozen model does not throw and is deterministic`, (t) => {
    const model = frozenModel(entry);
    const byTarget = new Map<string, readonly Artifact[]>();
    for (const target of targets) {
      t.deepEqual(target.check(model).filter((d) => d.severity === 'error'), [], `${target.name} check`);
      const inputs = deepFreeze((target.requires ?? []).flatMap((n) => byTarget.get(n) ?? []));
      let first: readonly Artifact[] = [];
      t.notThrows(() => {
        first = target.emit(model, inputs);
      }, `${target.name} emit`);
      t.true(first.length > 0, `${target.name} emits artifacts`);
      const again = target.emit(model, inputs);
      t.is(JSON.stringify(again), JSON.stringify(first), `${target.name}: the second emit gives the same bytes`);
      byTarget.set(target.name, first);
    }
  });
}
