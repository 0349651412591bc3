/**
 * What the language server answers, as pure functions of a checked policy
 * set (`check()`'s result) and the text of one document: diagnostics in LSP
 * form with their fixes, hover, definition, references, rename, completion,
 * document symbols. The server (`server.ts`) only moves these over the wire.
 * Positions are LSP's: 0-based lines, UTF-16 columns, the same units as
 * `Span` (source.ts), so no conversion of code units is needed.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CompletionItemKind,
  DiagnosticSeverity,
  SymbolKind,
  type CompletionItem,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol,
  type Location,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { explain, type CheckResult, type Diagnostic, standardLibraryDir, lastItem, type Decl, type Program, type Reference, type SourceFile, type Span, qubeLabels, qubeNameSyntax, type DeclKind, type Declaration, type Endpoint, itemsByForm, keywords, statementWords, type PolicyFile, type Rule, type Statement, type Word, showPath, kindWords, substitute, decisionText, queryStates, ruleText, ruleWhere, acceptedIn, isKeyword, keywordTokens, token } from '../index.js';
import { definitionOf, occurrenceAt, referencesOf } from './symbols.js';

// ---------------------------------------------------------------- places

/** Where a display path of the compiler lives: its own path, or the standard library directory for `policies/…`. */
export function realPath(file: string): string {
  if (!path.isAbsolute(file) && file.startsWith('policies/')) return path.join(standardLibraryDir(), file.slice('policies/'.length));
  return file;
}

/** Maps a compiler path to a document URI; open documents keep the URI the client gave. */
export type UriOf = (file: string) => string;

/** The default mapping: `file:` URIs of the real path. */
export const fileUri: UriOf = (file) => pathToFileURL(realPath(file)).href;

/** The LSP range of a span. */
export function toRange(span: Span): Range {
  return { start: { line: span.line - 1, character: span.column - 1 }, end: { line: span.endLine - 1, character: span.endColumn - 1 } };
}

function location(span: Span, uriOf: UriOf): Location {
  return { uri: uriOf(span.file), range: toRange(span) };
}

/** Whether a display path is a standard library file (read-only for rename and fixes). */
export function isStd(file: string): boolean {
  return !path.isAbsolute(file) && file.startsWith('policies/');
}

// ---------------------------------------------------------------- diagnostics

/** A fix in LSP form, carried in a diagnostic's `data` for code actions to replay. */
export interface LspFix {
  readonly title: string;
  readonly edits: readonly { readonly uri: string; readonly range: Range; readonly newText: string }[];
}

/** The fixes the compiler attached to a diagnostic, as edits of open documents (none in the standard library). */
export function fixesOf(d: Diagnostic, uriOf: UriOf): LspFix[] {
  return d.fixes
    .filter((f) => f.edits.every((e) => !isStd(e.span.file)))
    .map((f) => ({ title: f.title, edits: f.edits.map((e) => ({ uri: uriOf(e.span.file), range: toRange(e.span), newText: e.newText })) }));
}

const severities = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information } as const;

/** The message shown in the editor: the compiler's message, its label, help and notes, and a waiver's reason. */
function messageOf(d: Diagnostic): string {
  const parts = [d.message];
  if (d.label) parts.push(`(${d.label})`);
  let text = parts.join(' ');
  if (d.waivedBecause !== undefined) text += `\naccepted: ${d.waivedBecause}`;
  if (d.help) text += `\nhelp: ${d.help}`;
  for (const n of d.notes) text += `\nnote: ${n}`;
  return text;
}

/**
 * Converts the diagnostics of a check to LSP diagnostics by file. A
 * diagnostic without a place (lock file, I/O) goes to the entry file's first
 * line, so the author sees it.
 */
