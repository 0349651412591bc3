/**
 * The VS Code extension's TextMate grammar, loaded the way VS Code loads it
 * (vscode-textmate with the Oniguruma regular expressions, from the paths
 * the extension manifest names) and run over every example policy.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';
import { itemsByForm, keywords, statementWords } from '../../../../compiler/index.js';

const EXT = 'editors/vscode';
const manifest = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));

interface Token {
  readonly text: string;
  readonly start: number;
  readonly scopes: readonly string[];
}

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

function loadGrammar(): Promise<vsctm.IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = fs.readFileSync('node_modules/vscode-oniguruma/release/onig.wasm');
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const contribution = manifest.contributes.grammars[0];
    const file = path.join(EXT, contribution.path);
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (s: string[]) => new oniguruma.OnigScanner(s), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
      loadGrammar: async (scope: string) => (scope === contribution.scopeName ? vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null),
    });
    const g = await registry.loadGrammar(contribution.scopeName);
    if (!g) throw new Error('grammar did not load');
    return g;
  })();
  return grammarPromise;
}

/** Tokens of every line of a text. */
async function tokenize(text: string): Promise<Token[][]> {
  const g = await loadGrammar();
  let stack = vsctm.INITIAL;
  const out: Token[][] = [];
  for (const line of text.split('\n')) {
    const r = g.tokenizeLine(line, stack);
    out.push(r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), start: t.startIndex, scopes: t.scopes })));
    stack = r.ruleStack;
  }
  return out;
}

/** The scopes of the token that covers column `col` of a tokenized line. */
function scopesAt(line: readonly Token[], col: number): readonly string[] {
  const t = line.find((x) => x.start <= col && col < x.start + x.text.length);
  return t ? t.scopes : [];
}

function hasScope(scopes: readonly string[], prefix: string): boolean {
  return scopes.some((s) => s === prefix || s.startsWith(prefix + '.'));
}

const examples = fs.readdirSync('examples').filter((f) => f.endsWith('.qpol')).sort();

test('the manifest contributes the language, its configuration and the grammar for .qpol', (t) => {
  const lang = manifest.contributes.languages.find((l: { id: string }) => l.id === 'qpol');
  t.deepEqual(lang.extensions, ['.qpol']);
  t.true(manifest.activationEvents.includes('onLanguage:qpol'));
  const config = JSON.parse(fs.readFileSync(path.join(EXT, lang.configuration), 'utf8'));
  t.is(config.comments.lineComment, '#');
  t.deepEqual(config.brackets, [['{', '}']]);
  const g = manifest.contributes.grammars[0];
  t.is(g.language, 'qpol');
  t.is(JSON.parse(fs.readFileSync(path.join(EXT, g.path), 'utf8')).scopeName, g.scopeName);
  t.true(fs.existsSync(path.join(EXT, manifest.main)));
});

for (const name of examples) {
  test(`tokenizes ${name}: comments, strings, keywords, names, services and tokens get their scopes`, async (t) => {
    const text = fs.readFileSync(path.join('examples', name), 'utf8');
    const lines = text.split('\n');
    const tokens = await tokenize(text);
    let checked = 0;
    const expectScope = (i: number, col: number, scope: string, what: string) => {
      const s = scopesAt(tokens[i], col);
      if (!hasScope(s, scope)) t.fail(`${name}:${i + 1}:${col + 1} ${what}: expected ${scope}, got ${s.join(' ')}`);
      checked++;
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      // Nothing in a real policy is marked invalid.
      for (const tok of tokens[i]) if (tok.scopes.some((s) => s.startsWith('invalid'))) t.fail(`${name}:${i + 1}: \`${tok.text}\` marked invalid`);
      // A comment runs from `#` (outside a string) to the end of the line.
      const hash = commentStart(line);
      if (hash >= 0) {
        expectScope(i, hash, 'comment.line.number-sign.qpol', 'comment start');
        expectScope(i, line.length - 1, 'comment.line.number-sign.qpol', 'comment end');
      }
      const code = hash >= 0 ? line.slice(0, hash) : line;
      for (const m of code.matchAll(/"[^"]*"/g)) expectScope(i, m.index! + 1, 'string.quoted.double.qpol', 'string');
      const decl = /^(template|gateway|identity|qube|disposable|named-disposable|standalone|amend) ([A-Za-z][\w.$-]*)(?: (in) ([A-Za-z][\w.-]*))?/.exec(code);
      if (decl) {
        expectScope(i, 0, decl[1] === 'amend' ? 'storage.type.declaration.qpol' : 'storage.type.declaration.qpol', 'declaration form');
        expectScope(i, decl[1].length + 1, 'entity.name.type.qpol', 'declared name');
        if (decl[3]) expectScope(i, decl.index + decl[0].length - 1, 'variable.other.name.qpol', 'identity after `in`');
      }
      const rule = /^\s*(allow|ask|deny)\s+(\S+)(?:\s+\+\S+)?\s+from\s+(\S+)\s+to\s+(\S+)/.exec(code);
      if (rule) {
        expectScope(i, code.indexOf(rule[1]), 'keyword.control.action.qpol', 'rule action');
        expectScope(i, code.indexOf(rule[2], rule[1].length), 'support.function.service.qpol', 'service');
        expectScope(i, code.indexOf(' from ') + 1, 'keyword.other.qpol', '`from`');
        const src = code.indexOf(` ${rule[3]} `, code.indexOf(' from ')) + 1;
        expectScope(i, src, rule[3].startsWith('@') ? 'variable.language.token.qpol' : 'variable.other.name.qpol', 'rule source');
      }
      for (const m of code.matchAll(/@(anyvm|adminvm|default|dispvm|tag:|type:)/g)) expectScope(i, m.index!, 'variable.language.token.qpol', m[0]);
      for (const m of code.matchAll(/^\s*(use|settings)\b/g)) expectScope(i, m.index! + m[0].indexOf(m[1]), 'keyword.control.qpol', m[1]);
      const item = /^\s+(template|netvm|memory|label|app|network)\s/.exec(code);
      if (item && !decl) expectScope(i, item[0].indexOf(item[1]), 'keyword.other.item.qpol', `item \`${item[1]}\``);
      const ref = /^\s+(template|netvm) ([A-Za-z][\w.-]*)\s*$/.exec(code);
      if (ref && ref[2] !== 'none') expectScope(i, code.lastIndexOf(ref[2]), 'variable.other.name.qpol', 'referenced name');
    }
    t.true(checked > 50, `only ${checked} checks in ${name}`);
  });
}

/** Where a `#` comment starts on a line, outside strings; -1 when none. */
function commentStart(line: string): number {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '#') return i;
  }
  return -1;
}

