/**
 * The recorded snapshot test/fixtures/snapshots/plan-owned is what
 * provision.sh leaves: qubes-4.2-whonix provisioned with `ownedPolicy` in
 * the stand-in dom0 (its ownership record as provision.sh wrote it), then a
 * line added to one policy file qpc installed. Each of its files is a golden
 * (UPDATE_GOLDEN=1 rewrites them).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expectGolden, filesUnder } from '../../../helpers/golden.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { compileInto, dump, seed } from './dom0.js';
import { editedLine, fixture, ownedPolicy, recorded, withSizes, writeSnapshot } from './machine.js';

toolTest('plan-owned is the machine provision.sh leaves, with its ownership record', ['sh', 'awk', 'sha256sum'], async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-plan-fixture-'));
  const dom0 = seed(dir, withSizes(recorded('qubes-4.2-whonix').view));
  const out = path.join(dir, 'out');
  await compileInto(ownedPolicy, out);
  const r = run('sh', [path.join(out, 'qubes/provision.sh')], { env: dom0.env, cwd: '/' });
  t.is(r.status, 0, r.stdout + r.stderr);
  const edited = path.join(dom0.policyDir, '41-gone.policy');
  writeFileSync(edited, readFileSync(edited, 'utf8') + editedLine);
  const stateDir = dom0.env.QPC_STATE_DIR!;
  const snap = path.join(dir, 'snapshot');
  writeSnapshot(dump(dom0.state, dom0.policyDir, ['sys-whonix'], stateDir), snap, '2026-01-01T00:00:00Z', readFileSync(path.join(stateDir, 'owned'), 'utf8'));
  const want = fixture('plan-owned');
  for (const f of filesUnder(snap)) expectGolden(t, path.join(want, f), readFileSync(path.join(snap, f), 'utf8'));
  t.deepEqual(filesUnder(want).filter((f) => !f.endsWith('.actual') && f !== 'README.md'), filesUnder(snap), 'no file of the fixture the machine does not have');
});
