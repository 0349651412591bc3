/**
 * `qpc lsp`: the language server (DESIGN §1 "Editors", §6). A thin adapter
 * over the compiler API: every open document is checked as the entry of a
 * policy set with `check()`, over a host where unsaved buffers win over the
 * files on disk; the answers come from `features.ts`.
 *
 * Diagnostics come in two steps after a short pause in typing. First the
 * load and bind stages (syntax, names, items, rules: what typing breaks),
 * published at once together with the previous analysis findings moved with
 * the edit; then the whole check (topology, qrexec, SOCKS), which on a large
 * policy takes longer and replaces them. A request never fails because of
 * the text: a handler that throws is logged and answered with an empty result.
 *
 * The client's messages are framed as the base protocol says (`Content-Length:
 * N`, a blank line, N bytes). A header the server cannot read (a line without
 * a colon, a length that is not a number of bytes or is above
 * MAX_MESSAGE_BYTES, no length at all) leaves no way to find where the next
 * message starts; rather than guess, or wait for ever for a message that
 * never ends, the server says so on stderr and exits with status 2, and the
 * editor starts it again.
 */
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  createConnection,
  ResponseError,
  ErrorCodes,
  TextDocumentSyncKind,
  type CodeAction,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type InitializeResult,
  type Position,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { check, continueCheck, format, nodeHost, type CheckResult, overlayHost, type CompilerHost, type Program, SourceFile, parseFile } from '../index.js';
import { completion, definition, documentSymbols, hover, nameAt, realPath, references, renamable, rename, toLspDiagnostics, toRange, type LspFix, type UriOf } from './features.js';

export interface ServerOptions {
  /** Pause after the last change before checking, in milliseconds. */
  readonly debounceMs?: number;
}

/** Milliseconds of quiet after a keystroke before checking: long enough to skip keystrokes typed in a burst. */
const DEFAULT_DEBOUNCE_MS = 10;

interface Analysis {
  /** What the result was computed from: the versions of the open documents it read. */
  readonly key: string;
  readonly level: 'bind' | 'all';
  readonly result: CheckResult;
}

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
  new QpcServer(connection, options).listen();
}

