/**
 * An in-process language client for the server's tests: the server and the
 * client talk JSON-RPC over two in-memory streams, exactly as over stdio.
 */
import { PassThrough } from 'node:stream';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { serve, type ServerOptions } from '../../../../compiler/lsp/server.js';

export interface Client {
  readonly connection: ProtocolConnection;
  /** Every `window/logMessage` the server sent. */
  readonly logs: string[];
  /** The latest diagnostics per URI. */
  readonly diagnostics: Map<string, PublishDiagnosticsParams>;
  /** Resolves with the first publication for `uri` (after this call) that satisfies `ok`. */
  waitDiagnostics(uri: string, ok?: (p: PublishDiagnosticsParams) => boolean, timeoutMs?: number): Promise<PublishDiagnosticsParams>;
  open(uri: string, text: string): void;
  /** Replaces the whole text of an open document. */
  change(uri: string, text: string): void;
  text(uri: string): string;
  close(): void;
}

/** Starts a server and a client connected to it, and initializes (with the client's `initializationOptions`, if given). */
export async function startClient(options: ServerOptions = { debounceMs: 5 }, initializationOptions?: unknown): Promise<Client> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  serve(createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient)), options);
  const connection = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const logs: string[] = [];
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const waiters: { uri: string; ok: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  connection.onNotification(LogMessageNotification.type, (p) => {
    logs.push(p.message);
  });
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    diagnostics.set(p.uri, p);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.ok(p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p);
      }
    }
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: null, rootUri: null, capabilities: {}, workspaceFolders: null, ...(initializationOptions !== undefined ? { initializationOptions } : {}) });
  await connection.sendNotification(InitializedNotification.type, {});
  const docs = new Map<string, TextDocument>();
  return {
    connection,
    logs,
    diagnostics,
    waitDiagnostics(uri, ok = () => true, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(diagnostics.get(uri)?.diagnostics.map((d) => d.code))}`)), timeoutMs);
        waiters.push({ uri, ok, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
    open(uri, text) {
      docs.set(uri, TextDocument.create(uri, 'qpol', 1, text));
      void connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'qpol', version: 1, text } });
    },
    change(uri, text) {
      const doc = docs.get(uri)!;
      const version = doc.version + 1;
      const range = { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) };
      docs.set(uri, TextDocument.update(doc, [{ text }], version));
      void connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    },
    text(uri) {
      return docs.get(uri)!.getText();
    },
    close() {
      connection.dispose();
      toServer.end();
      toClient.end();
    },
  };
}

/** A temporary directory with files; returns the directory and a URI maker. */
export function tempFiles(files: Record<string, string>): { dir: string; uri: (name: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { dir, uri: (name) => pathToFileURL(path.join(dir, name)).href, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Text with a `<|>` cursor marker: the text without it and the LSP position of the marker. */
export function marked(withMarker: string): { text: string; position: { line: number; character: number }; offset: number } {
  const offset = withMarker.indexOf('<|>');
  if (offset < 0) throw new Error('no <|> marker');
  const text = withMarker.slice(0, offset) + withMarker.slice(offset + 3);
  const before = text.slice(0, offset).split('\n');
  return { text, offset, position: { line: before.length - 1, character: before[before.length - 1].length } };
}

/** The LSP position of the `n`th (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, n = 0, delta = 0): { line: number; character: number } {
  let i = -1;
  for (let k = 0; k <= n; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`\`${needle}\` not found ${n + 1} times`);
  }
  const before = text.slice(0, i + delta).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Applies LSP text edits to a text. */
export function applyEdits(text: string, edits: readonly { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  return TextDocument.applyEdits(TextDocument.create('x', 'qpol', 1, text), edits as never);
}

/** The text of a message that LSP 3.18 allows to be plain or markup. */
export function messageText(m: string | { value: string }): string {
  return typeof m === 'string' ? m : m.value;
}
