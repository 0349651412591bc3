/**
 * A stand-in for the `vscode` module, as much of it as vscode-languageclient
 * 9.0.1 touches when it loads, starts a stdio server, synchronizes documents,
 * receives diagnostics and stops — so the extension's bundle runs in Node.
 * The classes the client's modules extend at load (completion items, code
 * actions, code lenses …) are present and empty: the server's features that
 * would build them are not exercised here. What the extension and the client
 * did is kept for the test: the output channel's text, the messages shown,
 * the diagnostics collections.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  constructor(private readonly onDispose: () => unknown) {}
  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => listener.call(thisArgs, e);
    this.listeners.push(bound);
    const d = new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== bound);
    });
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
    private readonly text: string,
  ) {}
  static parse(value: string): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
    if (!m) throw new Error(`not a URI: ${value}`);
    const uri = new Uri(m[1], m[2] ?? '', decodeURIComponent(m[3]), m[4] ?? '', m[5] ?? '', value);
    // One spelling per file, as VS Code's own `Uri` normalises it.
    return uri.scheme === 'file' ? Uri.file(uri.fsPath) : uri;
  }
  static file(fsPath: string): Uri {
    const href = pathToFileURL(fsPath).href;
    return new Uri('file', '', decodeURIComponent(new URL(href).pathname), '', '', href);
  }
  get fsPath(): string {
    if (this.scheme !== 'file') throw new Error(`no file path for ${this.text}`);
    return fileURLToPath(this.text);
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    [this.start, this.end] = typeof a === 'number' ? [new Position(a, b as number), new Position(c!, d!)] : [a, b as Position];
  }
}

export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range | Position,
  ) {}
}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}

export enum DiagnosticTag {
  Unnecessary = 1,
  Deprecated = 2,
}

export class DiagnosticRelatedInformation {
  constructor(
    readonly location: Location,
    readonly message: string,
  ) {}
}

export class Diagnostic {
  source?: string;
  code?: string | number | { value: string | number; target: Uri };
  relatedInformation?: DiagnosticRelatedInformation[];
  tags?: DiagnosticTag[];
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ) {}
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    if (this.token.isCancellationRequested) return;
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

/** Extended by the client's modules when they load; never built here. */
class Unused {}

/** The kinds the client's converters map when they are created. */
export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Refactor = new CodeActionKind('refactor');
  static readonly RefactorExtract = new CodeActionKind('refactor.extract');
  static readonly RefactorInline = new CodeActionKind('refactor.inline');
  static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
  static readonly Source = new CodeActionKind('source');
  static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
  static readonly SourceFixAll = new CodeActionKind('source.fixAll');
  constructor(readonly value: string) {}
}

/** A document open in the stand-in editor, with what the client reads of it. */
export class TextDocument {
  isClosed = false;
  readonly isDirty = false;
  readonly isUntitled: boolean;
  constructor(
    readonly uri: Uri,
    readonly languageId: string,
    readonly version: number,
    private readonly text: string,
  ) {
    this.isUntitled = uri.scheme === 'untitled';
  }
  get fileName(): string {
    return this.uri.scheme === 'file' ? this.uri.fsPath : this.uri.path;
  }
  getText(): string {
    return this.text;
  }
}

type Filter = string | { language?: string; scheme?: string; pattern?: unknown; notebookType?: string };

/** `languages.match`: 10 when a filter of the selector takes the document, else 0. */
function match(selector: Filter | readonly Filter[], doc: TextDocument): number {
  const filters: readonly Filter[] = Array.isArray(selector) ? selector : [selector as Filter];
  let best = 0;
  for (const f of filters) {
    const filter = typeof f === 'string' ? { language: f } : f;
    if (filter.pattern !== undefined || filter.notebookType !== undefined) throw new Error('the stand-in matches documents by language and scheme only');
    const ok = (filter.language === undefined || filter.language === '*' || filter.language === doc.languageId) && (filter.scheme === undefined || filter.scheme === doc.uri.scheme);
    if (ok) best = 10;
  }
  return best;
}

export class DiagnosticCollection {
  private readonly entries = new Map<string, { uri: Uri; diagnostics: readonly Diagnostic[] }>();
  disposed = false;
  /** `changed` is told the URI whose diagnostics were set or deleted. */
  constructor(
    readonly name: string | undefined,
    private readonly changed: EventEmitter<string>,
  ) {}
  set(uri: Uri, diagnostics: readonly Diagnostic[] | undefined): void {
    if (diagnostics === undefined) this.entries.delete(uri.toString());
    else this.entries.set(uri.toString(), { uri, diagnostics: [...diagnostics] });
    this.changed.fire(uri.toString());
  }
  delete(uri: Uri): void {
    this.entries.delete(uri.toString());
    this.changed.fire(uri.toString());
  }
  clear(): void {
    const uris = [...this.entries.keys()];
    this.entries.clear();
    uris.forEach((u) => this.changed.fire(u));
  }
  get(uri: Uri): readonly Diagnostic[] | undefined {
    return this.entries.get(uri.toString())?.diagnostics;
  }
  has(uri: Uri): boolean {
    return this.entries.has(uri.toString());
  }
  forEach(fn: (uri: Uri, diagnostics: readonly Diagnostic[], collection: DiagnosticCollection) => unknown): void {
    for (const e of this.entries.values()) fn(e.uri, e.diagnostics, this);
  }
  dispose(): void {
    this.disposed = true;
    this.entries.clear();
  }
}

export interface ShownMessage {
  readonly kind: 'error' | 'warning' | 'information';
  readonly text: string;
}

