/**
 * The language server's whole check is `check()`: what a target refuses
 * (QP4xxx) shows in the editor, at the declaration that causes it, and goes
 * when the policy is fixed.
 */
import test from 'ava';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol/node';
import { positionOf, startClient, tempFiles } from './client.js';

const POLICY = `use "qubes"
template debian-12-xfce { kernel none }
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network clearnet via sys-firewall }
qube work-web in work { template debian-12-xfce }
`;

const has = (code: string) => (p: PublishDiagnosticsParams) => p.diagnostics.some((d) => d.code === code);

test('a qube the provision target cannot create is an error in the editor, until it has a label', async (t) => {
  const files = tempFiles({ 'main.qpol': POLICY });
  const c = await startClient();
  try {
    const uri = files.uri('main.qpol');
    c.open(uri, POLICY);
    const p = await c.waitDiagnostics(uri, has('QP4001'));
    const d = p.diagnostics.find((x) => x.code === 'QP4001')!;
    t.is(d.severity, 1);
    t.deepEqual(d.range.start, positionOf(POLICY, 'work-web'));
    t.is(d.range.end.character - d.range.start.character, 'work-web'.length);
    const fixed = c.waitDiagnostics(uri, (q) => q.diagnostics.length === 0);
    c.change(uri, POLICY.replace('via sys-firewall }', 'via sys-firewall; label blue }'));
    await fixed;
    t.pass();
  } finally {
    c.close();
    files.cleanup();
  }
});