export function toLspDiagnostics(result: CheckResult, entry: string, uriOf: UriOf): Map<string, LspDiagnostic[]> {
  const byFile = new Map<string, LspDiagnostic[]>();
  for (const d of result.diagnostics) {
    const file = d.span?.file ?? entry;
    if (isStd(file)) continue; // the standard library is not the author's to fix; its findings show at the importing line
    const range = d.span ? toRange(d.span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const fixes = fixesOf(d, uriOf);
    const lsp: LspDiagnostic = {
      range,
      severity: severities[d.severity],
      code: d.code,
      source: 'qpc',
      message: messageOf(d),
      ...(d.related.length ? { relatedInformation: d.related.map((r) => ({ location: location(r.span, uriOf), message: r.message })) } : {}),
      ...(fixes.length || d.stage ? { data: { ...(fixes.length ? { fixes } : {}), ...(d.stage ? { stage: d.stage } : {}) } } : {}),
    };
    const uri = uriOf(file);
    const list = byFile.get(uri);
    if (list) list.push(lsp);
    else byFile.set(uri, [lsp]);
  }
  return byFile;
}

// ---------------------------------------------------------------- lookup

function fileOf(program: Program, file: string): { source: SourceFile; ast: PolicyFile; std: boolean } | undefined {
  return program.files.find((f) => f.source.path === file);
}

/** The name under the cursor, if the cursor is on one. */
export function nameAt(program: Program, file: string, offset: number): Reference | undefined {
  return occurrenceAt(program, file, offset);
}

/** Go to definition: the declaration of the name under the cursor. */
export function definition(program: Program, file: string, offset: number, uriOf: UriOf): Location[] {
  const o = nameAt(program, file, offset);
  if (!o) return [];
  const span = definitionOf(program, o.name);
  return span ? [location(span, uriOf)] : [];
}

/** Find references: every place the name under the cursor is written. */
export function references(program: Program, file: string, offset: number, includeDeclaration: boolean, uriOf: UriOf): Location[] {
  const o = nameAt(program, file, offset);
  if (!o) return [];
  return referencesOf(program, o.name, includeDeclaration).map((r) => location(r.span, uriOf));
}

/** The name under the cursor if it can be renamed from this policy, else why not. */
export function renamable(program: Program, file: string, offset: number): Reference | string {
  const o = nameAt(program, file, offset);
  if (!o) return 'there is no name here to rename';
  const decl = program.decls.get(o.name);
  if (!decl) return `\`${o.name}\` is not declared in this policy set`;
  if (decl.std) return `\`${o.name}\` is declared by the standard library, which cannot be renamed from a policy`;
  const occurrences = referencesOf(program, o.name, true);
  if (occurrences.some((r) => isStd(r.span.file))) return `the standard library refers to \`${o.name}\`, so renaming it would break it`;
  if (occurrences.some((r) => r.text !== r.name)) return `\`${o.name}\` is written with \`$whonix\` somewhere; rename those places by hand`;
  return o;
}

/** Rename: an edit of every occurrence, or a reason why the name cannot be renamed here. */
export function rename(program: Program, file: string, offset: number, newName: string, uriOf: UriOf): WorkspaceEdit | string {
  const o = renamable(program, file, offset);
  if (typeof o === 'string') return o;
  if (!qubeNameSyntax.test(newName)) return `\`${newName}\` is not a name Qubes accepts: a letter, then letters, digits, \`_\`, \`.\` or \`-\`, at most 31 characters`;
  if (newName !== o.name && program.decls.has(substitute(newName, program.settings.whonix))) return `\`${newName}\` is already declared`;
  const changes: Record<string, TextEdit[]> = {};
  for (const r of referencesOf(program, o.name, true)) (changes[uriOf(r.span.file)] ??= []).push({ range: toRange(r.span), newText: newName });
  return { changes };
}

// ---------------------------------------------------------------- hover

function code(s: string): string {
  return '`' + s + '`';
}

/** The name a word of the program is (`$whonix` replaced), as the binder recorded it. */
function nameOf(program: Program, w: Word): string {
  return program.references.site(w.span)?.name ?? w.text;
}

function declHover(result: CheckResult, program: Program, d: Decl): string {
  // Facts that depend on a declaration with an error are not what the policy says: the declaration's own words are.
  const graph = result.doubtful?.has(d.name) ? undefined : result.graph;
  const lines: string[] = [];
  const head = `**${d.form}** ${code(d.name)}`;
  if (d.form === 'identity') {
    const net = lastItem(d, 'NetworkItem');
    lines.push(head);
    if (net) lines.push(`network: ${net.mode.text}${net.via ? ` via ${code(nameOf(program, net.via))}` : ''}`);
    const label = lastItem(d, 'ValueItem', 'label');
    if (label) lines.push(`label: ${label.value.text}`);
    const disp = lastItem(d, 'RefItem', 'disposable');
    if (disp) lines.push(`disposable: ${disp.target ? code(nameOf(program, disp.target)) : 'none'}`);
    if (graph) {
      const members = graph.members(d.name);
      lines.push(`qubes: ${members.length ? members.map(code).join(', ') : '(none)'}`);
    }
  } else {
    const f = graph?.facts(d.name);
    // Without a graph (the policy, or what the declaration depends on, has binding errors) its own words still say something.
    const identity = f?.identity?.name ?? (d.node.identity ? nameOf(program, d.node.identity) : undefined);
    const tWord = lastItem(d, 'RefItem', 'template')?.target;
    const template = f?.template?.name ?? (tWord ? nameOf(program, tWord) : undefined);
    lines.push(identity ? `${head} in identity ${code(identity)}${f?.mode ? ` (${f.mode}${f.via ? ` via ${code(f.via.name)}` : ''})` : ''}` : head);
    if (template) lines.push(`template: ${code(template)}`);
    if (graph && d.form !== 'adminvm') {
      const route = graph.route(d.name);
      lines.push(`network: ${route.path.length > 1 ? showPath(route.path) : 'none'}${route.loops ? ' (a netvm loop)' : ''}`);
    }
    const label = lastItem(d, 'ValueItem', 'label') ?? (f?.identity ? lastItem(f.identity, 'ValueItem', 'label') : undefined);
    if (label) lines.push(`label: ${label.value.text}`);
    if (f?.defaultDisposable !== undefined) lines.push(`default disposable: ${f.defaultDisposable === null ? 'none' : code(f.defaultDisposable)}`);
    const socks = result.allocation?.apps.filter((a) => a.qube === d.name) ?? [];
    for (const a of socks) lines.push(`SOCKS: ${code(a.app)} → ${code(a.gateway)} port ${a.port} (${a.mode}${a.isolate.length ? `; isolate ${a.isolate.join(' ')}` : ''})`);
    if (d.form === 'template' && graph) {
      const users = graph.allFacts().filter((x) => x.template?.name === d.name).map((x) => x.decl.name);
      lines.push(`used by: ${users.length ? users.map(code).join(', ') : '(nothing)'}`);
    }
    if (d.form === 'gateway' && graph) {
      const served = graph.served(d.name);
      if (graph.isTor(d.name)) lines.push('a Tor gateway');
      lines.push(`serves: ${served.length ? served.map(code).join(', ') : '(nothing)'}`);
    }
  }
  lines.push(`declared in ${d.std ? `the standard library (${d.file})` : path.basename(d.file)}, ${kindWords[d.form]}`);
  return lines.join('  \n');
}

/** The rules of a file, with the statement that holds them. */
function rulesOf(statements: readonly Statement[]): Rule[] {
  const out: Rule[] = [];
  for (const st of statements) {
    if (st.kind === 'Rule') out.push(st);
    else if (st.kind === 'PolicyFileBlock') out.push(...st.rules);
  }
  return out;
}

/** At most this many source × target pairs are evaluated for a rule's hover. */
const MAX_PAIRS = 8;

/** Qube names an endpoint stands for in a request: a qube, an identity's qubes, or a target token. */
function requestNames(program: Program, result: CheckResult, e: Endpoint, column: 'source' | 'target'): string[] | undefined {
  const text = e.text;
  if (isKeyword(text)) {
    // A request names a qube or one of the tokens a caller may ask for (`IntendedTarget`).
    const k = token(text, program.settings.qubes);
    if (column === 'target' && text !== '*' && acceptedIn(k.kind, 'intended')) return [text];
    return undefined;
  }
  const ref = program.references.site(e.span);
  if (!ref) return undefined;
  if (ref.name === 'dom0') return column === 'target' ? ['@adminvm'] : ['dom0'];
  const d = ref.decl;
  if (!d) return undefined;
  if (d.form === 'identity') return [...(result.graph?.members(d.name) ?? [])];
  return [d.name];
}

function ruleHover(result: CheckResult, program: Program, rule: Rule): string {
  const policy = result.policy;
  const lines = [`**${rule.action}** ${code(rule.service.text + (rule.argument ? rule.argument.text : ''))} from ${code(rule.source.text)} to ${code(rule.target.text)}`];
  if (!policy) return [...lines, 'the effective decision is known once the policy has no binding errors'].join('  \n');
  if (rule.service.text === '*') return [...lines, 'applies to every service; hover a rule for one service to see decisions'].join('  \n');
  const sources = requestNames(program, result, rule.source, 'source');
  const targets = requestNames(program, result, rule.target, 'target');
  if (!sources || !targets) return [...lines, 'the source or target is a token that stands for many qubes; use `qpc query` for one request'].join('  \n');
  if (sources.length === 0 || targets.length === 0) return [...lines, 'the identity has no qubes yet'].join('  \n');
  lines.push('effective decision (complete policy, stock files included):');
  let n = 0;
  for (const s of sources) {
    for (const t of targets) {
      if (n++ >= MAX_PAIRS) {
        lines.push('…');
        return lines.join('  \n');
      }
      const request = { service: rule.service.text, argument: rule.argument?.text ?? '+', source: s, target: t };
      const { halted: d, running } = queryStates(policy, request);
      const decider = d.rule !== undefined ? policy.rules[d.rule] : undefined;
      const self = decider && decider.origin.span.file === rule.span.file && decider.origin.span.start === rule.span.start;
      const by = !decider ? 'no rule matches' : self ? 'by this rule' : `by ${code(ruleText(decider))} in ${ruleWhere(decider)}`;
      lines.push(`- ${code(s)} → ${code(t)}: **${decisionText(d)}**, ${by}${running ? `; when ${code(t)} runs: **${decisionText(running)}**` : ''}`);
    }
  }
  return lines.join('  \n');
}

/** The `QPnnnn` word at an offset of a text, if any. */
export function codeAt(text: string, offset: number): string | undefined {
  // A whole word: `QP20180` or `XQP2018` is no code.
  const re = /(?<![A-Za-z0-9_])QP\d{4}(?![A-Za-z0-9_])/gi;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (lineStart + m.index <= offset && offset <= lineStart + m.index + m[0].length) return m[0].toUpperCase();
  }
  return undefined;
}