function rangeBefore(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Moves a position through one edit of the text; undefined when the edit replaced it. */
function movePosition(p: Position, change: TextDocumentContentChangeEvent): Position | undefined {
  if (!('range' in change)) return undefined;
  const { start, end } = change.range;
  if (rangeBefore(p, start) || (p.line === start.line && p.character === start.character && rangeBefore(start, end))) return p;
  if (rangeBefore(p, end)) return undefined;
  const lines = change.text.split('\n');
  const newEndLine = start.line + lines.length - 1;
  const newEndChar = lines.length === 1 ? start.character + lines[0].length : lines[lines.length - 1].length;
  if (p.line === end.line) return { line: newEndLine, character: newEndChar + (p.character - end.character) };
  return { line: p.line + (newEndLine - end.line), character: p.character };
}

class QpcServer {
  private readonly docs = new Map<string, TextDocument>();
  /** Path of each open document's URI, and back. */
  private readonly pathOfUri = new Map<string, string>();
  private readonly uriOfPath = new Map<string, string>();
  private readonly analyses = new Map<string, Analysis>();
  /** The last program bound for a document, for completion while the text does not parse. */
  private readonly lastProgram = new Map<string, Program>();
  /** Diagnostics each entry's check produced, by the URI they belong to. */
  private readonly contributions = new Map<string, Map<string, LspDiagnostic[]>>();
  private readonly published = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private closed = false;
  private readonly debounceMs: number;
  /**
   * Codes whose explicit waivers count, from the client's initialization
   * option `allowWaived` (as `--allow-waived` on the command line). Without
   * it a waived critical finding shows as the error CI reports.
   */
  private allowWaived: readonly string[] = [];

  constructor(
    private readonly connection: Connection,
    options: ServerOptions,
  ) {
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  private readonly uriOf: UriOf = (file) => this.uriOfPath.get(file) ?? pathToFileURL(realPath(file)).href;

  private pathOf(uri: string): string {
    const known = this.pathOfUri.get(uri);
    if (known) return known;
    let p: string;
    if (uri.startsWith('file:')) {
      try {
        p = path.normalize(fileURLToPath(uri));
      } catch {
        p = path.join(path.sep, 'untitled', encodeURIComponent(uri));
      }
    } else {
      // An unsaved buffer (`untitled:`): a path of its own, so relative imports resolve nowhere.
      p = path.join(path.sep, 'untitled', encodeURIComponent(uri) + (uri.endsWith('.qpol') ? '' : '.qpol'));
    }
    return p;
  }

  private host(): CompilerHost {
    const files = new Map<string, string>();
    for (const [uri, doc] of this.docs) files.set(this.pathOf(uri), doc.getText());
    return overlayHost(files, nodeHost);
  }

  /** The key of an entry's analysis: the versions of the open documents its last check read (itself at least). */
  private keyOf(uri: string): string {
    const previous = this.analyses.get(uri)?.result.sources;
    const parts: string[] = [];
    for (const [u, doc] of this.docs) {
      const p = this.pathOf(u);
      if (u === uri || previous?.has(p)) parts.push(`${u}@${doc.version}`);
    }
    return parts.sort().join(' ');
  }

  /**
   * The open document whose check covers `uri`: a policy that imports it (its
   * own check would miss the importer's declarations), else itself. Follows
   * importers upwards; two files importing each other are each their own entry.
   */
  private entryFor(uri: string): string {
    let cur = uri;
    const seen = new Set([uri]);
    for (;;) {
      const p = this.pathOf(cur);
      const mine = this.analyses.get(cur)?.result.sources;
      let next: string | undefined;
      for (const [u, a] of this.analyses) {
        if (u === cur || seen.has(u) || !this.docs.has(u)) continue;
        if (a.result.sources.has(p) && !mine?.has(this.pathOf(u))) {
          next = u;
          break;
        }
      }
      if (next === undefined) return cur;
      seen.add(next);
      cur = next;
    }
  }

  /** A current check of an open document, computing it when needed. */
  private analysis(uri: string, level: 'bind' | 'all'): CheckResult | undefined {
    if (!this.docs.has(uri)) return undefined;
    const key = this.keyOf(uri);
    const a = this.analyses.get(uri);
    if (a && a.key === key && (a.level === 'all' || level === 'bind')) return a.result;
    // The whole check goes on from this text's load-and-bind result rather than parsing again.
    const opts = { host: this.host(), allowWaived: this.allowWaived };
    const result = a && a.key === key && a.result.bound ? continueCheck(a.result, opts) : check(this.pathOf(uri), { ...opts, until: level });
    this.remember(uri, key, level, result);
    return result;
  }

  private remember(uri: string, key: string, level: 'bind' | 'all', result: CheckResult): void {
    // A check that stopped at binding with nothing to go on from (no program, or errors the analysis cannot contain) is what the whole check would give.
    const complete = level === 'all' || !result.bound;
    this.analyses.set(uri, { key, level: complete ? 'all' : 'bind', result });
    if (result.program) this.lastProgram.set(uri, result.program);
  }

  /** Logs a failed request or check to the client's log; the server carries on. */
  private logFailure(what: string, e: unknown): void {
    this.send(() => this.connection.console.error(`qpc: ${what} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  }

  /** Sends a notification; once the connection is closed, stops checking instead of throwing from a timer. */
  private send(fn: () => unknown): void {
    if (this.closed) return;
    try {
      const r = fn();
      if (r instanceof Promise) r.catch(() => this.stop());
    } catch {
      this.stop();
    }
  }

  private stop(): void {
    this.closed = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Wraps a handler: a throw is logged and answered with `fallback`. */
  private guard<P, R>(name: string, fallback: R, fn: (params: P) => R): (params: P) => R {
    return (params: P) => {
      try {
        return fn(params);
      } catch (e) {
        this.logFailure(name, e);
        return fallback;
      }
    };
  }

  /** Reads the client's initialization options: `allowWaived`, a list of codes. */
  private configure(options: unknown): void {
    const list = (options as { allowWaived?: unknown } | null | undefined)?.allowWaived;
    if (Array.isArray(list)) this.allowWaived = list.filter((x): x is string => typeof x === 'string').map((x) => x.toUpperCase());
  }

  listen(): void {
    const c = this.connection;
    c.onInitialize((params): InitializeResult => {
      this.configure(params.initializationOptions);
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
        },
        serverInfo: { name: 'qpc', version: '0.1.0' },
      };
    });

    c.onDidOpenTextDocument(
      this.guard('didOpen', undefined, (p) => {
        const { uri, languageId, version, text } = p.textDocument;
        this.docs.set(uri, TextDocument.create(uri, languageId, version, text));
        const fsPath = this.pathOf(uri);
        this.pathOfUri.set(uri, fsPath);
        this.uriOfPath.set(fsPath, uri);
        this.schedule(uri);
      }),
    );
    c.onDidChangeTextDocument(
      this.guard('didChange', undefined, (p) => {
        const doc = this.docs.get(p.textDocument.uri);
        if (!doc) return;
        this.docs.set(p.textDocument.uri, TextDocument.update(doc, p.contentChanges, p.textDocument.version));
        this.moveDiagnostics(p.textDocument.uri, p.contentChanges);
        this.schedule(p.textDocument.uri);
      }),
    );
    c.onDidSaveTextDocument(
      this.guard('didSave', undefined, (p) => {
        // Other open policies may import the saved file from disk: check them all again.
        this.analyses.clear();
        for (const uri of this.docs.keys()) this.dirty.add(uri);
        this.schedule(p.textDocument.uri);
      }),
    );
    c.onDidChangeWatchedFiles(
      this.guard('didChangeWatchedFiles', undefined, () => {
        // A policy file changed on disk (an import nobody has open): check every open policy again.
        this.analyses.clear();
        for (const uri of this.docs.keys()) this.dirty.add(uri);
        this.schedule(undefined);
      }),
    );
    c.onDidCloseTextDocument(
      this.guard('didClose', undefined, (p) => {
        const uri = p.textDocument.uri;
        this.docs.delete(uri);
        const fsPath = this.pathOfUri.get(uri);
        if (fsPath) this.uriOfPath.delete(fsPath);
        this.pathOfUri.delete(uri);
        this.analyses.delete(uri);
        this.lastProgram.delete(uri);
        this.contributions.delete(uri);
        this.dirty.delete(uri);
        // Policies importing it now read it from disk.
        for (const u of this.docs.keys()) this.dirty.add(u);
        this.analyses.clear();
        this.publish();
        this.schedule(undefined);
      }),
    );

    c.onHover(
      this.guard('hover', null, (p) => {
        const doc = this.docs.get(p.textDocument.uri);
        if (!doc) return null;
        const result = this.analysis(this.entryFor(p.textDocument.uri), 'all');
        const value = hover(result, this.pathOf(p.textDocument.uri), doc.getText(), doc.offsetAt(p.position));
        return value ? { contents: { kind: 'markdown', value } } : null;
      }),
    );
    c.onDefinition(
      this.guard('definition', [], (p) => {
        const at = this.at(p.textDocument.uri, p.position);
        return at ? definition(at.program, at.file, at.offset, this.uriOf) : [];
      }),
    );
    c.onReferences(
      this.guard('references', [], (p) => {
        const at = this.at(p.textDocument.uri, p.position);
        return at ? references(at.program, at.file, at.offset, p.context.includeDeclaration, this.uriOf) : [];
      }),
    );
    c.onPrepareRename((p) => {
      try {
        const at = this.at(p.textDocument.uri, p.position);
        if (!at) return null;
        const o = renamable(at.program, at.file, at.offset);
        if (typeof o === 'string') return nameAt(at.program, at.file, at.offset) ? new ResponseError(ErrorCodes.InvalidRequest, o) : null;
        return toRange(o.span);
      } catch (e) {
        this.logFailure('prepareRename', e);
        return null;
      }
    });
    c.onRenameRequest((p) => {
      try {
        const at = this.at(p.textDocument.uri, p.position);
        if (!at) return null;
        const edit = rename(at.program, at.file, at.offset, p.newName, this.uriOf);
        if (typeof edit === 'string') return new ResponseError(ErrorCodes.InvalidRequest, edit);
        return edit;
      } catch (e) {
        this.logFailure('rename', e);
        return null;
      }
    });
    c.onCompletion(
      this.guard('completion', [], (p) => {
        const doc = this.docs.get(p.textDocument.uri);
        if (!doc) return [];
        const entry = this.entryFor(p.textDocument.uri);
        const result = this.analysis(entry, 'bind');
        const program = result?.program ?? this.lastProgram.get(entry);
        return completion(program, doc.getText(), doc.offsetAt(p.position));
      }),
    );
    c.onDocumentSymbol(
      this.guard('documentSymbol', [], (p) => {
        const doc = this.docs.get(p.textDocument.uri);
        if (!doc) return [];
        const ast = parseFile(new SourceFile(this.pathOf(p.textDocument.uri), doc.getText())).ast;
        return ast ? documentSymbols(ast) : [];
      }),
    );
    c.onDocumentFormatting(
      this.guard('formatting', [], (p) => {
        const doc = this.docs.get(p.textDocument.uri);
        if (!doc) return [];
        const text = doc.getText();
        const r = format(this.pathOf(p.textDocument.uri), text);
        if (r.text === undefined || r.text === text) return [];
        return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(text.length) }, newText: r.text }];
      }),
    );
    c.onCodeAction(
      this.guard('codeAction', [], (p) => {
        const actions: CodeAction[] = [];
        for (const d of p.context.diagnostics) {
          const fixes = (d.data as { fixes?: LspFix[] } | undefined)?.fixes;
          if (!Array.isArray(fixes)) continue;
          for (const f of fixes) {
            const changes: Record<string, { range: LspDiagnostic['range']; newText: string }[]> = {};
            for (const e of f.edits) (changes[e.uri] ??= []).push({ range: e.range, newText: e.newText });
            actions.push({ title: f.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: fixes.length === 1, edit: { changes } });
          }
        }
        return actions;
      }),
    );
    c.onShutdown(() => this.stop());
    c.listen();
  }

  /** The program and offset for a request on a document (binding is enough for names). */
  private at(uri: string, position: Position): { program: Program; file: string; offset: number } | undefined {
    const doc = this.docs.get(uri);
    if (!doc) return undefined;
    const program = this.analysis(this.entryFor(uri), 'bind')?.program;
    return program ? { program, file: this.pathOf(uri), offset: doc.offsetAt(position) } : undefined;
  }

  // ---------------------------------------------------------------- diagnostics

  /** Keeps the previous analysis findings of a document in place across an edit, until the next check replaces them. */
  private moveDiagnostics(uri: string, changes: readonly TextDocumentContentChangeEvent[]): void {
    for (const byUri of this.contributions.values()) {
      const list = byUri.get(uri);
      if (!list) continue;
      const moved: LspDiagnostic[] = [];
      for (const d of list) {
        let start: Position | undefined = d.range.start;
        let end: Position | undefined = d.range.end;
        for (const ch of changes) {
          start = start && movePosition(start, ch);
          end = end && movePosition(end, ch);
        }
        if (start && end) moved.push({ ...d, range: { start, end } });
      }
      byUri.set(uri, moved);
    }
  }

  private schedule(uri: string | undefined): void {
    if (this.closed) return;
    if (uri) {
      this.dirty.add(uri);
      // Open policies that import the document read its buffer: check them again too.
      const p = this.pathOf(uri);
      for (const [u, a] of this.analyses) if (u !== uri && a.result.sources.has(p)) this.dirty.add(u);
    }
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.quickPass(), this.debounceMs);
  }

  /** Step one: load and bind the changed documents and publish at once. */
  private quickPass(): void {
    this.timer = undefined;
    const generation = this.generation;
    try {
      const entries = new Set([...this.dirty].filter((u) => this.docs.has(u)).map((u) => this.entryFor(u)));
      this.dirty.clear();
      for (const uri of entries) this.dirty.add(uri);
      for (const uri of entries) {
        const result = this.analysis(uri, 'bind');
        if (!result) continue;
        const fresh = toLspDiagnostics(result, this.pathOf(uri), this.uriOf);
        const complete = this.analyses.get(uri)?.level === 'all';
        if (!complete) {
          // Analysis and target findings (QP3xxx, QP4xxx) and unused waivers (QP2021, known only after the analysis) of the previous whole check, moved with the edits, until the new one is done.
          for (const [u, list] of this.contributions.get(uri) ?? []) {
            const kept = list.filter((d) => typeof d.code === 'string' && (d.code.startsWith('QP3') || d.code.startsWith('QP4') || d.code === 'QP2021'));
            if (kept.length) fresh.set(u, [...(fresh.get(u) ?? []), ...kept]);
          }
        }
        this.contributions.set(uri, fresh);
      }
      this.publish();
    } catch (e) {
      this.logFailure('checking', e);
    }
    setImmediate(() => this.fullPass(generation));
  }

  /** Step two: the whole check of every document still waiting, one per turn of the event loop so that new edits and requests come first. */
  private fullPass(generation: number): void {
    if (generation !== this.generation) return;
    const uri = [...this.dirty].find((u) => this.docs.has(u));
    if (uri === undefined) {
      this.dirty.clear();
      return;
    }
    this.dirty.delete(uri);
    try {
      const result = this.analysis(uri, 'all');
      if (result) this.contributions.set(uri, toLspDiagnostics(result, this.pathOf(uri), this.uriOf));
      // The diagnostics of the open documents the check covered are sent even when unchanged: the client learns that the whole check is done.
      const covered = new Set([...this.docs.keys()].filter((u) => u === uri || result?.sources.has(this.pathOf(u))));
      this.publish(covered);
    } catch (e) {
      this.logFailure('checking', e);
    }
    setImmediate(() => this.fullPass(generation));
  }

  /** Sends the union of every entry's diagnostics per URI, where it changed; clears URIs nothing reports on any more. */
  private publish(force: ReadonlySet<string> = new Set()): void {
    const byUri = new Map<string, LspDiagnostic[]>();
    for (const [entry, contribution] of this.contributions) {
      // A document imported by another open one is covered by that one's check; its own no longer counts.
      if (!this.docs.has(entry) || this.entryFor(entry) !== entry) continue;
      for (const [uri, list] of contribution) {
        const all = byUri.get(uri) ?? [];
        const seen = new Set(all.map((d) => JSON.stringify([d.code, d.range, d.message])));
        for (const d of list) {
          const k = JSON.stringify([d.code, d.range, d.message]);
          if (!seen.has(k)) all.push(d), seen.add(k);
        }
        byUri.set(uri, all);
      }
    }
    for (const uri of this.published.keys()) if (!byUri.has(uri)) byUri.set(uri, []);
    for (const uri of force) if (!byUri.has(uri)) byUri.set(uri, []);
    for (const [uri, diagnostics] of byUri) {
      const text = JSON.stringify(diagnostics);
      if (this.published.get(uri) === text && !force.has(uri)) continue;
      if (diagnostics.length === 0) this.published.delete(uri);
      else this.published.set(uri, text);
      const doc = this.docs.get(uri);
      this.send(() => this.connection.sendDiagnostics({ uri, ...(doc ? { version: doc.version } : {}), diagnostics }));
    }
  }
}
