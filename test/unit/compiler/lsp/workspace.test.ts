/**
 * The language server's workspace, driven directly without a connection:
 * documents in, diagnostics and answers out; each request brings its
 * document only to the stage it declares.
 */
import test from 'ava';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PublishDiagnosticsParams } from 'vscode-languageserver/node';
import { itemsByForm, keywords, nodeHost, parseFile, SourceFile, statementWords, type CompilerHost } from '../../../../compiler/index.js';
import { Workspace, movePosition } from '../../../../compiler/lsp/workspace.js';
import { positionOf } from './client.js';

const DIR = path.join(path.sep, 'ws');
const MAIN = path.join(DIR, 'main.qpol');
const MAIN_URI = pathToFileURL(MAIN).href;

const TEXT = `use "qubes"
template debian-12-xfce
identity work {
  network clearnet via sys-firewall
  label blue
  disposable work-dvm
}
disposable work-dvm in work { template debian-12-xfce }
qube work-web in work { template debian-12-xfce }
allow qubes.Filecopy from work-web to @dispvm:work-dvm
allow qubes.Filecopy from work-web to vault
`;

/** A host over the standard library on disk that counts what is read, by path. */
function countingHost(files: Record<string, string> = {}): { host: CompilerHost; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    host: {
      readFile(p, options) {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        const t = files[p];
        if (t !== undefined) return t;
        if (p.startsWith(DIR + path.sep)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return nodeHost.readFile(p, options);
      },
    },
  };
}

function workspace(files: Record<string, string> = {}): { ws: Workspace; published: PublishDiagnosticsParams[]; logs: string[]; reads: Map<string, number> } {
  const published: PublishDiagnosticsParams[] = [];
  const logs: string[] = [];
  const { host, reads } = countingHost(files);
  const ws = new Workspace({ host, publish: (p) => published.push(p), log: (m) => logs.push(m) });
  return { ws, published, logs, reads };
}

function open(ws: Workspace, uri: string, text: string): void {
  ws.didOpen({ textDocument: { uri, languageId: 'qpol', version: 1, text } });
}

const doc = { textDocument: { uri: MAIN_URI } };

test('without a connection: an open document is checked on flush and its diagnostics published', (t) => {
  const { ws, published } = workspace();
  open(ws, MAIN_URI, TEXT);
  t.is(published.length, 0, 'nothing is checked before flush without a pause configured');
  ws.flush();
  const last = published.filter((p) => p.uri === MAIN_URI).at(-1)!;
  t.is(last.version, 1);
  const unknown = last.diagnostics.find((d) => d.code === 'QP2001');
  t.truthy(unknown, JSON.stringify(last.diagnostics.map((d) => d.code)));
  t.deepEqual(unknown!.range.start, positionOf(TEXT, 'vault'));
});

test('each request goes only as far as the stage it declares', (t) => {
  const { ws, reads } = workspace();
  open(ws, MAIN_URI, TEXT);
  const lock = `${MAIN}.lock`;
  // `parse`: the outline reads nothing but the buffer.
  const outline = ws.documentSymbol(doc);
  t.true(outline.some((s) => s.name === 'work-web'));
  t.is(reads.size, 0);
  // `bind`: names need the policy set loaded and bound (loading reads the lock file once, with the policy), not the analysis.
  const defs = ws.definition({ ...doc, position: positionOf(TEXT, 'work-dvm', 2, 1) });
  t.deepEqual(defs.map((l) => l.range.start), [positionOf(TEXT, 'work-dvm', 1)]);
  t.is(reads.get(lock), 1);
  // `all`: hover shows the analysis.
  const h = ws.hover({ ...doc, position: positionOf(TEXT, 'work-web', 0, 1) });
  t.regex(JSON.stringify(h), /network: /);
  t.is(reads.get(lock), 1);
  // Both are kept for this version of the text.
  ws.hover({ ...doc, position: positionOf(TEXT, 'work-web', 0, 1) });
  ws.references({ ...doc, position: positionOf(TEXT, 'work', 0, 1), context: { includeDeclaration: true } });
  t.is(reads.get(lock), 1);
});

test('references and rename come from the binder: `@dispvm:Q` and `in` included, `$whonix` spelled out', (t) => {
  const { ws } = workspace();
  open(ws, MAIN_URI, TEXT);
  const refs = ws.references({ ...doc, position: positionOf(TEXT, 'work-dvm', 0, 2), context: { includeDeclaration: true } });
  t.deepEqual(
    refs.map((l) => l.range.start),
    [positionOf(TEXT, 'work-dvm', 1), positionOf(TEXT, 'work-dvm', 0), positionOf(TEXT, 'work-dvm', 2)],
  );
  // Exactly the name of `@dispvm:work-dvm`.
  const dispvm = refs[2]!.range;
  t.is(dispvm.end.character - dispvm.start.character, 'work-dvm'.length);
  const edit = ws.rename({ ...doc, position: positionOf(TEXT, 'work', 0, 1), newName: 'office' });
  t.false(edit instanceof Error);
  const changes = (edit as { changes: Record<string, unknown[]> }).changes[MAIN_URI]!;
  // identity, two `in`.
  t.is(changes.length, 3);
});

test('a document that is not open, and a handler that throws, get the fallback; the throw is logged', (t) => {
  const { ws, logs } = workspace();
  t.deepEqual(ws.definition({ textDocument: { uri: 'file:///nowhere.qpol' }, position: { line: 0, character: 0 } }), []);
  open(ws, MAIN_URI, TEXT);
  const broken = ws.handler('broken', 'text', 'fallback', () => {
    throw new Error('boom');
  });
  t.is(broken(doc), 'fallback');
  t.regex(logs.join('\n'), /qpc: broken failed: Error: boom/);
});