test('a mixed line: strings with `#`, tokens, arguments, numbers, flags', async (t) => {
  const [line] = await tokenize('allow qubes.ConnectTCP +22 from work to @default target vault because "a # in a string" # why');
  const text = 'allow qubes.ConnectTCP +22 from work to @default target vault because "a # in a string" # why';
  t.true(hasScope(scopesAt(line, text.indexOf('+22')), 'variable.parameter.argument.qpol'));
  t.true(hasScope(scopesAt(line, text.indexOf('@default')), 'variable.language.token.qpol'));
  t.true(hasScope(scopesAt(line, text.indexOf('target')), 'keyword.other.qpol'));
  t.true(hasScope(scopesAt(line, text.indexOf('# in')), 'string.quoted.double.qpol'));
  t.false(hasScope(scopesAt(line, text.indexOf('# in')), 'comment.line.number-sign.qpol'));
  t.true(hasScope(scopesAt(line, text.indexOf('# why')), 'comment.line.number-sign.qpol'));
  const [bad] = await tokenize('allow * from @anyvn to vault');
  t.true(hasScope(scopesAt(bad, 'allow * from '.length), 'invalid.illegal.token.qpol'));
  const [mem] = await tokenize('qube q in w { memory 400 max 4000; netvm none }');
  const m = 'qube q in w { memory 400 max 4000; netvm none }';
  t.true(hasScope(scopesAt(mem, m.indexOf('memory')), 'keyword.other.item.qpol'));
  t.true(hasScope(scopesAt(mem, m.indexOf('400')), 'constant.numeric.qpol'));
  t.true(hasScope(scopesAt(mem, m.indexOf('netvm')), 'keyword.other.item.qpol'));
  t.true(hasScope(scopesAt(mem, m.indexOf('none')), 'constant.language.qpol'));
});

test('every word of the vocabulary (compiler/syntax/forms.ts) is coloured as a keyword where the parser takes it', async (t) => {
  const keywordScope = (scopes: readonly string[]) => scopes.some((s) => s.startsWith('keyword.') || s.startsWith('storage.type.'));
  const expectKeyword = async (lines: string[], line: number, word: string, where: string) => {
    const tokens = await tokenize(lines.join('\n'));
    const col = lines[line]!.indexOf(word);
    const scopes = scopesAt(tokens[line]!, col);
    if (!keywordScope(scopes)) t.fail(`${where}: \`${word}\` got ${scopes.join(' ')}`);
  };
  const statementLine: Record<string, string> = { 'policy-file': 'policy-file 40-x {', require: 'require a isolated-from b', waive: 'waive QP2001 on a because "x"', expect: 'expect qubes.Filecopy from a to b: allow' };
  for (const k of keywords.statement) await expectKeyword([statementLine[k] ?? `${k} x`], 0, k, 'a statement');
  for (const k of keywords.setting) await expectKeyword(['settings {', `  ${k} x`, '}'], 1, k, 'a setting');
  for (const [form, items] of Object.entries(itemsByForm)) {
    for (const k of items) await expectKeyword([`${form} x {`, `  ${k} y`, '}'], 1, k, `an item of ${form}`);
  }
  for (const k of keywords['rule parameter']) await expectKeyword([`allow qubes.Filecopy from a to b ${k} c`], 0, ` ${k}`.trim(), 'a rule parameter');
  for (const k of keywords.expectation) await expectKeyword([`expect qubes.Filecopy from a to b: ask ${k} c`], 0, `ask ${k}`.slice(4), 'an expectation');
  for (const k of statementWords.rule) await expectKeyword([`allow qubes.Filecopy from a to b`], 0, ` ${k} `.trim(), 'a rule');
  t.pass();
});
