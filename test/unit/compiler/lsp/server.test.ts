/**
 * The language server over the protocol, in process: a client sends what an
 * editor sends (open, change, requests) and checks what comes back.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
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
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type Location,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { check, format } from '../../../../compiler/index.js';
import { overlayHost, nodeHost, standardLibraryDir } from '../../../../compiler/host.js';
import { applyEdits, marked, messageText, positionOf, startClient, tempFiles, type Client } from './client.js';

const MAIN = `use "qubes"
use "./shared.qpol"

template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }

identity work {
  network clearnet via sys-firewal
  label blue
  disposable work-dvm
}

disposable work-dvm in work { template debian-12-xfce }

qube work-web in work {
  template debian-12-xfce
  app firefox
}

qube work-mail in work { template debian-12-xfce }

# QP2001 is the code of an unknown name
allow qubes.Gpg from work-mail to vault
allow qubes.Gpg from work-mail to vault
allow qubes.Filecopy from work to keys
require work isolated-from keys
`;

/** Imported by MAIN; on disk it names a template nobody declared. */
const SHARED_ON_DISK = `identity keys { network none; label black }
qube vault in keys { template debian-12-minimal }
`;
const SHARED_FIXED = `identity keys { network none; label black }
qube vault in keys { template debian-12-xfce }
`;

function hoverText(h: Hover | null): string {
  if (!h) return '';
  const c = h.contents;
  return typeof c === 'string' ? c : 'value' in c ? c.value : c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n');
}

function labels(r: CompletionItem[] | CompletionList | null): string[] {
  const items = !r ? [] : Array.isArray(r) ? r : r.items;
  return items.map((i) => i.label);
}

async function withServer(files: Record<string, string>, fn: (c: Client, uri: (n: string) => string, dir: string) => Promise<void>): Promise<void> {
  const t = tempFiles(files);
  const c = await startClient();
  try {
    await fn(c, t.uri, t.dir);
  } finally {
    c.close();
    t.cleanup();
  }
}

const has = (code: string) => (p: { diagnostics: Diagnostic[] }) => p.diagnostics.some((d) => d.code === code);

test('diagnostics: code, source, help, related information into the standard library', async (t) => {
  await withServer({ 'main.qpol': MAIN, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), MAIN);
    const p = await c.waitDiagnostics(uri('main.qpol'), has('QP2001'));
    const d = p.diagnostics.find((x) => x.code === 'QP2001')!;
    t.is(d.source, 'qpc');
    t.is(d.severity, 1);
    t.deepEqual(d.range.start, positionOf(MAIN, 'sys-firewal\n'));
    t.is(d.range.end.character - d.range.start.character, 'sys-firewal'.length);
    t.regex(messageText(d.message), /unknown gateway `sys-firewal`/);
    t.regex(messageText(d.message), /help: did you mean `sys-firewall`\?/);
    const rel = d.relatedInformation?.[0];
    t.truthy(rel);
    t.is(rel!.location.uri, pathToFileURL(path.join(standardLibraryDir(), 'qubes.qpol')).href);
    const stdText = fs.readFileSync(path.join(standardLibraryDir(), 'qubes.qpol'), 'utf8');
    t.deepEqual(rel!.location.range.start, positionOf(stdText, 'gateway sys-firewall', 0, 'gateway '.length));
  });
});