test('an import open in another buffer is checked through the policy that imports it', (t) => {
  const shared = path.join(DIR, 'shared.qpol');
  const sharedUri = pathToFileURL(shared).href;
  const { ws, published } = workspace();
  open(ws, MAIN_URI, `${TEXT.replace('allow qubes.Filecopy from work-web to vault\n', '')}use "./shared.qpol"\n`);
  open(ws, sharedUri, `qube b in work { template debian-12-xfce }\n`);
  ws.flush();
  t.is(ws.entryFor(sharedUri), MAIN_URI);
  // On its own the import would not know the template; through main it does.
  const forShared = published.filter((p) => p.uri === sharedUri).at(-1);
  t.truthy(forShared);
  t.deepEqual(forShared!.diagnostics.filter((d) => d.code === 'QP2001'), []);
  const defs = ws.definition({ textDocument: { uri: sharedUri }, position: { line: 0, character: 'qube b in w'.length } });
  t.is(defs[0]?.uri, MAIN_URI);
  t.deepEqual(defs[0]?.range.start, positionOf(TEXT, 'work', 0));
});

test('analysis findings stay, moved with an edit, until the next whole check', (t) => {
  const { ws, published } = workspace();
  const text = `${TEXT.replace('allow qubes.Filecopy from work-web to vault\n', '')}expect qubes.VMShell from work-web to work-dvm: allow\n`;
  open(ws, MAIN_URI, text);
  ws.flush();
  const before = published.filter((p) => p.uri === MAIN_URI).at(-1)!.diagnostics.find((d) => d.code === 'QP3035');
  t.truthy(before);
  ws.didChange({ textDocument: { uri: MAIN_URI, version: 2 }, contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '\n' }] });
  ws.quickPass();
  const quick = published.filter((p) => p.uri === MAIN_URI).at(-1)!.diagnostics.find((d) => d.code === 'QP3035');
  t.is(quick?.range.start.line, before!.range.start.line + 1);
});

test('movePosition: before, inside and after an edit', (t) => {
  const change = { range: { start: { line: 1, character: 2 }, end: { line: 1, character: 5 } }, text: 'ab\ncd' };
  t.deepEqual(movePosition({ line: 0, character: 9 }, change), { line: 0, character: 9 });
  t.is(movePosition({ line: 1, character: 3 }, change), undefined);
  t.deepEqual(movePosition({ line: 1, character: 7 }, change), { line: 2, character: 4 });
  t.deepEqual(movePosition({ line: 3, character: 1 }, change), { line: 4, character: 1 });
  t.is(movePosition({ line: 0, character: 0 }, { text: 'whole' }), undefined);
});

test('a `uuid:` token is not a name: hover shows the rule, not "not declared"', (t) => {
  const { ws } = workspace();
  const text = `settings { qubes 4.3 }\n${TEXT.replace('to vault', 'to uuid:00000000-0000-0000-0000-000000000000')}`;
  open(ws, MAIN_URI, text);
  const h = JSON.stringify(ws.hover({ ...doc, position: positionOf(text, 'uuid:', 0, 3) }));
  t.notRegex(h, /not declared/);
  t.regex(h, /\*\*allow\*\* `qubes\.Filecopy`/);
  t.deepEqual(ws.references({ ...doc, position: positionOf(text, 'uuid:', 0, 3), context: { includeDeclaration: true } }), []);
});

test('completion offers at the start of a line exactly what the parser takes there', (t) => {
  const { ws } = workspace();
  let version = 1;
  open(ws, MAIN_URI, TEXT);
  // Bound once: completion in text that does not parse goes on from this program.
  ws.flush();
  const at = (text: string, needle: string) => {
    ws.didChange({ textDocument: { uri: MAIN_URI, version: ++version }, contentChanges: [{ text }] });
    const r = ws.completion({ ...doc, position: positionOf(text, needle) });
    return r.map((c) => c.label);
  };
  const base = TEXT.replace('allow qubes.Filecopy from work-web to vault\n', '');
  t.deepEqual(at(`${base}X\n`, 'X'), [...keywords.statement]);
  t.deepEqual(at(`${base}settings {\n  X\n}\n`, 'X'), [...keywords.setting]);
  t.deepEqual(at(`${base}policy-file 40-x {\n  X\n}\n`, 'X'), [...keywords.rule]);
  t.deepEqual(at(`${base}identity y {\n  X\n}\n`, 'X'), [...itemsByForm.identity]);
  t.deepEqual(at(`${base}gateway g { # a { in a comment\n  label "{"\n  X\n}\n`, 'X'), [...itemsByForm.gateway]);
  // An `amend` takes the items of the form it amends.
  t.deepEqual(at(`${base}amend work-dvm {\n  X\n}\n`, 'X'), [...itemsByForm.disposable]);
  t.deepEqual(at(`${base}qube q in work {\n  app firefox {\n    X\n  }\n}\n`, 'X'), [...statementWords.app]);
  t.deepEqual(at(`${base}qube q in work {\n  app firefox { socks dedicated }\n  X\n}\n`, 'X'), [...itemsByForm.qube]);
});

test('the vocabulary: every item of every form is an item keyword, and every statement keyword parses at the top level', (t) => {
  const items = new Set(Object.values(itemsByForm).flat());
  t.deepEqual([...items].sort(), [...keywords.item].sort());
  for (const k of keywords.statement) {
    t.true(parseFile(new SourceFile('x.qpol', `${k} `)).diagnostics.every((d) => !/expected a statement/.test(d.message)), k);
  }
});