/** Hover: a named thing, a rule's effective decision, or a code's explanation. */
export function hover(result: CheckResult | undefined, file: string, text: string, offset: number): string | undefined {
  const c = codeAt(text, offset);
  if (c) {
    const e = explain(c);
    if (e) return '```text\n' + e.trimEnd() + '\n```';
  }
  const program = result?.program;
  if (!result || !program) return undefined;
  const o = nameAt(program, file, offset);
  if (o) {
    const d = program.decls.get(o.name);
    return d ? declHover(result, program, d) : `${code(o.name)} is not declared in this policy set`;
  }
  const f = fileOf(program, file);
  if (!f) return undefined;
  const rule = rulesOf(f.ast.statements).find((r) => r.span.start <= offset && offset <= r.span.end);
  return rule ? ruleHover(result, program, rule) : undefined;
}

// ---------------------------------------------------------------- completion

/** Values of items that take one word of a closed set, offered after the statement words (`network clearnet`, `virt-mode pvh` …). */
const VALUE_WORDS = ['clearnet', 'tor', 'none', 'per-app', 'per-qube', 'dest-addr', 'dest-port', 'client-protocol', 'pvh', 'hvm', 'pv', 'pci', 'usb', 'block', 'mic', 'on', 'off'];

/** Qubes tokens of rule columns (token.ts; `@tag:`/`@type:` take a value). */
export const TOKENS = keywordTokens;