test('diagnostics: an imported file on disk, then its unsaved buffer wins over the disk', async (t) => {
  const fixedMain = MAIN.replace('sys-firewal\n', 'sys-firewall\n');
  await withServer({ 'main.qpol': fixedMain, 'shared.qpol': SHARED_ON_DISK }, async (c, uri) => {
    c.open(uri('main.qpol'), fixedMain);
    // The error is in shared.qpol, which is not open: it is published under its own URI.
    const shared = await c.waitDiagnostics(uri('shared.qpol'), has('QP2001'));
    const d = shared.diagnostics.find((x) => x.code === 'QP2001')!;
    t.regex(messageText(d.message), /debian-12-minimal/);
    t.deepEqual(d.range.start, positionOf(SHARED_ON_DISK, 'debian-12-minimal'));
    // Opening the import with a fixed, unsaved text: the disk still has the error, the buffer does not.
    const cleared = c.waitDiagnostics(uri('shared.qpol'), (p) => p.diagnostics.length === 0);
    c.open(uri('shared.qpol'), SHARED_FIXED);
    await cleared;
    t.is(fs.readFileSync(new URL(uri('shared.qpol')), 'utf8'), SHARED_ON_DISK);
    // The whole check of main.qpol now runs on the buffer: graph-stage findings appear (the duplicated rule).
    const main = await c.waitDiagnostics(uri('main.qpol'), has('QP3033'));
    t.false(main.diagnostics.some((x) => x.code === 'QP2001'));
    // Breaking the buffer again brings the error back, without saving.
    const back = c.waitDiagnostics(uri('shared.qpol'), has('QP2001'));
    c.change(uri('shared.qpol'), SHARED_FIXED.replace('debian-12-xfce', 'debian-12-xfcf'));
    const p = await back;
    t.regex(messageText(p.diagnostics.find((x) => x.code === 'QP2001')!.message), /did you mean `debian-12-xfce`/);
  });
});

test('code action: the "did you mean" fix replaces the misspelt name', async (t) => {
  await withServer({ 'main.qpol': MAIN, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), MAIN);
    const p = await c.waitDiagnostics(uri('main.qpol'), has('QP2001'));
    const d = p.diagnostics.find((x) => x.code === 'QP2001')!;
    const actions = await c.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: uri('main.qpol') }, range: d.range, context: { diagnostics: [d] } });
    t.is(actions?.length, 1);
    const a = actions![0] as { title: string; kind?: string; edit?: WorkspaceEdit };
    t.is(a.title, 'Replace with `sys-firewall`');
    t.is(a.kind, 'quickfix');
    const fixed = applyEdits(MAIN, a.edit!.changes![uri('main.qpol')]);
    t.is(fixed, MAIN.replace('via sys-firewal\n', 'via sys-firewall\n'));
    // After the fix, the name error is gone (the whole check then runs).
    const after = c.waitDiagnostics(uri('main.qpol'), (q) => !q.diagnostics.some((x) => x.code === 'QP2001') && q.diagnostics.some((x) => x.code === 'QP3033'));
    c.change(uri('main.qpol'), fixed);
    await after;
    // A diagnostic without fixes gives no action.
    const none = await c.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: uri('main.qpol') }, range: d.range, context: { diagnostics: [{ ...d, data: undefined }] } });
    t.deepEqual(none, []);
  });
});

const JOURNALIST = fs.readFileSync('examples/journalist.qpol', 'utf8');

test('hover on a qube: identity, network chain, template, SOCKS ports', async (t) => {
  await withServer({ 'journalist.qpol': JOURNALIST }, async (c, uri) => {
    c.open(uri('journalist.qpol'), JOURNALIST);
    const h = await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('journalist.qpol') }, position: positionOf(JOURNALIST, 'qube source-inbox', 0, 6) });
    const text = hoverText(h);
    t.regex(text, /\*\*qube\*\* `source-inbox` in identity `source-contact` \(tor via `sys-whonix`\)/);
    t.regex(text, /template: `whonix-workstation-18`/);
    t.regex(text, /network: source-inbox → sys-whonix → sys-firewall → sys-net → \(network\)/);
    // The ports are those check() allocates.
    const r = check('/j/journalist.qpol', { host: overlayHost(new Map([['/j/journalist.qpol', JOURNALIST]]), nodeHost) });
    const gajim = r.allocation!.apps.find((a) => a.qube === 'source-inbox' && a.app === 'gajim')!;
    t.truthy(gajim);
    t.true(text.includes(`SOCKS: \`gajim\` → \`sys-whonix\` port ${gajim.port} (dedicated; isolate dest-addr dest-port)`), text);
    t.true(text.includes('SOCKS: `thunderbird` → `sys-whonix` port 9102'), text);
    // A reference hovers like its declaration.
    const ref = hoverText(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('journalist.qpol') }, position: positionOf(JOURNALIST, 'from source-inbox to source-keys', 0, 6) }));
    t.regex(ref, /`source-inbox` in identity `source-contact`/);
    // An identity lists its qubes.
    const id = hoverText(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('journalist.qpol') }, position: positionOf(JOURNALIST, 'identity vault', 0, 10) }));
    t.regex(id, /network: none/);
    t.regex(id, /qubes: `vault-gpg`, `vault-pass`/);
  });
});

