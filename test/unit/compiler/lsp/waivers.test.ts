/**
 * The language server shows a waived critical finding as the command line
 * does without `--allow-waived`: at its own severity, with a note; the
 * client's `allowWaived` initialization option plays the flag's part.
 */
import test from 'ava';
import type { Diagnostic } from 'vscode-languageserver-protocol/node';
import { messageText, startClient, tempFiles } from './client.js';

const POLICY = `use "qubes"
use "whonix"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18; netvm sys-firewall }
waive QP3004 on anon-chat because "testing"
`;

async function shown(initializationOptions?: unknown): Promise<Diagnostic> {
  const files = tempFiles({ 'p.qpol': POLICY });
  const c = await startClient({ debounceMs: 5 }, initializationOptions);
  try {
    c.open(files.uri('p.qpol'), POLICY);
    const p = await c.waitDiagnostics(files.uri('p.qpol'), (x) => x.diagnostics.some((d) => d.code === 'QP3004'));
    return p.diagnostics.find((d) => d.code === 'QP3004')!;
  } finally {
    c.close();
    files.cleanup();
  }
}

test('a waived Tor bypass shows as an error with a note that names --allow-waived', async (t) => {
  const d = await shown();
  t.is(d.severity, 1);
  t.regex(messageText(d.message), /--allow-waived QP3004/);
});

test('with the allowWaived option the waived Tor bypass shows as a warning that quotes the reason', async (t) => {
  const d = await shown({ allowWaived: ['QP3004'] });
  t.is(d.severity, 2);
  t.regex(messageText(d.message), /accepted: testing/);
});
