/**
 * `qpc lsp`: the language server (DESIGN §1 "Editors", §6). A thin adapter
 * from LSP messages to the workspace (`workspace.ts`), which holds the open
 * documents, checks each as the entry of a policy set with `check()` over a
 * host where unsaved buffers win over the files on disk, and answers every
 * request from `features.ts`. A request never fails because of the text: a
 * handler that throws is logged and answered with an empty result.
 *
 * The client's messages are framed as the base protocol says (`Content-Length:
 * N`, a blank line, N bytes). A header the server cannot read (a line without
 * a colon, a length that is not a number of bytes or is above
 * MAX_MESSAGE_BYTES, no length at all) leaves no way to find where the next
 * message starts; rather than guess, or wait for ever for a message that
 * never ends, the server says so on stderr and exits with status 2, and the
 * editor starts it again.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CodeActionKind, createConnection, TextDocumentSyncKind, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import { Workspace } from './workspace.js';
import { GRAPH_COMMAND, graphCommand } from './graph-command.js';

export interface ServerOptions {
  /** Pause after the last change before checking, in milliseconds. */
  readonly debounceMs?: number;
}

/** Milliseconds of quiet after a keystroke before checking: long enough to skip keystrokes typed in a burst. */
const DEFAULT_DEBOUNCE_MS = 10;

/** How `qpc lsp` was started. */
export interface StartOptions {
  /** `--clientProcessId`: the editor's process; the server exits once it is gone, as vscode-languageserver does. */
  readonly clientProcessId?: number;
}

/** How often the server looks whether the client process still runs, in milliseconds. */
const CLIENT_POLL_MS = 1000;

/** Whether a process runs (one of another user answers EPERM, and runs). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Runs the server on two streams (stdin and stdout for `qpc lsp`); exits when the client's framing is broken, or when the client process is gone. */
export function startServer(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, start: StartOptions = {}): void {
  const pid = start.clientProcessId;
  if (pid !== undefined) {
    setInterval(() => {
      if (!processAlive(pid)) process.exit(0);
    }, CLIENT_POLL_MS).unref();
  }
  const framed = guardFraming(input, (problem) => {
    process.stderr.write(`qpc lsp: malformed message header from the client (${problem}); exiting so that the editor restarts the server\n`);
    process.exit(2);
  });
  serve(createConnection(framed, output));
}

/** The largest message the server accepts: far above any policy (a file is at most 4 MiB), below what would exhaust its memory. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The longest header the server reads before giving up on finding its end. */
const MAX_HEADER_BYTES = 16 * 1024;

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

/** The body length a message header gives, or what is wrong with it. */
function frameLength(header: string): number | string {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return line === '' ? 'an empty header line' : 'a header line without a name and a colon';
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,15}$/.test(value)) return 'a Content-Length that is not a number of bytes';
    const n = Number(value);
    if (n > MAX_MESSAGE_BYTES) return `a Content-Length above ${MAX_MESSAGE_BYTES / (1024 * 1024)} MiB`;
    if (length !== undefined && length !== n) return 'two different Content-Length headers';
    length = n;
  }
  return length ?? 'a header without Content-Length';
}

/**
 * Checks the framing of what the client sends: passes each well-framed
 * message on with a header of its length alone, and at the first header that
 * cannot be read calls `malformed` and passes nothing more. Bodies stream
 * through without being held whole.
 */
export function guardFraming(input: NodeJS.ReadableStream, malformed: (problem: string) => void): NodeJS.ReadableStream {
  let header: Buffer = Buffer.alloc(0);
  /** Body bytes still to pass on; -1 while reading a header. */
  let remaining = -1;
  let failed = false;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      let data: Buffer = chunk;
      while (!failed && data.length > 0) {
        if (remaining < 0) {
          header = header.length === 0 ? data : Buffer.concat([header, data]);
          data = Buffer.alloc(0);
          const end = header.indexOf(HEADER_END);
          if (end < 0) {
            if (header.length > MAX_HEADER_BYTES) fail(`a header longer than ${MAX_HEADER_BYTES / 1024} KiB`);
            break;
          }
          const length = frameLength(header.subarray(0, end).toString('latin1'));
          if (typeof length === 'string') {
            fail(length);
            break;
          }
          data = header.subarray(end + HEADER_END.length);
          header = Buffer.alloc(0);
          remaining = length;
          this.push(`Content-Length: ${length}\r\n\r\n`);
        }
        const body = data.subarray(0, remaining);
        if (body.length > 0) this.push(body);
        remaining -= body.length;
        data = data.subarray(body.length);
        if (remaining === 0) remaining = -1;
      }
      done();
    },
  });
  const fail = (problem: string): void => {
    failed = true;
    malformed(problem);
  };
  input.pipe(guard);
  return guard;
}

/** Serves one connection (tests pass an in-memory one). */
export function serve(connection: Connection, options: ServerOptions = {}): void {
  let closed = false;
  /** Sends to the client; once the connection is closed, stops checking instead of throwing from a timer. */
  const send = (fn: () => unknown): void => {
    if (closed) return;
    try {
      const r = fn();
      if (r instanceof Promise) r.catch(stop);
    } catch {
      stop();
    }
  };
  const ws = new Workspace({
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    publish: (params) => send(() => connection.sendDiagnostics(params)),
    log: (message) => send(() => connection.console.error(message)),
  });
  const stop = (): void => {
    closed = true;
    ws.stop();
  };
  const c = connection;
  c.onInitialize((params): InitializeResult => {
    ws.configure(params.initializationOptions);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        completionProvider: { triggerCharacters: ['@', ' ', ':'] },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: [GRAPH_COMMAND] },
      },
      serverInfo: { name: 'qpc', version: '0.1.0' },
    };
  });
  c.onDidOpenTextDocument(ws.didOpen);
  c.onDidChangeTextDocument(ws.didChange);
  c.onDidSaveTextDocument(ws.didSave);
  c.onDidChangeWatchedFiles(ws.didChangeWatchedFiles);
  c.onDidCloseTextDocument(ws.didClose);
  c.onHover(ws.hover);
  c.onDefinition(ws.definition);
  c.onReferences(ws.references);
  c.onPrepareRename(ws.prepareRename);
  c.onRenameRequest(ws.rename);
  c.onCompletion(ws.completion);
  c.onDocumentSymbol(ws.documentSymbol);
  c.onDocumentFormatting(ws.formatting);
  c.onCodeAction(ws.codeAction);
  c.onExecuteCommand((p) => (p.command === GRAPH_COMMAND ? graphCommand(ws, p.arguments) : undefined));
  c.onShutdown(stop);
  c.listen();
}