/** Services users often grant beyond those the stock policy names (Qubes split-GPG, PDF conversion, TCP forwarding). */
const COMMON_SERVICES = ['qubes.Gpg', 'qubes.GpgImportKey', 'qubes.Gpg2', 'qubes.PdfConvert', 'qubes.ConnectTCP', 'qubes.InputMouse', 'qubes.InputKeyboard', 'qubes.InputTablet', 'qubes.Filecopy', 'qubes.ClipboardPaste', 'qubes.OpenURL', 'qubes.OpenInVM', 'qubes.StartApp', 'qubes.VMShell'];

const declKinds: Record<string, CompletionItemKind> = {
  identity: CompletionItemKind.Module,
  template: CompletionItemKind.Class,
  gateway: CompletionItemKind.Interface,
  adminvm: CompletionItemKind.Constant,
};

/** The services a program's rules name (the standard library's stock policy included) and the common ones. */
export function knownServices(program: Program | undefined): string[] {
  const s = new Set(COMMON_SERVICES);
  for (const r of program?.rules ?? []) if (r.rule.service.text !== '*') s.add(r.rule.service.text);
  return [...s].sort();
}

/**
 * Completion at a cursor: what may come next by the words before it on the
 * line (a template after `template`, an identity after `in`, services after
 * `allow`, names and tokens in rule columns, keywords at the start of a line).
 * `program` may be from an earlier text when the current one does not parse.
 */