/** The stand-in `vscode` module and the state of its editor. */
export interface FakeVscode {
  /** What `require('vscode')` returns to the extension. */
  readonly module: Record<string, unknown>;
  /** The text written to every output channel, in order. */
  readonly output: string[];
  readonly messages: ShownMessage[];
  /** Every diagnostics collection created, in order (a client creates one when it starts). */
  readonly collections: DiagnosticCollection[];
  /** Fired with a URI whose diagnostics changed in any collection. */
  readonly onDidChangeDiagnostics: (listener: (uri: string) => unknown) => Disposable;
  /** The diagnostics of a URI in the collections not disposed, as the Problems view shows them. */
  diagnostics(uri: Uri): readonly Diagnostic[];
  /** Opens a document the way the editor does: in `workspace.textDocuments`, and announced to listeners. */
  openDocument(uri: Uri, languageId: string, text: string): TextDocument;
  /** Changes settings (full names such as `qpol.allowWaived`) and announces the change. */
  configure(values: Record<string, unknown>): void;
}

/** A stand-in `vscode` whose settings start as `settings` (full names such as `qpol.server.command`). */
export function createFakeVscode(settings: Record<string, unknown>): FakeVscode {
  const values = new Map(Object.entries(settings));
  const output: string[] = [];
  /** Commands the client registered for the server (`qpc.graph`). */
  const registeredCommands = new Set<string>();
  const messages: ShownMessage[] = [];
  const collections: DiagnosticCollection[] = [];
  const diagnosticsChanged = new EventEmitter<string>();
  const textDocuments: TextDocument[] = [];
  const opened = new EventEmitter<TextDocument>();
  const closed = new EventEmitter<TextDocument>();
  const configuration = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
  const never = new EventEmitter<never>().event;
  const show = (kind: ShownMessage['kind']) => (text: string) => {
    messages.push({ kind, text });
    return Promise.resolve(undefined);
  };
  const module = {
    version: '1.82.0',
    env: { appName: 'qpc test editor', language: 'en', openExternal: () => Promise.resolve(false) },
    Uri,
    Position,
    Range,
    Location,
    Diagnostic,
    DiagnosticSeverity,
    DiagnosticTag,
    DiagnosticRelatedInformation,
    Disposable,
    EventEmitter,
    CancellationError,
    CancellationTokenSource,
    CompletionItem: Unused,
    CodeAction: Unused,
    CodeActionKind,
    CodeLens: Unused,
    DocumentLink: Unused,
    InlayHint: Unused,
    SymbolInformation: Unused,
    CallHierarchyItem: Unused,
    TypeHierarchyItem: Unused,
    workspace: {
      workspaceFolders: undefined,
      textDocuments,
      getConfiguration(section?: string) {
        const full = (key: string) => (section ? `${section}.${key}` : key);
        return {
          get: (key: string, fallback?: unknown) => (values.has(full(key)) ? values.get(full(key)) : fallback),
          has: (key: string) => values.has(full(key)),
        };
      },
      createFileSystemWatcher: () => ({
        onDidCreate: never,
        onDidChange: never,
        onDidDelete: never,
        dispose: () => undefined,
      }),
      onDidOpenTextDocument: opened.event,
      onDidCloseTextDocument: closed.event,
      onDidChangeTextDocument: never,
      onDidSaveTextDocument: never,
      onWillSaveTextDocument: never,
      onDidChangeConfiguration: configuration.event,
      onDidChangeWorkspaceFolders: never,
      applyEdit: () => Promise.resolve(false),
    },
    // vscode-languageclient registers each command the server offers (`executeCommandProvider`).
    commands: {
      registerCommand: (id: string) => {
        registeredCommands.add(id);
        return { dispose: () => registeredCommands.delete(id) };
      },
      executeCommand: () => Promise.resolve(undefined),
    },
    window: {
      activeTextEditor: undefined,
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: never,
      createOutputChannel: (name: string) => ({
        name,
        append: (s: string) => output.push(s),
        appendLine: (s: string) => output.push(s + '\n'),
        replace: (s: string) => output.push(s),
        clear: () => undefined,
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
      }),
      showErrorMessage: show('error'),
      showWarningMessage: show('warning'),
      showInformationMessage: show('information'),
    },
    languages: {
      match,
      createDiagnosticCollection(name?: string) {
        const c = new DiagnosticCollection(name, diagnosticsChanged);
        collections.push(c);
        return c;
      },
      ...Object.fromEntries(
        [
          'registerHoverProvider',
          'registerDefinitionProvider',
          'registerReferenceProvider',
          'registerRenameProvider',
          'registerCompletionItemProvider',
          'registerDocumentSymbolProvider',
          'registerDocumentFormattingEditProvider',
          'registerCodeActionsProvider',
        ].map((name) => [name, () => new Disposable(() => undefined)]),
      ),
    },
  };
  return {
    module,
    output,
    messages,
    collections,
    onDidChangeDiagnostics: (listener) => diagnosticsChanged.event(listener),
    diagnostics: (uri) => collections.filter((c) => !c.disposed).flatMap((c) => c.get(uri) ?? []),
    openDocument(uri, languageId, text) {
      const doc = new TextDocument(uri, languageId, 1, text);
      textDocuments.push(doc);
      opened.fire(doc);
      return doc;
    },
    configure(changes) {
      for (const [k, v] of Object.entries(changes)) values.set(k, v);
      const names = Object.keys(changes);
      configuration.fire({ affectsConfiguration: (s) => names.some((n) => n === s || n.startsWith(s + '.')) });
    },
  };
}
