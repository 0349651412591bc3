import test from 'ava';
import { insertRules } from '../../../../compiler/qrexec/lower.js';
import type { QrexecRule } from '../../../../compiler/qrexec/types.js';

const span = { file: 't', start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
const rule = (policyFile: string, id: string): QrexecRule => ({ service: 's', argument: '*', source: '@anyvm', target: '@anyvm', action: 'deny', origin: { policyFile, stock: false, span, id } });
const ids = (rs: readonly QrexecRule[]) => rs.map((r) => r.origin.id);

test('generated rules go at the end of their file, in dom0 file order', (t) => {
  const policy = [rule('20-a', 'a1'), rule('30-qpc', 'q1'), rule('30-qpc', 'q2'), rule('90-default', 'd1')];
  t.deepEqual(ids(insertRules(policy, [rule('30-qpc', 'g1'), rule('30-qpc', 'g2')])), ['a1', 'q1', 'q2', 'g1', 'g2', 'd1']);
  t.deepEqual(ids(insertRules(policy, [rule('35-new', 'g1')])), ['a1', 'q1', 'q2', 'g1', 'd1'], 'a file of its own sorts among the others');
  t.deepEqual(ids(insertRules(policy, [rule('99-last', 'g1')])), ['a1', 'q1', 'q2', 'd1', 'g1']);
  t.deepEqual(ids(insertRules(policy, [])), ids(policy));
});

import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';

test('the modelled stock policy has the rule counts of the real files per release', (t) => {
  const count = (release: string) => {
    const host = overlayHost(new Map([['s.qpol', `use "whonix"\nsettings { qubes ${release} }\n`]]), nodeHost);
    const rules = check('s.qpol', { host }).policy!.rules.filter((r) => r.origin.stock);
    return { all: rules.length, compat: rules.filter((r) => r.origin.policyFile === '35-compat').length };
  };
  // Reference §1.9: the stock sets load as 60 rules on 4.2 (plus the legacy qubes.USB rule `35-compat` splices in) and 85 on 4.3.
  t.deepEqual(count('4.2'), { all: 61, compat: 1 });
  t.deepEqual(count('4.3'), { all: 85, compat: 0 });
});