test('hover on a rule: its effective decision for the named source and target', async (t) => {
  const text = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work { network none }
qube a in work { template debian-12-xfce }
qube b in work { template debian-12-xfce }
deny  qubes.Filecopy from a to b
allow qubes.Filecopy from a to b
ask   qubes.Gpg from work to b default b
`;
  await withServer({ 'r.qpol': text }, async (c, uri) => {
    c.open(uri('r.qpol'), text);
    const at = (needle: string) => c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('r.qpol') }, position: positionOf(text, needle, 0, 1) }).then(hoverText);
    const first = await at('deny  qubes.Filecopy');
    t.regex(first, /`a` → `b`: \*\*deny\*\*, by this rule/);
    // The second rule never decides: the hover names the rule that does.
    const second = await at('allow qubes.Filecopy');
    t.regex(second, /`a` → `b`: \*\*deny\*\*, by `deny qubes.Filecopy from a to b` in 30-qpc.policy \(ours; .*r\.qpol:8\)/);
    // An identity as the source stands for each of its qubes.
    const third = await at('ask   qubes.Gpg');
    t.regex(third, /`a` → `b`: \*\*ask \(targets [^)]*; default b\)\*\*, by this rule/);
    t.regex(third, /`b` → `b`: \*\*deny/);
  });
});

test('hover on a code in a comment or a waiver: its explanation', async (t) => {
  const text = `use "qubes"
# QP2001 is an unknown name
template debian-12-xfce
waive QP2016 on debian-12-xfce because "kept for later"
`;
  await withServer({ 'w.qpol': text }, async (c, uri) => {
    c.open(uri('w.qpol'), text);
    const h1 = hoverText(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('w.qpol') }, position: positionOf(text, 'QP2001', 0, 3) }));
    t.regex(h1, /QP2001 \(/);
    t.regex(h1, /severity: error/);
    const h2 = hoverText(await c.connection.sendRequest(HoverRequest.type, { textDocument: { uri: uri('w.qpol') }, position: positionOf(text, 'QP2016', 0, 6) }));
    t.regex(h2, /^```text\nQP2016 \(/);
  });
});

test('definition: into the same file, an imported file and the standard library', async (t) => {
  const fixedMain = MAIN.replace('sys-firewal\n', 'sys-firewall\n');
  await withServer({ 'main.qpol': fixedMain, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), fixedMain);
    const def = (needle: string, n = 0, delta = 1) => c.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: uri('main.qpol') }, position: positionOf(fixedMain, needle, n, delta) }) as Promise<Location[]>;
    const id = await def('in work', 0, 4);
    t.deepEqual(id, [{ uri: uri('main.qpol'), range: { start: positionOf(fixedMain, 'identity work', 0, 9), end: positionOf(fixedMain, 'identity work', 0, 13) } }]);
    const vault = await def('to vault', 0, 4);
    t.is(vault[0].uri, uri('shared.qpol'));
    t.deepEqual(vault[0].range.start, positionOf(SHARED_FIXED, 'qube vault', 0, 5));
    const fw = await def('via sys-firewall', 0, 6);
    t.is(fw[0].uri, pathToFileURL(path.join(standardLibraryDir(), 'qubes.qpol')).href);
    // The end of a name counts (the cursor just after it), a keyword is no name.
    t.is((await def('template debian-12-xfce\n', 0, 'template debian-12-xfce'.length)).length, 1);
    t.deepEqual(await def('allow', 0, 1), []);
  });
});