export function completion(program: Program | undefined, text: string, offset: number): CompletionItem[] {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  if (before.includes('#')) return [];
  const decls = program ? [...program.decls.values()] : [];
  const names = (forms?: readonly string[]): CompletionItem[] =>
    decls.filter((d) => !forms || forms.includes(d.form)).map((d) => ({ label: d.name, kind: declKinds[d.form] ?? CompletionItemKind.Variable, detail: kindWords[d.form] }));
  const words = (ws: readonly string[], kind: CompletionItemKind = CompletionItemKind.Keyword): CompletionItem[] => ws.map((w) => ({ label: w, kind }));
  const tokens = (): CompletionItem[] => TOKENS.map((t) => ({ label: t, kind: CompletionItemKind.Constant, detail: 'Qubes token' }));
  const services = (): CompletionItem[] => knownServices(program).map((s) => ({ label: s, kind: CompletionItemKind.Function, detail: 'qrexec service' }));
  const prev = /(?:^|[\s;{])([A-Za-z@][\w.:@$-]*)\s+[^\s]*$/.exec(before)?.[1];
  const qubeForms = ['qube', 'disposable', 'named-disposable', 'standalone', 'gateway', 'template', 'adminvm'];
  if (/@[\w:-]*$/.test(before)) return tokens();
  // `template X` or `disposable X` opening a top-level statement declares a new name: nothing to complete.
  const declaring = /^\s*\S+\s+\S*$/.test(before) && blockHead(text, lineStart) === undefined;
  switch (prev) {
    case 'template':
      return declaring ? [] : names(['template']);
    case 'netvm':
    case 'via':
      return [...names(['gateway']), ...(prev === 'netvm' ? words(['none']) : [])];
    case 'in':
      return names(['identity']);
    case 'disposable':
    case 'default-disposable':
      return declaring ? [] : [...names(['disposable']), ...words(['none'])];
    case 'amend':
      return names(qubeForms.filter((f) => f !== 'adminvm'));
    case 'label':
      return words(qubeLabels, CompletionItemKind.Color);
    case 'allow':
    case 'ask':
    case 'deny':
    case 'expect':
      return [...services(), { label: '*', kind: CompletionItemKind.Operator, detail: 'every service' }];
    case 'from':
    case 'to':
    case 'target':
    case 'targets':
    case 'default':
    case 'require':
    case 'isolated-from':
    case 'never-reaches':
    case 'on':
      return [...names(), ...(prev === 'require' || prev === 'isolated-from' || prev === 'never-reaches' || prev === 'on' ? [] : tokens())];
    case 'waive':
      return [];
    default:
      break;
  }
  if (/^\s*\S*$/.test(before)) return words(firstWords(program, blockHead(text, lineStart)));
  const inner = Object.values(statementWords).flat();
  const params = [...keywords['rule parameter'], ...keywords.expectation];
  return [...words([...new Set([...inner, ...params, ...keywords.item, ...keywords['socks mode'], ...VALUE_WORDS])]), ...names(), ...tokens()];
}

/**
 * The words that may start a line where the parser reads one: a statement
 * at the top level, else what the innermost open block takes: the items of
 * the declaration's form (of an `amend`, the form of the declaration it
 * amends), settings, rules of a `policy-file`, `socks` in an `app`.
 */
export function firstWords(program: Program | undefined, head: readonly string[] | undefined): readonly string[] {
  if (head === undefined) return keywords.statement;
  const [first, second] = head;
  switch (first) {
    case 'settings':
      return keywords.setting;
    case 'policy-file':
      return keywords.rule;
    case 'app':
      return statementWords.app;
    case 'amend': {
      const d = second === undefined ? undefined : program?.decls.get(second);
      return d && d.form in itemsByForm ? itemsByForm[d.form] : keywords.item;
    }
    default:
      return first !== undefined && first in itemsByForm ? itemsByForm[first as DeclKind] : keywords.item;
  }
}

/**
 * The words before the innermost `{` still open at `end` (on the line of
 * the `{`, after the last `;`, `{` or `}`), ignoring comments and strings;
 * undefined at the top level.
 */
export function blockHead(text: string, end: number): string[] | undefined {
  const open: number[] = [];
  let inString = false;
  let inComment = false;
  let code = '';
  for (let i = 0; i < end; i++) {
    const ch = text[i]!;
    if (inComment) {
      if (ch === '\n') inComment = false;
      else continue;
    } else if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"' || ch === '\n') inString = false;
      code += ch === '\n' ? ch : ' ';
      continue;
    } else if (ch === '#') {
      inComment = true;
      continue;
    } else if (ch === '"') {
      inString = true;
      code += ' ';
      continue;
    } else if (ch === '{') open.push(code.length);
    else if (ch === '}') open.pop();
    code += ch;
  }
  const at = open.at(-1);
  if (at === undefined) return undefined;
  const before = code.slice(0, at);
  const from = Math.max(before.lastIndexOf(';'), before.lastIndexOf('{'), before.lastIndexOf('}')) + 1;
  const lines = before.slice(from).split('\n').filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? '').trim().split(/\s+/).filter((w) => w !== '');
}

