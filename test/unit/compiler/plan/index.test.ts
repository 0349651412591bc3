/** The plan's module index, and the public API's `plan`, `planOn` and renderers over it. */
import test from 'ava';
import * as index from '../../../../compiler/plan/index.js';
import * as plan from '../../../../compiler/plan/plan.js';
import * as render from '../../../../compiler/plan/render.js';
import * as api from '../../../../compiler/index.js';
import { basePolicy, fixture } from './machine.js';
import { overlayHost, nodeHost } from '../../../../compiler/index.js';

test('the index re-exports the modules\' functions themselves', (t) => {
  t.is(index.makePlan, plan.makePlan);
  t.is(index.renderPlan, render.renderPlan);
  t.is(api.renderPlan, render.renderPlan);
  t.is(api.planJson, render.planJson);
  t.is(index.PLAN_FORMAT, 'qpc-plan 1');
});

test('plan() reads the snapshot and plans; planOn() plans on a given machine', (t) => {
  const host = overlayHost(new Map([['plan-test.qpol', basePolicy]]), nodeHost);
  const r = api.plan('plan-test.qpol', { host, snapshot: fixture('qubes-4.2-whonix') });
  t.truthy(r.plan);
  t.is(r.plan!.machine.coverage, 'snapshot');
  t.regex(r.plan!.machine.stateHash ?? '', /^[0-9a-f]{64}$/);
  const again = api.planOn('plan-test.qpol', r.plan!.desired, r.plan!.machine, { host });
  t.deepEqual(again.plan!.patches, []);
});

test('no plan when the machine or the policy has an error', (t) => {
  const host = overlayHost(new Map([['plan-test.qpol', basePolicy], ['bad.qpol', 'qube x in nowhere {}\n'], ['info.json', '{"domains": 3}']]), nodeHost);
  const noSnapshot = api.plan('plan-test.qpol', { host, snapshot: 'no-such-directory' });
  t.is(noSnapshot.plan, undefined);
  t.true(noSnapshot.diagnostics.some((d) => d.code === 'QP5001'));
  const badInfo = api.plan('plan-test.qpol', { host, systemInfo: 'info.json' });
  t.is(badInfo.plan, undefined);
  t.true(badInfo.diagnostics.some((d) => d.code === 'QP5001' && d.message.includes('no "domains" object')));
  const badPolicy = api.plan('bad.qpol', { host, snapshot: fixture('qubes-4.2-whonix') });
  t.is(badPolicy.plan, undefined);
  t.true(badPolicy.diagnostics.some((d) => d.severity === 'error'));
});