test('references and rename of an identity everywhere it is written', async (t) => {
  const fixedMain = MAIN.replace('sys-firewal\n', 'sys-firewall\n');
  await withServer({ 'main.qpol': fixedMain, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), fixedMain);
    const position = positionOf(fixedMain, 'identity work', 0, 10);
    const refs = (await c.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: uri('main.qpol') }, position, context: { includeDeclaration: true } })) as Location[];
    // Declaration, `in work` ×3, rule source, require subject.
    const expected = [...fixedMain.matchAll(/\bwork\b(?!-)/g)].map((m) => m.index!);
    t.is(refs.length, expected.length);
    t.is(refs.length, 6);
    const without = (await c.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: uri('main.qpol') }, position, context: { includeDeclaration: false } })) as Location[];
    t.is(without.length, 5);

    const prep = await c.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position });
    t.deepEqual(prep, { start: positionOf(fixedMain, 'identity work', 0, 9), end: positionOf(fixedMain, 'identity work', 0, 13) });
    const edit = (await c.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position, newName: 'office' })) as WorkspaceEdit;
    const renamed = applyEdits(fixedMain, edit.changes![uri('main.qpol')]);
    t.false(/\bwork\b(?!-)/.test(renamed));
    t.regex(renamed, /identity office \{/);
    t.regex(renamed, /qube work-web in office \{/);
    t.regex(renamed, /require office isolated-from keys/);
    // The renamed policy means the same: the same findings, with the new name in them.
    const run = (text: string) => check('/x/main.qpol', { host: overlayHost(new Map([['/x/main.qpol', text], ['/x/shared.qpol', SHARED_FIXED]]), nodeHost) }).diagnostics;
    const before = run(fixedMain);
    const after = run(renamed);
    t.deepEqual(after.map((d) => d.code), before.map((d) => d.code));
    t.deepEqual(after.map((d) => d.message), before.map((d) => d.message.replace(/`work`/g, '`office`').replace(/`work isolated-from/g, '`office isolated-from')));
    t.true(before.some((d) => d.code === 'QP3033'));

    // A name across files: renaming `vault` from main.qpol edits shared.qpol too.
    const v = (await c.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position: positionOf(fixedMain, 'to vault', 0, 4), newName: 'safe' })) as WorkspaceEdit;
    t.is(v.changes![uri('shared.qpol')].length, 1);
    t.is(v.changes![uri('main.qpol')].length, 2);
    // The standard library's names and invalid names are refused with a reason.
    const std = await t.throwsAsync(c.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position: positionOf(fixedMain, 'via sys-firewall', 0, 6), newName: 'fw' }));
    t.regex(messageText(std!.message), /standard library/);
    const bad = await t.throwsAsync(c.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position, newName: '9lives' }));
    t.regex(messageText(bad!.message), /not a name Qubes accepts/);
    const taken = await t.throwsAsync(c.connection.sendRequest(RenameRequest.type, { textDocument: { uri: uri('main.qpol') }, position, newName: 'keys' }));
    t.regex(messageText(taken!.message), /already declared/);
  });
});