// ---------------------------------------------------------------- document symbols

const formKinds: Record<string, SymbolKind> = {
  adminvm: SymbolKind.Constant,
  template: SymbolKind.Class,
  gateway: SymbolKind.Interface,
  identity: SymbolKind.Namespace,
  qube: SymbolKind.Object,
  disposable: SymbolKind.Object,
  'named-disposable': SymbolKind.Object,
  standalone: SymbolKind.Object,
  amend: SymbolKind.Object,
};

function sym(name: string, detail: string, kind: SymbolKind, span: Span, selection: Span, children?: DocumentSymbol[]): DocumentSymbol {
  return { name: name || '(empty)', detail, kind, range: toRange(span), selectionRange: toRange(selection), ...(children && children.length ? { children } : {}) };
}

function ruleSymbol(r: Rule): DocumentSymbol {
  const name = `${r.action} ${r.service.text}${r.argument ? ' ' + r.argument.text : ''} from ${r.source.text} to ${r.target.text}`;
  return sym(name, 'rule', SymbolKind.Event, r.span, r.actionSpan);
}

function declSymbol(d: Declaration): DocumentSymbol {
  const apps = d.items.filter((i) => i.kind === 'AppItem').map((a) => sym(a.name.text, 'app', SymbolKind.Method, a.span, a.name.span));
  return sym(d.name.text, d.form + (d.identity ? ` in ${d.identity.text}` : ''), formKinds[d.form] ?? SymbolKind.Object, d.span, d.name.span, apps);
}

/** The outline of one parsed file. */
export function documentSymbols(ast: PolicyFile): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const st of ast.statements) {
    switch (st.kind) {
      case 'Declaration':
        out.push(declSymbol(st));
        break;
      case 'Rule':
        out.push(ruleSymbol(st));
        break;
      case 'PolicyFileBlock':
        out.push(sym(st.name.text, st.stock ? 'stock policy file' : 'policy file', SymbolKind.Module, st.span, st.name.span, st.rules.map(ruleSymbol)));
        break;
      case 'SettingsBlock':
        out.push(sym('settings', '', SymbolKind.Namespace, st.span, st.span, st.settings.map((s) => sym(s.key.text, s.value.text, SymbolKind.Property, s.span, s.key.span))));
        break;
      case 'UseStatement':
        out.push(sym(st.path.value, 'use', SymbolKind.Package, st.span, st.path.span));
        break;
      case 'Require':
        out.push(sym(`${st.subject.text} ${st.relation} ${st.object.text}`, 'require', SymbolKind.Boolean, st.span, st.subject.span));
        break;
      case 'Expect':
        out.push(sym(`${st.service.text} from ${st.source.text} to ${st.target.text}: ${st.decision}`, 'expect', SymbolKind.Boolean, st.span, st.service.span));
        break;
      case 'Waive':
        out.push(sym(`${st.code.text} on ${st.subject.text}`, 'waive', SymbolKind.Key, st.span, st.code.span));
        break;
    }
  }
  return out;
}
