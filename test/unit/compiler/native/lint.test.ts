/**
 * lintNative: the qubes assumed without system information, a system
 * information that cannot be read, and the stages of what it reports
 * (the command itself: test/unit/compiler/cli/lint.test.ts).
 */
import test from 'ava';
import { inferredSystemInfo, lintNative } from '../../../../compiler/native/lint.js';
import { lint } from '../../../../compiler/index.js';
import type { NativeHost } from '../../../../compiler/native/read.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';

const span = { file: '30-user.policy', start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
const rule = (source: string, target: string, extra: Partial<QrexecRule> = {}): QrexecRule => ({ service: 's', argument: '*', source, target, action: 'allow', origin: { policyFile: '30-user', stock: false, span, id: '30-user#1' }, ...extra });

/** One policy directory in memory. */
function host(files: Readonly<Record<string, string>>): NativeHost {
  return {
    readFile: (p) => {
      const name = p.replace(/^pd\//, '');
      if (p === 'pd') throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      if (!(name in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return files[name]!;
    },
    listDir: (d) => {
      if (d !== 'pd') throw Object.assign(new Error(`ENOENT: ${d}`), { code: 'ENOENT' });
      return Object.keys(files).map((name) => ({ name, kind: 'file' as const }));
    },
  };
}

test('without system information: dom0, and each qube a rule names as a halted AppVM; the Q of @dispvm:Q a disposable template', (t) => {
  const info = inferredSystemInfo([rule('work', '@dispvm:dvm'), rule('@tag:x', 'vault', { redirect: 'dvm' }), rule('dom0', '@anyvm')], '4.2');
  t.deepEqual([...info.domains.keys()].sort(), ['dom0', 'dvm', 'vault', 'work']);
  t.is(info.domains.get('dom0')!.type, 'AdminVM');
  t.true(info.domains.get('dvm')!.templateForDispvms);
  t.false(info.domains.get('vault')!.templateForDispvms);
  t.deepEqual(info.domains.get('work')!.tags, []);
});

test('a system information that cannot be read stops before the files are read', (t) => {
  const r = lint(['pd'], { host: host({ '30-user.policy': 's * a b allow\n' }), release: '4.2', systemInfo: 'missing.json' });
  t.false('policy' in r);
  t.deepEqual(r.diagnostics.map((d) => d.code), ['QP5001']);
});

test('the files are read and analysed: loader findings in the load stage, analyses in the graph stage', (t) => {
  const r = lintNative(['pd'], { host: host({ '30-user.policy': 's * a b allow\ns * a b deny\nbad line\n' }), release: '4.2' });
  t.true('policy' in r);
  const byCode = new Map(r.diagnostics.map((d) => [d.code, d.stage]));
  t.is(byCode.get('QP6001'), 'load');
  t.is(byCode.get('QP6101'), 'graph');
  t.is(byCode.get('QP6105'), 'graph');
  if ('policy' in r) {
    t.is(r.policy.rules.length, 2);
    t.true(r.policy.infoInferred);
  }
});
