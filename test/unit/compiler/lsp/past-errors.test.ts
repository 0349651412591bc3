/**
 * The editor reports what the analysis finds past name errors: a typo in
 * one rule does not hide a Tor bypass elsewhere, in either step of the
 * server's diagnostics (bind first, then the whole check).
 */
import test from 'ava';
import { DidChangeTextDocumentNotification, HoverRequest, type Hover, type PublishDiagnosticsParams } from 'vscode-languageserver-protocol/node';
import { positionOf, startClient, tempFiles } from './client.js';

const POLICY = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red }
qube anon-chat in anon {
  template whonix-workstation-$whonix
  netvm sys-firewall
}
allow qubes.Filecopy from anon-chat to anon-chta
`;

const codes = (p: PublishDiagnosticsParams) => p.diagnostics.map((d) => String(d.code)).sort();

test('a typo in one rule and a Tor bypass elsewhere are both reported, and stay through an edit', async (t) => {
  const files = tempFiles({ 'main.qpol': POLICY });
  const c = await startClient();
  try {
    const uri = files.uri('main.qpol');
    const seen: string[][] = [];
    c.open(uri, POLICY);
    const first = await c.waitDiagnostics(uri, (p) => (seen.push(codes(p)), codes(p).includes('QP3004')));
    t.deepEqual(codes(first), ['QP2001', 'QP3004']);
    t.deepEqual(seen[0], ['QP2001'], 'step one: the binding errors at once');
    // An edit elsewhere (a line added at the end): step one keeps the analysis finding in place, step two confirms it.
    const after: string[][] = [];
    const edited = `${POLICY}# a comment\n`;
    const done = c.waitDiagnostics(uri, (p) => (after.push(codes(p)), after.length >= 2));
    const end = { line: POLICY.split('\n').length - 1, character: 0 };
    void c.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: end, end }, text: '# a comment\n' }] });
    await done;
    for (const cs of after) t.deepEqual(cs, ['QP2001', 'QP3004']);
    // Fixing the typo leaves the Tor bypass.
    const fixed = c.waitDiagnostics(uri, (p) => !codes(p).includes('QP2001') && codes(p).length > 0);
    void c.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 3 }, contentChanges: [{ text: edited.replace('anon-chta', 'anon-chat') }] });
    t.deepEqual(codes(await fixed), ['QP3004']);
  } finally {
    c.close();
    files.cleanup();
  }
});

const hoverText = (h: Hover | null) => (h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '');

test('past name errors, a hover shows the facts of the part that bound, and not those that depend on an error', async (t) => {
  const text = `${POLICY}qube anon-web in anon {\n  template whonix-workstation-$whonix\n  netvm sys-firewal\n}\n`;
  const files = tempFiles({ 'main.qpol': text });
  const c = await startClient();
  try {
    const uri = files.uri('main.qpol');
    c.open(uri, text);
    await c.waitDiagnostics(uri, (p) => codes(p).includes('QP3004'));
    const hover = async (needle: string) => hoverText(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: positionOf(text, needle, 0, 6) }));
    t.regex(await hover('qube anon-chat'), /network: anon-chat → sys-firewall → sys-net → \(network\)/);
    // Its netvm does not bind: the route the analysis saw (through the identity's gateway) is not the policy's.
    const web = await hover('qube anon-web');
    t.regex(web, /`anon-web` in identity `anon`/);
    t.notRegex(web, /network:/);
  } finally {
    c.close();
    files.cleanup();
  }
});
