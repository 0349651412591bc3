/**
 * A half-typed document never crashes or wedges the server: every request
 * on any text is answered (a result, an empty result, or a refusal with a
 * reason), and a request that fails is logged while the server keeps serving.
 */
import test from 'ava';
import * as fs from 'node:fs';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
} from 'vscode-languageserver-protocol/node';
import { messageText, startClient, tempFiles, type Client } from './client.js';

/** A small deterministic generator (xorshift), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const PIECES = ['qube', 'identity', 'template', ' ', '\n', '{', '}', ';', '"', '#', 'in', 'work', '@anyvm', '@dispvm:', 'allow', 'qubes.Filecopy', 'from', 'to', '+', 'netvm', 'via', 'use', '"./x.qpol"', '$whonix', '\u202e', 'é', '9999999999', 'waive', 'QP2001', 'expect', ':', 'amend', 'sys-net', '\t', '\r\n', '*'];

function randomTexts(): string[] {
  const next = rng(20240611);
  const out: string[] = [];
  const examples = fs.readdirSync('examples').filter((f) => f.endsWith('.qpol')).map((f) => fs.readFileSync(`examples/${f}`, 'utf8'));
  for (const e of examples) {
    // Truncations anywhere, as while typing a file from the top.
    for (let i = 0; i < 12; i++) out.push(e.slice(0, Math.floor(next() * e.length)));
    // A piece cut out of the middle.
    for (let i = 0; i < 4; i++) {
      const a = Math.floor(next() * e.length);
      out.push(e.slice(0, a) + e.slice(a + Math.floor(next() * 200)));
    }
  }
  for (let i = 0; i < 25; i++) {
    let s = '';
    const n = Math.floor(next() * 40);
    for (let k = 0; k < n; k++) s += PIECES[Math.floor(next() * PIECES.length)];
    out.push(s);
  }
  out.push('', '\n\n\n', '{'.repeat(5000), 'qube ' + 'a'.repeat(20000));
  return out;
}

/** Sends every request at a position; resolves with how many were answered (results or refusals). */
async function everyRequest(c: Client, uri: string, position: { line: number; character: number }): Promise<number> {
  const td = { uri };
  const requests: Promise<unknown>[] = [
    c.connection.sendRequest(HoverRequest.type, { textDocument: td, position }),
    c.connection.sendRequest(DefinitionRequest.type, { textDocument: td, position }),
    c.connection.sendRequest(ReferencesRequest.type, { textDocument: td, position, context: { includeDeclaration: true } }),
    c.connection.sendRequest(PrepareRenameRequest.type, { textDocument: td, position }),
    c.connection.sendRequest(RenameRequest.type, { textDocument: td, position, newName: 'renamed' }),
    c.connection.sendRequest(CompletionRequest.type, { textDocument: td, position }),
    c.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: td }),
    c.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: td, options: { tabSize: 2, insertSpaces: true } }),
    c.connection.sendRequest(CodeActionRequest.type, { textDocument: td, range: { start: position, end: position }, context: { diagnostics: [] } }),
  ];
  const settled = await Promise.allSettled(requests);
  // A refusal must be a protocol error with a message (rename of nothing), never a lost request.
  for (const s of settled) if (s.status === 'rejected' && !(s.reason && typeof s.reason.message === 'string' && 'code' in s.reason)) throw s.reason;
  return settled.length;
}

test('random and truncated text: every request is answered and nothing crashes', async (t) => {
  const files = tempFiles({ 'doc.qpol': '' });
  const c = await startClient({ debounceMs: 0 });
  try {
    const uri = files.uri('doc.qpol');
    c.open(uri, '');
    const texts = randomTexts();
    const next = rng(7);
    let answered = 0;
    for (const text of texts) {
      c.change(uri, text);
      const lines = text.split('\n');
      for (let k = 0; k < 3; k++) {
        const line = Math.floor(next() * (lines.length + 1));
        const character = Math.floor(next() * ((lines[line]?.length ?? 0) + 2));
        answered += await everyRequest(c, uri, { line, character });
      }
    }
    t.is(answered, texts.length * 3 * 9);
    t.deepEqual(c.logs.filter((l) => /failed/.test(l)), []);
    // Still serving, and diagnostics still flow: a final valid text is checked.
    const done = c.waitDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'QP2001'));
    c.change(uri, 'use "qubes"\nidentity w { network clearnet via sys-firewal }\n');
    const p = await done;
    t.regex(messageText(p.diagnostics.find((d) => d.code === 'QP2001')!.message), /did you mean `sys-firewall`/);
  } finally {
    c.close();
    files.cleanup();
  }
});

test('a request that fails is logged and answered empty; the server keeps serving', async (t) => {
  const text = 'use "qubes"\nidentity w { network none }\n';
  const files = tempFiles({ 'doc.qpol': text });
  const c = await startClient();
  try {
    const uri = files.uri('doc.qpol');
    c.open(uri, text);
    // A client that leaves out `context`: the handler throws on it.
    const r = await c.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: { line: 1, character: 10 } } as never);
    t.deepEqual(r, []);
    t.true(c.logs.some((l) => /qpc: references failed/.test(l)), c.logs.join('\n'));
    // Requests on a document that was never opened get empty answers.
    t.is(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: 'file:///nowhere.qpol' }, position: { line: 0, character: 0 } }), null);
    t.deepEqual(await c.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: 'file:///nowhere.qpol' }, position: { line: 0, character: 0 } }), []);
    const refs = await c.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: { line: 1, character: 10 }, context: { includeDeclaration: true } });
    t.is((refs as unknown[]).length, 1);
  } finally {
    c.close();
    files.cleanup();
  }
});
