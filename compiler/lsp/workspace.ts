/**
 * The language server's state, without a connection: the open documents,
 * the check of each, the diagnostics published, and one handler per
 * request. `server.ts` moves LSP messages to and from it; tests drive it
 * directly.
 *
 * Every handler is made by `handler`, which names the stage its answer
 * needs: `text` (the document's text: formatting, code actions), `parse`
 * (the document's own syntax tree: the outline), `bind` (the load and bind
 * stages of the policy set that covers the document: names, completion),
 * `all` (the whole check: hover shows the analysis). A request never waits
 * for a later stage than it names, and one that throws is logged and
 * answered with its fallback.
 *
 * Diagnostics come in two steps after a short pause in typing. First the
 * load and bind stages (syntax, names, items, rules: what typing breaks),
 * published at once together with the previous analysis findings moved with
 * the edit; then the whole check (topology, qrexec, SOCKS), which on a large
 * policy takes longer and replaces them.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  ErrorCodes,
  ResponseError,
  type CodeAction,
  type CodeActionParams,
  type CompletionItem,
  type CompletionParams,
  type DefinitionParams,
  type Diagnostic as LspDiagnostic,
  type DidChangeTextDocumentParams,
  type DidCloseTextDocumentParams,
  type DidOpenTextDocumentParams,
  type DidSaveTextDocumentParams,
  type DocumentFormattingParams,
  type DocumentSymbol,
  type DocumentSymbolParams,
  type Hover,
  type HoverParams,
  type Location,
  type Position,
  type PrepareRenameParams,
  type PublishDiagnosticsParams,
  type Range,
  type ReferenceParams,
  type RenameParams,
  type TextDocumentContentChangeEvent,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { check, continueCheck, format, nodeHost, overlayHost, parseFile, SourceFile, type CheckResult, type CompilerHost, type PolicyFile, type Program } from '../index.js';
import { completion, definition, documentSymbols, hover, nameAt, realPath, references, renamable, rename, toLspDiagnostics, toRange, type LspFix, type UriOf } from './features.js';

/** What a request's answer needs, from least to most. */
export type Stage = 'text' | 'parse' | 'bind' | 'all';

/** What a handler gets for the document of its request, up to the stage it declared. */
export interface At {
  readonly uri: string;
  readonly doc: TextDocument;
  /** The compiler's path of the document. */
  readonly file: string;
  /** `parse` and later: the document's own syntax tree, when it parses. */
  readonly ast?: PolicyFile;
  /** `bind` and later: the check of the policy set covering the document. */
  readonly result?: CheckResult;
  /** `bind` and later: its bound program (at `bind`, the last one bound while the text does not bind). */
  readonly program?: Program;
}

export interface WorkspaceOptions {
  /** Where diagnostics go (the connection's `sendDiagnostics`). */
  readonly publish?: (params: PublishDiagnosticsParams) => void;
  /** Where failures are logged (the client's log). */
  readonly log?: (message: string) => void;
  /** Pause after the last change before checking, in milliseconds; `undefined` checks only when `flush` is called. */
  readonly debounceMs?: number;
  /** The files on disk under the open buffers (tests pass an in-memory host). */
  readonly host?: CompilerHost;
}

interface Analysis {
  /** What the result was computed from: the versions of the open documents it read. */
  readonly key: string;
  readonly level: 'bind' | 'all';
  readonly result: CheckResult;
}

/** Whether a diagnostic comes of the analysis, known only after the whole check: kept, moved, until the next one replaces it. */
function ofAnalysis(d: LspDiagnostic): boolean {
  // Found by the graph or target stage (the pipeline records the stage on each diagnostic), unused waivers included.
  const stage = (d.data as { stage?: string } | undefined)?.stage;
  return stage === 'graph' || stage === 'target';
}

