/**
 * The vocabulary of the language. The parser, the checker, completion and
 * the editor grammar read these tables, so they must agree with each other:
 * every item a form takes is an item keyword and every item keyword is
 * taken by some form, every declaration form is a statement, and so on.
 */
import test from 'ava';
import { itemsByForm, keywords, kindWords, statementWords, type DeclKind } from '../../../../compiler/syntax/forms.js';
import { kindNouns } from '../../../../compiler/passes/name-rules.js';
import { parseFile } from '../../../../compiler/syntax/parse.js';
import { SourceFile } from '../../../../compiler/source.js';

const kinds = Object.keys(itemsByForm) as DeclKind[];

test('no table lists a word twice', (t) => {
  for (const [position, words] of [...Object.entries(keywords), ...Object.entries(statementWords), ...Object.entries(itemsByForm)]) {
    t.is(new Set(words).size, words.length, position);
  }
});

test('every declaration kind is a statement keyword, and so is `amend`', (t) => {
  for (const k of [...kinds, 'amend']) t.true((keywords.statement as readonly string[]).includes(k), k);
});

test('the rules and decisions are the same three actions, each also a statement', (t) => {
  t.deepEqual([...keywords.rule], ['allow', 'ask', 'deny']);
  t.deepEqual([...keywords.decision], [...keywords.rule]);
  for (const a of keywords.rule) t.true((keywords.statement as readonly string[]).includes(a));
});

test('the items of the forms are exactly the item keywords', (t) => {
  const taken = new Set(Object.values(itemsByForm).flat());
  t.deepEqual([...taken].sort(), [...keywords.item].sort());
});

test('every kind has a word with its article and a noun, and no other key', (t) => {
  t.deepEqual(Object.keys(kindWords).sort(), [...kinds].sort());
  t.deepEqual(Object.keys(kindNouns).sort(), [...kinds].sort());
  for (const k of kinds) {
    t.regex(kindWords[k], /^(a|an|the) /, k);
    t.true(kindWords[k].endsWith(kindNouns[k]), `${kindWords[k]} / ${kindNouns[k]}`);
  }
});

test('identities take network items, qubes do not', (t) => {
  t.true(itemsByForm.identity.includes('network'));
  t.false(itemsByForm.identity.includes('template'));
  for (const k of kinds.filter((k) => k !== 'identity')) t.false(itemsByForm[k].includes('network'), k);
});

test('the parser accepts every statement keyword where a statement starts', (t) => {
  // A keyword the grammar does not know would be reported as "expected a statement".
  for (const k of keywords.statement) {
    const { diagnostics } = parseFile(new SourceFile('p.qpol', `${k} `));
    t.false(diagnostics.some((d) => d.message.includes(`found \`${k}\``)), `${k}: ${diagnostics.map((d) => d.message).join('; ')}`);
  }
});

test('the parser accepts every setting keyword inside `settings`', (t) => {
  for (const k of keywords.setting) {
    const { diagnostics } = parseFile(new SourceFile('p.qpol', `settings {\n  ${k} `));
    t.false(diagnostics.some((d) => d.message.includes(`found \`${k}\``)), `${k}: ${diagnostics.map((d) => d.message).join('; ')}`);
  }
});
