/**
 * The base protocol's framing as `qpc lsp` reads it from the client. A
 * message whose header is malformed (no colon, a Content-Length that is not a
 * number of bytes, none at all, or one above the limit) cannot be skipped
 * reliably, so the server says so on stderr and exits (status 2): the editor
 * restarts it. It never stays up without answering.
 */
import test from 'ava';
import { frame, initialize, runServer, TIMEOUT_MS, type Outcome } from '../../../helpers/lsp-process.js';
import { PassThrough } from 'node:stream';
import { guardFraming, MAX_MESSAGE_BYTES } from '../../../../compiler/lsp/server.js';

/** Starts `qpc lsp`, sends `before` and then an initialize request, and waits until it answers or exits. */
function serverAfter(before: string, args: readonly string[] = []): Promise<Outcome> {
  return runServer(args, { before });
}

test('a well-framed initialize is answered', async (t) => {
  const r = await serverAfter('');
  t.false(r.timedOut);
  t.true(r.answered, r.stderr);
});

test('`qpc lsp --stdio`, as vscode-languageclient starts a stdio server (it appends --stdio), is answered too', async (t) => {
  const r = await serverAfter('', ['--stdio']);
  t.false(r.timedOut);
  t.true(r.answered, r.stderr);
});

test('a Content-Type header besides Content-Length is fine', async (t) => {
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'initialized', params: {} });
  const r = await serverAfter(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  t.false(r.timedOut);
  t.true(r.answered, r.stderr);
});

const malformed: readonly [string, string][] = [
  ['a negative Content-Length', 'Content-Length: -5\r\n\r\n{}'],
  ['a Content-Length that is not a number', 'Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}'],
  ['a header line without a colon', 'Content-Length 2\r\n\r\n{}'],
  ['a header without Content-Length', 'Content-Type: application/json\r\n\r\n{}'],
  ['a Content-Length above the limit', `Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n{}`],
];

for (const [what, bytes] of malformed) {
  test(`${what}: the server exits with a reason instead of going silent`, async (t) => {
    const r = await serverAfter(bytes);
    t.false(r.timedOut, `the server neither answered nor exited within ${TIMEOUT_MS} ms`);
    t.false(r.answered);
    t.is(r.code, 2);
    t.regex(r.stderr, /^qpc lsp: malformed message header from the client \(.+\); exiting so that the editor restarts the server\n$/);
  });
}

/** Feeds `chunks` through the guard; resolves with what it passed on and the problem it found. */
async function guarded(chunks: readonly (string | Buffer)[]): Promise<{ out: string; problem?: string }> {
  const input = new PassThrough();
  let problem: string | undefined;
  const out = guardFraming(input, (p) => (problem ??= p));
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => out.on('end', resolve));
  for (const c of chunks) input.write(c);
  input.end();
  await done;
  return { out: Buffer.concat(parts).toString('utf8'), ...(problem !== undefined ? { problem } : {}) };
}

test('the guard passes well-framed messages on, however they are split', async (t) => {
  const a = '{"jsonrpc":"2.0","method":"a","params":"é"}';
  const b = '{"jsonrpc":"2.0","method":"b"}';
  const bytes = Buffer.from(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(a)}\r\n\r\n${a}${frame(b)}`);
  const whole = await guarded([bytes]);
  t.is(whole.problem, undefined);
  t.is(whole.out, frame(a) + frame(b));
  const byteByByte = await guarded([...bytes].map((x) => Buffer.from([x])));
  t.is(byteByByte.out, frame(a) + frame(b));
});

test('the guard stops at the first malformed header and passes nothing after it', async (t) => {
  const ok = frame('{"jsonrpc":"2.0","method":"a"}');
  for (const [what, bytes] of malformed) {
    const r = await guarded([ok, bytes, initialize]);
    t.is(r.out, ok, what);
    t.truthy(r.problem, what);
  }
  const endless = await guarded(['Content-Length: 2\r\n', 'X-Pad: ' + 'x'.repeat(70_000)]);
  t.regex(endless.problem ?? '', /header/);
});
