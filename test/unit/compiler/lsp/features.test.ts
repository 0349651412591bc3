/**
 * What the language server answers, as pure functions of a check and a
 * document's text: LSP diagnostics with their fixes, navigation and rename
 * from the binder's references, hovers, completion by the words before the
 * cursor, and the outline. Positions are 0-based lines and UTF-16 columns.
 */
import test from 'ava';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CompletionItemKind, DiagnosticSeverity, SymbolKind } from 'vscode-languageserver/node';
import { check, diag, explain, itemsByForm, keywords, overlayHost, qubeLabels, standardLibraryDir, type CheckResult, type Program } from '../../../../compiler/index.js';
import * as F from '../../../../compiler/lsp/features.js';
import { SourceFile } from '../../../../compiler/source.js';

const text = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work {
  network clearnet via sys-firewall
  label blue
  disposable work-dvm
}
disposable work-dvm in work { template debian-12-xfce }
qube work-web in work {
  template debian-12-xfce
  app firefox
}
qube tpl-$whonix in work { template debian-12-xfce }
allow qubes.Gpg from work-web to work-dvm
`;

const uri = (f: string) => `test:${f}`;

const cache = new Map<string, CheckResult & { program: Program }>();

/** The check of a text (once per text: the functions under test only read it). */
function checked(src = text): CheckResult & { program: Program } {
  const hit = cache.get(src);
  if (hit) return hit;
  const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', src]])) });
  if (!r.program) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  cache.set(src, r as never);
  return r as never;
}

const at = (needle: string, nth = 0, src = text): number => {
  let o = -1;
  for (let i = 0; i <= nth; i++) o = src.indexOf(needle, o + 1);
  if (o < 0) throw new Error(needle);
  return o;
};

const labels = (items: readonly { label: string }[]) => items.map((i) => i.label);

// ---------------------------------------------------------------- places

test('standard library paths map to the installed files; other paths stay', (t) => {
  t.is(F.realPath('policies/qubes.qpol'), path.join(standardLibraryDir(), 'qubes.qpol'));
  t.is(F.realPath('my/policies/x.qpol'), 'my/policies/x.qpol');
  t.is(F.realPath('/abs/policies/x.qpol'), '/abs/policies/x.qpol');
  t.true(F.isStd('policies/qubes.qpol'));
  t.false(F.isStd('/policies/qubes.qpol'));
  t.false(F.isStd('p.qpol'));
  t.is(F.fileUri('policies/whonix.qpol'), pathToFileURL(path.join(standardLibraryDir(), 'whonix.qpol')).href);
});

test('a span becomes a 0-based LSP range', (t) => {
  const f = new SourceFile('p.qpol', 'ab\ncdef\n');
  t.deepEqual(F.toRange(f.span(4, 7)), { start: { line: 1, character: 1 }, end: { line: 1, character: 4 } });
  t.deepEqual(F.toRange(f.span(0, 8)), { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } });
});

// ---------------------------------------------------------------- diagnostics

test('diagnostics by document, with severity, code, the whole message and the stage', (t) => {
  const src = text.replace('label blue', 'label bleu') + 'allow qubes.Filecopy from work-web to vault\n';
  const byUri = F.toLspDiagnostics(checked(src), 'p.qpol', uri);
  t.deepEqual([...byUri.keys()], ['test:p.qpol']);
  const ds = byUri.get('test:p.qpol')!;
  const label = ds.find((d) => d.code === 'QP2013')!;
  t.is(label.severity, DiagnosticSeverity.Error);
  t.is(label.source, 'qpc');
  t.deepEqual(label.range, { start: { line: 6, character: 8 }, end: { line: 6, character: 12 } });
  t.regex(label.message as string, /\nhelp: did you mean `blue`\?$/);
  const fixes = (label.data as { fixes: F.LspFix[]; stage: string }).fixes;
  t.deepEqual(fixes, [{ title: 'Replace with `blue`', edits: [{ uri: 'test:p.qpol', range: label.range, newText: 'blue' }] }]);
  t.is((label.data as { stage: string }).stage, 'bind');
  const unknown = ds.find((d) => d.code === 'QP2001')!;
  t.deepEqual(unknown.data, { stage: 'bind' }, 'no fixes: no `fixes` key');
});

test('a finding without a place shows on the entry\'s first line; one in the standard library is not shown', (t) => {
  const std = new SourceFile('policies/qubes.qpol', 'qube x in y\n');
  const mine = new SourceFile('p.qpol', 'qube a in b\n');
  const result = {
    sources: new Map(),
    diagnostics: [
      diag('QP5002', undefined, { message: 'lock file unreadable' }, { notes: ['one', 'two'] }),
      diag('QP2001', std.span(10, 11), { what: 'identity', name: 'y' }),
      { ...diag('QP2018', mine.span(5, 6), { what: 'identity', name: 'a' }, { label: 'here', related: [{ span: std.span(0, 4), message: 'there' }] }), waivedBecause: 'kept' },
    ],
  } as CheckResult;
  const ds = F.toLspDiagnostics(result, 'p.qpol', uri).get('test:p.qpol')!;
  t.is(ds.length, 2);
  t.deepEqual(ds[0]!.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  t.is(ds[0]!.message as string, 'lock file unreadable\nnote: one\nnote: two');
  t.false('data' in ds[0]!);
  t.is(ds[1]!.message as string, 'identity `a` is never used (here)\naccepted: kept');
  t.is(ds[1]!.severity, DiagnosticSeverity.Warning);
  t.deepEqual(ds[1]!.relatedInformation, [{ location: { uri: 'test:policies/qubes.qpol', range: F.toRange(std.span(0, 4)) }, message: 'there' }]);
});

test('a fix that would edit the standard library is not offered', (t) => {
  const std = new SourceFile('policies/qubes.qpol', 'abc\n');
  const mine = new SourceFile('p.qpol', 'abc\n');
  const d = diag('QP2001', mine.span(0, 3), { what: 'qube', name: 'abc' }, {
    fixes: [
      { title: 'mine', edits: [{ span: mine.span(0, 3), newText: 'x' }] },
      { title: 'both', edits: [{ span: mine.span(0, 3), newText: 'x' }, { span: std.span(0, 3), newText: 'y' }] },
    ],
  });
  t.deepEqual(F.fixesOf(d, uri).map((f) => f.title), ['mine']);
});

// ---------------------------------------------------------------- navigation and rename

test('definition and references of the name under the cursor', (t) => {
  const p = checked().program;
  const use = at('work-dvm', 2); // in the rule
  const [def] = F.definition(p, 'p.qpol', use, uri);
  t.deepEqual(def, { uri: 'test:p.qpol', range: F.toRange(p.decls.get('work-dvm')!.node.name.span) });
  t.deepEqual(F.definition(p, 'p.qpol', at('qubes.Gpg'), uri), []);
  t.deepEqual(F.references(p, 'p.qpol', use, false, uri).map((l) => l.range.start.line), [7, 15]);
  t.deepEqual(F.references(p, 'p.qpol', use, true, uri).map((l) => l.range.start.line), [9, 7, 15]);
  t.is(F.nameAt(p, 'p.qpol', at('allow')), undefined);
});

test('rename edits every place the name is written', (t) => {
  const p = checked().program;
  const edit = F.rename(p, 'p.qpol', at('work-dvm'), 'work-disp', uri);
  if (typeof edit === 'string') return t.fail(edit);
  const edits = edit.changes!['test:p.qpol']!;
  t.deepEqual(edits.map((e) => [e.range.start.line, e.newText]), [[9, 'work-disp'], [7, 'work-disp'], [15, 'work-disp']]);
  t.deepEqual(Object.keys(edit.changes!), ['test:p.qpol']);
});

test('rename refuses, with the reason, what it cannot rename', (t) => {
  const src = text + 'allow qubes.Gpg from work-web to vault\n';
  const p = checked(src).program;
  const reason = (offset: number, name: string) => F.rename(p, 'p.qpol', offset, name, uri);
  t.is(reason(at('allow'), 'x'), 'there is no name here to rename');
  t.is(reason(at('vault', 0, src), 'x'), '`vault` is not declared in this policy set');
  t.is(reason(at('sys-firewall'), 'x'), '`sys-firewall` is declared by the standard library, which cannot be renamed from a policy');
  t.is(reason(at('tpl-$whonix'), 'x'), '`tpl-18` is written with `$whonix` somewhere; rename those places by hand');
  t.regex(reason(at('work-web'), '9web') as string, /^`9web` is not a name Qubes accepts/);
  t.regex(reason(at('work-web'), 'a'.repeat(32)) as string, /is not a name Qubes accepts/);
  t.is(reason(at('work-web'), 'work-dvm'), '`work-dvm` is already declared');
  t.is(reason(at('work-web'), 'tpl-18'), '`tpl-18` is already declared', 'declared as `tpl-$whonix`');
  t.regex(reason(at('work-web'), 'tpl-$whonix') as string, /is not a name Qubes accepts/);
  t.is(typeof reason(at('work-web'), 'work-web'), 'object', 'renaming to itself is no conflict');
  t.is(F.renamable(p, 'p.qpol', at('work-web')), p.references.at('p.qpol', at('work-web'))!);
});

// ---------------------------------------------------------------- hover

test('the code under the cursor, at its first character to just after its last, in any case', (t) => {
  const src = 'waive QP2018 on x\n# see qp3004.\n';
  t.is(F.codeAt(src, 6), 'QP2018');
  t.is(F.codeAt(src, 12), 'QP2018');
  t.is(F.codeAt(src, 5), undefined);
  t.is(F.codeAt(src, 13), undefined);
  t.is(F.codeAt(src, at('qp3004', 0, src) + 3), 'QP3004');
});

// `codeAt` once matched /QP\d{4}/ without word boundaries, so the `QP20180` of
// `waive QP20180 on x` (a QP2020 error: not a code) was taken for QP2018 and
// its hover showed QP2018's explanation.
test('a longer word that starts like a code is no code', (t) => {
  t.is(F.codeAt('waive QP20180 on x', 8), undefined);
  t.is(F.codeAt('waive XQP2018 on x', 8), undefined);
});

test('hovering a code shows its explanation; an unknown code nothing', (t) => {
  t.is(F.hover(undefined, 'p.qpol', 'waive QP2018 on x', 8), '```text\n' + explain('QP2018')!.trimEnd() + '\n```');
  t.is(F.hover(undefined, 'p.qpol', 'waive QP0000 on x', 8), undefined);
});

test('hovering a qube: its identity, route, template, label and default disposable', (t) => {
  const r = checked();
  t.is(
    F.hover(r, 'p.qpol', text, at('work-web')),
    [
      '**qube** `work-web` in identity `work` (clearnet via `sys-firewall`)',
      'template: `debian-12-xfce`',
      'network: work-web → sys-firewall → sys-net → (network)',
      'label: blue',
      'default disposable: `work-dvm`',
      'declared in p.qpol, a qube',
    ].join('  \n'),
  );
});

test('hovering an identity lists its qubes; a template its users', (t) => {
  const r = checked();
  const identity = F.hover(r, 'p.qpol', text, at('work {'))!;
  t.true(identity.startsWith('**identity** `work`  \nnetwork: clearnet via `sys-firewall`'));
  t.true(identity.includes('qubes: `work-dvm`, `work-web`, `tpl-18`'), 'in declaration order');
  t.true(identity.endsWith('declared in p.qpol, an identity'));
  t.true(F.hover(r, 'p.qpol', text, at('debian-12-xfce'))!.includes('  \nused by: `sys-net`, `sys-firewall`, `work-dvm`, `work-web`, `tpl-18`  \n'));
  t.regex(F.hover(r, 'p.qpol', text, at('sys-firewall'))!, /declared in the standard library \(policies\/qubes\.qpol\)/);
});

test('hovering a rule shows the effective decision of each request it names', (t) => {
  const r = checked();
  const h = F.hover(r, 'p.qpol', text, at('allow qubes.Gpg'))!;
  t.is(h.split('  \n')[0], '**allow** `qubes.Gpg` from `work-web` to `work-dvm`');
  t.regex(h, /- `work-web` → `work-dvm`: \*\*allow[^*]*\*\*, by this rule/);
  const broken = checked(text + 'allow qubes.Gpg from work-web to vault\n');
  t.regex(F.hover(broken, 'p.qpol', broken.program.files[0]!.source.text, at('allow qubes.Gpg'))!, /known once the policy has no binding errors/);
});

test('hovering an undeclared name says so; nothing at all without a check', (t) => {
  const src = text + 'allow qubes.Gpg from work-web to vault\n';
  t.is(F.hover(checked(src), 'p.qpol', src, at('vault', 0, src)), '`vault` is not declared in this policy set');
  t.is(F.hover(undefined, 'p.qpol', text, at('work-web')), undefined);
  t.is(F.hover(checked(), 'p.qpol', text, at('use')), undefined);
});

// ---------------------------------------------------------------- completion

function complete(src: string, program: Program | undefined = checked().program): string[] {
  return labels(F.completion(program, src, src.length));
}

test('after a reference keyword: the declarations of the kind it names', (t) => {
  t.deepEqual(complete('qube x in '), ['work']);
  t.true(complete('qube x in work {\n  template ').includes('debian-12-xfce'));
  t.false(complete('qube x in work {\n  template ').includes('work-web'));
  t.deepEqual(complete('qube x in work {\n  disposable '), ['work-dvm', 'none']);
  t.deepEqual(complete('qube x in work {\n  netvm '), [...complete('identity i { network clearnet via '), 'none']);
  t.deepEqual(complete('qube x in work {\n  label '), [...qubeLabels]);
});

test('a top-level `template X` or `disposable X` declares: nothing to complete', (t) => {
  t.deepEqual(complete('template '), []);
  t.deepEqual(complete('template deb'), []);
  t.deepEqual(complete('disposable '), []);
});

test('rule columns offer names and Qubes tokens; `@` only tokens; services after a rule keyword', (t) => {
  const columns = complete('allow qubes.Gpg from ');
  t.true(columns.includes('work-web'));
  t.true(columns.includes('@anyvm'));
  const tokens = complete('allow qubes.Gpg from work-web to @');
  t.true(tokens.length > 0);
  t.true(tokens.every((x) => x.startsWith('@')));
  t.deepEqual(tokens, [...F.TOKENS]);
  const services = F.completion(checked().program, 'allow ', 6);
  t.true(labels(services).includes('qubes.Gpg'));
  t.is(services.at(-1)!.label, '*');
  t.true(services.slice(0, -1).every((s) => s.kind === CompletionItemKind.Function));
  const required = complete('require ');
  t.true(required.includes('work'));
  t.false(required.some((x) => x.startsWith('@')), 'require takes names, not tokens');
});

test('nothing in a comment or after `waive`', (t) => {
  t.deepEqual(complete('# template '), []);
  t.deepEqual(complete('qube a in work # in '), []);
  t.deepEqual(complete('waive '), []);
});

test('at the start of a line: the words the innermost block takes', (t) => {
  t.deepEqual(complete(''), [...keywords.statement]);
  t.deepEqual(complete('qube a in work {\n  '), [...itemsByForm.qube]);
  t.deepEqual(complete('identity i {\n  net'), [...itemsByForm.identity]);
  t.deepEqual(complete('amend work-dvm {\n  '), [...itemsByForm.disposable]);
  t.deepEqual(complete('settings {\n  '), [...keywords.setting]);
  t.deepEqual(complete('qube a in work {\n  app x {\n    '), ['socks']);
  t.deepEqual(complete('qube a in work { }\n'), [...keywords.statement]);
});

test('completion without a program still offers keywords and tokens', (t) => {
  const bare = (src: string) => labels(F.completion(undefined, src, src.length));
  t.deepEqual(bare(''), [...keywords.statement]);
  t.deepEqual(bare('qube x in '), []);
  t.deepEqual(bare('allow x from a to @'), [...F.TOKENS]);
});

test('the head of the innermost open block, braces in strings and comments not counted', (t) => {
  t.is(F.blockHead('qube a in b { }\n', 16), undefined);
  t.deepEqual(F.blockHead('qube a in b {\n  ', 16), ['qube', 'a', 'in', 'b']);
  t.deepEqual(F.blockHead('qube a {\n  app x {\n', 19), ['app', 'x']);
  const tricky = 'qube a {\n  feature x "}{"\n  # { }\n  kernelopts "a\\"{"\n';
  t.deepEqual(F.blockHead(tricky, tricky.length), ['qube', 'a']);
  // A string left open ends at its line.
  const open = 'qube a {\n  kernelopts "unclosed\n  app x {\n';
  t.deepEqual(F.blockHead(open, open.length), ['app', 'x']);
  t.deepEqual(F.blockHead('template t\nqube a in b {', 24), ['qube', 'a', 'in', 'b']);
  t.deepEqual(F.blockHead('x { y }; z {', 12), ['z']);
});

test('the first words of a block: an amendment takes the items of what it amends', (t) => {
  const p = checked().program;
  t.is(F.firstWords(p, undefined), keywords.statement);
  t.is(F.firstWords(p, ['amend', 'work']), itemsByForm.identity);
  t.is(F.firstWords(p, ['amend', 'unknown']), keywords.item);
  t.is(F.firstWords(undefined, ['amend', 'work']), keywords.item);
  t.is(F.firstWords(p, ['policy-file', '40-x']), keywords.rule);
  t.is(F.firstWords(p, ['gateway', 'g']), itemsByForm.gateway);
  t.is(F.firstWords(p, ['nonsense']), keywords.item);
});

test('known services: the rules\' and the common ones, sorted, once each, never `*`', (t) => {
  const none = F.knownServices(undefined);
  t.deepEqual(none, [...none].sort());
  t.true(none.includes('qubes.Gpg'));
  const p = checked(text + 'allow my.Own from work-web to work-dvm\nallow * from work-web to work-dvm\n').program;
  const known = F.knownServices(p);
  t.true(known.includes('my.Own'));
  t.false(known.includes('*'));
  t.is(new Set(known).size, known.length);
  t.deepEqual(known, [...known].sort());
  t.true(known.length > none.length, 'the stock policy\'s services too');
});

// ---------------------------------------------------------------- outline

test('the outline: a symbol per statement, apps and rules nested', (t) => {
  const src = text + 'policy-file 40-x {\n  deny qubes.A from work-web to work-dvm\n}\nsettings { qubes 4.3 }\nwaive QP2018 on work because "r"\n';
  const ast = checked(src).program.files.find((f) => f.source.path === 'p.qpol')!.ast;
  const symbols = F.documentSymbols(ast);
  t.deepEqual(
    symbols.map((s) => [s.name, s.detail, (s.children ?? []).map((c) => c.name)]),
    [
      ['qubes', 'use', []],
      ['debian-12-xfce', 'template', []],
      ['sys-net', 'amend', []],
      ['sys-firewall', 'amend', []],
      ['work', 'identity', []],
      ['work-dvm', 'disposable in work', []],
      ['work-web', 'qube in work', ['firefox']],
      ['tpl-$whonix', 'qube in work', []],
      ['allow qubes.Gpg from work-web to work-dvm', 'rule', []],
      ['40-x', 'policy file', ['deny qubes.A from work-web to work-dvm']],
      ['settings', '', ['qubes']],
      ['QP2018 on work', 'waive', []],
    ],
  );
  const web = symbols.find((s) => s.name === 'work-web')!;
  t.is(web.kind, SymbolKind.Object);
  t.deepEqual(web.selectionRange, { start: { line: 10, character: 5 }, end: { line: 10, character: 13 } });
  t.is(symbols.find((s) => s.name === 'work')!.kind, SymbolKind.Namespace);
});