test('completion: keywords, names in scope by context, Qubes tokens, known services', async (t) => {
  const fixedMain = MAIN.replace('sys-firewal\n', 'sys-firewall\n');
  await withServer({ 'main.qpol': fixedMain, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), fixedMain);
    const complete = async (withMarker: string) => {
      const m = marked(withMarker);
      c.change(uri('main.qpol'), m.text);
      return labels(await c.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: uri('main.qpol') }, position: m.position }));
    };
    const top = await complete(fixedMain + '\n<|>');
    for (const k of ['qube', 'identity', 'allow', 'require', 'expect', 'waive', 'named-disposable']) t.true(top.includes(k), k);
    const tpl = await complete(fixedMain + '\nqube x in work {\n  template <|>\n}\n');
    t.deepEqual(tpl.sort(), ['debian-12-xfce']);
    const inId = await complete(fixedMain + '\nqube x in <|>');
    t.deepEqual(inId.sort(), ['keys', 'work']);
    const from = await complete(fixedMain + '\nallow qubes.Gpg from <|>');
    for (const n of ['work-web', 'vault', 'work', 'sys-firewall', 'dom0', '@anyvm']) t.true(from.includes(n), n);
    const token = await complete(fixedMain + '\nallow qubes.Gpg from work to @<|>');
    t.deepEqual([...token].sort(), ['@adminvm', '@anyvm', '@default', '@dispvm', '@dispvm:', '@tag:', '@type:']);
    const svc = await complete(fixedMain + '\nallow <|>');
    // From the standard library's stock policy, and common ones.
    for (const s of ['qubes.Filecopy', 'qubes.UpdatesProxy', 'qubes.GetDate', 'qubes.Gpg', 'qubes.PdfConvert', '*']) t.true(svc.includes(s), s);
    const label = await complete(fixedMain + '\nidentity y {\n  label <|>\n}');
    t.true(label.includes('purple'));
    const item = await complete(fixedMain + '\nqube z in work {\n  <|>\n}');
    for (const k of ['template', 'netvm', 'memory', 'app', 'feature']) t.true(item.includes(k), k);
    // Half-typed text that does not parse still completes the names bound before.
    const half = await complete(fixedMain + '\nqube z in work {\n  netvm <|>');
    t.true(half.includes('sys-firewall'));
    t.true(half.includes('none'));
  });
});

test('document symbols: declarations with their apps, rules, settings', async (t) => {
  await withServer({ 'main.qpol': MAIN, 'shared.qpol': SHARED_FIXED }, async (c, uri) => {
    c.open(uri('main.qpol'), MAIN);
    const syms = (await c.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri('main.qpol') } })) as DocumentSymbol[];
    const names = syms.map((s) => s.name);
    t.deepEqual(names.slice(0, 6), ['qubes', './shared.qpol', 'debian-12-xfce', 'sys-net', 'sys-firewall', 'work']);
    const web = syms.find((s) => s.name === 'work-web')!;
    t.is(web.detail, 'qube in work');
    t.deepEqual(web.children?.map((x) => x.name), ['firefox']);
    t.deepEqual(web.selectionRange.start, positionOf(MAIN, 'work-web'));
    t.true(names.includes('allow qubes.Gpg from work-mail to vault'));
    t.true(names.includes('work isolated-from keys'));
  });
});

test('formatting: the same text as `qpc fmt`; nothing for text that does not parse', async (t) => {
  const messy = 'use   "qubes"\ntemplate    debian-12-xfce\nidentity w {network none\n label   red}\nallow qubes.Gpg from  w to   dom0\nallow qubes.Filecopy from w to dom0\n';
  await withServer({ 'f.qpol': messy }, async (c, uri) => {
    c.open(uri('f.qpol'), messy);
    const edits = (await c.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uri('f.qpol') }, options: { tabSize: 2, insertSpaces: true } })) as TextEdit[];
    const expected = format('f.qpol', messy).text!;
    t.not(expected, messy);
    t.is(applyEdits(messy, edits), expected);
    c.change(uri('f.qpol'), expected);
    t.deepEqual(await c.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uri('f.qpol') }, options: { tabSize: 2, insertSpaces: true } }), []);
    c.change(uri('f.qpol'), 'qube {{{');
    t.deepEqual(await c.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uri('f.qpol') }, options: { tabSize: 2, insertSpaces: true } }), []);
  });
});
