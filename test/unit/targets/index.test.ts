/**
 * The target registry (targets/index.ts): lookup by name, and that the
 * table is closed: every target a target requires is in it. The order and
 * the emit contract of every target are contract.test.ts's.
 */
import test from 'ava';
import { targetNamed, targets } from '../../../targets/index.js';

test('targetNamed finds each target of the table by its exact name', (t) => {
  for (const x of targets) t.is(targetNamed(x.name), x);
});

test('targetNamed: a name not in the table, in other case, or of an Object property is no target', (t) => {
  for (const name of ['', 'QREXEC', 'qrexec ', 'salt', 'constructor', 'toString', '__proto__']) t.is(targetNamed(name), undefined, JSON.stringify(name));
});

test('the table is closed: every required target is in it, none requires itself, and names are unique', (t) => {
  const names = targets.map((x) => x.name);
  t.is(new Set(names).size, names.length);
  for (const x of targets) {
    for (const r of x.requires ?? []) {
      t.truthy(targetNamed(r), `${x.name} requires ${r}, which is in the table`);
      t.not(r, x.name);
    }
  }
});

test('every target has a name usable in --target LIST and a one-line summary', (t) => {
  for (const x of targets) {
    t.regex(x.name, /^[a-z][a-z0-9-]*$/);
    t.true(x.summary.length > 0 && !x.summary.includes('\n'), x.name);
  }
});