function rangeBefore(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** Moves a position through one edit of the text; undefined when the edit replaced it. */
export function movePosition(p: Position, change: TextDocumentContentChangeEvent): Position | undefined {
  if (!('range' in change)) return undefined;
  const { start, end } = change.range;
  if (rangeBefore(p, start) || (p.line === start.line && p.character === start.character && rangeBefore(start, end))) return p;
  if (rangeBefore(p, end)) return undefined;
  const lines = change.text.split('\n');
  const newEndLine = start.line + lines.length - 1;
  const newEndChar = lines.length === 1 ? start.character + lines[0]!.length : lines[lines.length - 1]!.length;
  if (p.line === end.line) return { line: newEndLine, character: newEndChar + (p.character - end.character) };
  return { line: p.line + (newEndLine - end.line), character: p.character };
}

export class Workspace {
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
  private stopped = false;
  /**
   * Codes whose explicit waivers count, from the client's initialization
   * option `allowWaived` (as `--allow-waived` on the command line). Without
   * it a waived critical finding shows as the error CI reports.
   */
  private allowWaived: readonly string[] = [];

  constructor(private readonly options: WorkspaceOptions = {}) {}

  /** Maps a compiler path to a URI: open documents keep the URI the client gave. */
  readonly uriOf: UriOf = (file) => this.uriOfPath.get(file) ?? pathToFileURL(realPath(file)).href;

  /** The compiler's path of a URI. */
  pathOf(uri: string): string {
    const known = this.pathOfUri.get(uri);
    if (known) return known;
    if (uri.startsWith('file:')) {
      try {
        return path.normalize(fileURLToPath(uri));
      } catch {
        return path.join(path.sep, 'untitled', encodeURIComponent(uri));
      }
    }
    // An unsaved buffer (`untitled:`): a path of its own, so relative imports resolve nowhere.
    return path.join(path.sep, 'untitled', encodeURIComponent(uri) + (uri.endsWith('.qpol') ? '' : '.qpol'));
  }

  /** The open document of a URI. */
  document(uri: string): TextDocument | undefined {
    return this.docs.get(uri);
  }

  /** Reads the client's initialization options: `allowWaived`, a list of codes. */
  configure(options: unknown): void {
    const list = (options as { allowWaived?: unknown } | null | undefined)?.allowWaived;
    if (Array.isArray(list)) this.allowWaived = list.filter((x): x is string => typeof x === 'string').map((x) => x.toUpperCase());
  }

  /** Stops checking (the connection is gone, or shut down); requests are still answered. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private host(): CompilerHost {
    const files = new Map<string, string>();
    for (const [uri, doc] of this.docs) files.set(this.pathOf(uri), doc.getText());
    return overlayHost(files, this.options.host ?? nodeHost);
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
  entryFor(uri: string): string {
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

  /** A current check of an open document as entry, up to a stage, computing it when needed. */
  analysis(uri: string, level: 'bind' | 'all'): CheckResult | undefined {
    if (!this.docs.has(uri)) return undefined;
    const key = this.keyOf(uri);
    const a = this.analyses.get(uri);
    if (a && a.key === key && (a.level === 'all' || level === 'bind')) return a.result;
    // The whole check goes on from this text's load-and-bind result rather than parsing again.
    const opts = { host: this.host(), allowWaived: this.allowWaived };
    const result = a && a.key === key && a.result.bound ? continueCheck(a.result, opts) : check(this.pathOf(uri), { ...opts, until: level });
    // A check that stopped at binding with nothing to go on from (no program, or errors the analysis cannot contain) is what the whole check would give.
    const complete = level === 'all' || !result.bound;
    this.analyses.set(uri, { key, level: complete ? 'all' : 'bind', result });
    if (result.program) this.lastProgram.set(uri, result.program);
    return result;
  }

  private logFailure(what: string, e: unknown): void {
    this.options.log?.(`qpc: ${what} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }

  /**
   * The one handler wrapper: finds the document of the request, brings it
   * to `stage` and no further, and calls `fn`; without the document, or
   * when `fn` throws (logged), the answer is `fallback`.
   */
  handler<P extends { textDocument: { uri: string } }, R>(name: string, stage: Stage, fallback: R, fn: (at: At, params: P) => R): (params: P) => R {
    return (params: P) => {
      try {
        const uri = params.textDocument.uri;
        const doc = this.docs.get(uri);
        if (!doc) return fallback;
        const file = this.pathOf(uri);
        let at: At = { uri, doc, file };
        if (stage === 'parse') {
          const ast = parseFile(new SourceFile(file, doc.getText())).ast;
          at = { ...at, ...(ast ? { ast } : {}) };
        } else if (stage === 'bind' || stage === 'all') {
          const entry = this.entryFor(uri);
          const result = this.analysis(entry, stage);
          const program = result?.program ?? (stage === 'bind' ? this.lastProgram.get(entry) : undefined);
          at = { ...at, ...(result ? { result } : {}), ...(program ? { program } : {}) };
        }
        return fn(at, params);
      } catch (e) {
        this.logFailure(name, e);
        return fallback;
      }
    };
  }

  /** A notification handler: a throw is logged. */
  private notification<P>(name: string, fn: (params: P) => void): (params: P) => void {
    return (params: P) => {
      try {
        fn(params);
      } catch (e) {
        this.logFailure(name, e);
      }
    };
  }

  // ---------------------------------------------------------------- documents

  readonly didOpen = this.notification('didOpen', (p: DidOpenTextDocumentParams) => {
    const { uri, languageId, version, text } = p.textDocument;
    this.docs.set(uri, TextDocument.create(uri, languageId, version, text));
    const fsPath = this.pathOf(uri);
    this.pathOfUri.set(uri, fsPath);
    this.uriOfPath.set(fsPath, uri);
    this.schedule(uri);
  });

  readonly didChange = this.notification('didChange', (p: DidChangeTextDocumentParams) => {
    const doc = this.docs.get(p.textDocument.uri);
    if (!doc) return;
    this.docs.set(p.textDocument.uri, TextDocument.update(doc, p.contentChanges, p.textDocument.version));
    this.moveDiagnostics(p.textDocument.uri, p.contentChanges);
    this.schedule(p.textDocument.uri);
  });

  readonly didSave = this.notification('didSave', (p: DidSaveTextDocumentParams) => {
    // Other open policies may import the saved file from disk: check them all again.
    this.analyses.clear();
    for (const uri of this.docs.keys()) this.dirty.add(uri);
    this.schedule(p.textDocument.uri);
  });

  /** A policy file changed on disk (an import nobody has open): check every open policy again. */
  readonly didChangeWatchedFiles = this.notification('didChangeWatchedFiles', () => {
    this.analyses.clear();
    for (const uri of this.docs.keys()) this.dirty.add(uri);
    this.schedule(undefined);
  });

  readonly didClose = this.notification('didClose', (p: DidCloseTextDocumentParams) => {
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
  });

  // ---------------------------------------------------------------- requests

  readonly hover = this.handler('hover', 'all', null, (at, p: HoverParams): Hover | null => {
    const value = hover(at.result, at.file, at.doc.getText(), at.doc.offsetAt(p.position));
    return value ? { contents: { kind: 'markdown', value } } : null;
  });

  readonly definition = this.handler('definition', 'bind', [], (at, p: DefinitionParams): Location[] =>
    at.result?.program ? definition(at.result.program, at.file, at.doc.offsetAt(p.position), this.uriOf) : [],
  );

  readonly references = this.handler('references', 'bind', [], (at, p: ReferenceParams): Location[] =>
    at.result?.program ? references(at.result.program, at.file, at.doc.offsetAt(p.position), p.context.includeDeclaration, this.uriOf) : [],
  );

  readonly prepareRename = this.handler('prepareRename', 'bind', null, (at, p: PrepareRenameParams): Range | ResponseError<void> | null => {
    const program = at.result?.program;
    if (!program) return null;
    const offset = at.doc.offsetAt(p.position);
    const o = renamable(program, at.file, offset);
    if (typeof o === 'string') return nameAt(program, at.file, offset) ? new ResponseError(ErrorCodes.InvalidRequest, o) : null;
    return toRange(o.span);
  });

  readonly rename = this.handler('rename', 'bind', null, (at, p: RenameParams): WorkspaceEdit | ResponseError<void> | null => {
    const program = at.result?.program;
    if (!program) return null;
    const edit = rename(program, at.file, at.doc.offsetAt(p.position), p.newName, this.uriOf);
    return typeof edit === 'string' ? new ResponseError(ErrorCodes.InvalidRequest, edit) : edit;
  });

  /** Completion goes on from the last program bound while the text does not bind. */
  readonly completion = this.handler('completion', 'bind', [], (at, p: CompletionParams): CompletionItem[] => completion(at.program, at.doc.getText(), at.doc.offsetAt(p.position)));

  readonly documentSymbol = this.handler('documentSymbol', 'parse', [], (at, _p: DocumentSymbolParams): DocumentSymbol[] => (at.ast ? documentSymbols(at.ast) : []));

  readonly formatting = this.handler('formatting', 'text', [], (at, _p: DocumentFormattingParams): TextEdit[] => {
    const text = at.doc.getText();
    const r = format(at.file, text);
    if (r.text === undefined || r.text === text) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: at.doc.positionAt(text.length) }, newText: r.text }];
  });

  /** The fixes the diagnostics carry, as quick fixes. */
  readonly codeAction = this.handler('codeAction', 'text', [], (_at, p: CodeActionParams): CodeAction[] => {
    const actions: CodeAction[] = [];
    for (const d of p.context.diagnostics) {
      const fixes = (d.data as { fixes?: LspFix[] } | undefined)?.fixes;
      if (!Array.isArray(fixes)) continue;
      for (const f of fixes) {
        const changes: Record<string, TextEdit[]> = {};
        for (const e of f.edits) (changes[e.uri] ??= []).push({ range: e.range, newText: e.newText });
        actions.push({ title: f.title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: fixes.length === 1, edit: { changes } });
      }
    }
    return actions;
  });

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
    if (this.stopped) return;
    if (uri) {
      this.dirty.add(uri);
      // Open policies that import the document read its buffer: check them again too.
      const p = this.pathOf(uri);
      for (const [u, a] of this.analyses) if (u !== uri && a.result.sources.has(p)) this.dirty.add(u);
    }
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ms = this.options.debounceMs;
    if (ms === undefined) return;
    const generation = this.generation;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.quickPass();
      setImmediate(() => this.fullPass(generation));
    }, ms);
  }

  /** Checks every document waiting, both steps, now (tests; a workspace without a pause). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.quickPass();
    while (this.fullStep()) {
      // one document per step
    }
  }

  /** Step one: load and bind the changed documents and publish at once. */
  quickPass(): void {
    try {
      const entries = new Set([...this.dirty].filter((u) => this.docs.has(u)).map((u) => this.entryFor(u)));
      this.dirty.clear();
      for (const uri of entries) this.dirty.add(uri);
      for (const uri of entries) {
        const result = this.analysis(uri, 'bind');
        if (!result) continue;
        const fresh = toLspDiagnostics(result, this.pathOf(uri), this.uriOf);
        if (this.analyses.get(uri)?.level !== 'all') {
          // The previous whole check's findings, moved with the edits, until the new one is done.
          for (const [u, list] of this.contributions.get(uri) ?? []) {
            const kept = list.filter(ofAnalysis);
            if (kept.length) fresh.set(u, [...(fresh.get(u) ?? []), ...kept]);
          }
        }
        this.contributions.set(uri, fresh);
      }
      this.publish();
    } catch (e) {
      this.logFailure('checking', e);
    }
  }

  /** Step two: the whole check of every document still waiting, one per turn of the event loop so that new edits and requests come first. */
  private fullPass(generation: number): void {
    if (generation !== this.generation || this.stopped) return;
    if (this.fullStep()) setImmediate(() => this.fullPass(generation));
  }

  /** The whole check of one waiting document; whether one was waiting. */
  private fullStep(): boolean {
    const uri = [...this.dirty].find((u) => this.docs.has(u));
    if (uri === undefined) {
      this.dirty.clear();
      return false;
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
    return true;
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
      if (!this.stopped) this.options.publish?.({ uri, ...(doc ? { version: doc.version } : {}), diagnostics });
    }
  }
}
