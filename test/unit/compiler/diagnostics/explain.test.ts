/**
 * Explanation pages from the catalogue: `qpc explain` text, the Markdown of
 * SARIF rule help and docs/diagnostics.md. One source, so the two agree.
 */
import test from 'ava';
import { allCodes, codes, waiverClass, type Code, type CodeSpec } from '../../../../compiler/diagnostics/codes.js';
import { diagnosticsDocument, explain, explainMarkdown } from '../../../../compiler/diagnostics/explain.js';

const byClass = (cls: string): Code => allCodes.find((c) => waiverClass(c) === cls)!;
/** A code's entry with every optional field visible to the type checker. */
const spec = (c: Code): CodeSpec => codes[c];

test('an unknown code has no page; a known one is found in any case', (t) => {
  t.is(explain('QP0000'), undefined);
  t.is(explain('nonsense'), undefined);
  t.is(explainMarkdown('QP0000'), undefined);
  t.is(explain('qp3004'), explain('QP3004'));
  t.is(explainMarkdown('qp3004'), explainMarkdown('QP3004'));
  t.not(explain('QP3004'), undefined);
});

test('the text page: code, slug and summary, severity, waiver class, rationale', (t) => {
  const page = explain('QP3004')!;
  const spec = codes.QP3004;
  const lines = page.split('\n');
  t.is(lines[0], `QP3004 (${spec.slug}): ${spec.summary}`);
  t.is(lines[2], `severity: ${spec.severity}`);
  t.is(lines[3], 'waiver: explicit (the policy\'s waiver counts only with `--allow-waived QP3004` on the command line)');
  t.true(page.includes(spec.explanation.rationale));
  t.true(page.endsWith('\n'));
  t.false(page.endsWith('\n\n'));
});

test('each waiver class is named with what it means', (t) => {
  t.regex(explain(byClass('never'))!, /^waiver: never \(findings are not waived; a `waive` naming this code is an error\)$/m);
  t.regex(explain(byClass('author'))!, /^waiver: author \(the policy's `because` or `waive` suffices\)$/m);
  const explicit = byClass('explicit');
  t.regex(explain(explicit)!, new RegExp(`^waiver: explicit \\(.*--allow-waived ${explicit}\\b`, 'm'));
});

test('examples are indented four spaces in text and fenced in Markdown, every line of them', (t) => {
  const spec = codes.QP3004;
  const avoid = spec.explanation.avoid!;
  const page = explain('QP3004')!;
  t.true(page.includes('Avoid:\n\n' + avoid.split('\n').map((l) => '    ' + l).join('\n')));
  t.true(page.includes('Prefer:\n\n'));
  const md = explainMarkdown('QP3004')!;
  t.true(md.includes('Avoid:\n\n```qpol\n' + avoid + '\n```'));
});

test('a code without examples has no Avoid or Prefer section', (t) => {
  const plain = allCodes.find((c) => !spec(c).explanation.avoid && !spec(c).explanation.prefer)!;
  t.notRegex(explain(plain)!, /^(Avoid|Prefer):$/m);
  t.notRegex(explainMarkdown(plain)!, /^(Avoid|Prefer):$/m);
});

test('the Markdown heading carries an anchor named after the code, at the level asked for', (t) => {
  t.is(explainMarkdown('QP2018')!.split('\n')[0], `## <a id="QP2018"></a>QP2018 \`${codes.QP2018.slug}\``);
  t.true(explainMarkdown('QP2018', 4)!.startsWith('#### <a id="QP2018"></a>'));
  t.true(explainMarkdown('QP2018')!.includes(`- severity: ${codes.QP2018.severity}\n- waiver: author`));
});

test('the document: an index row and a section per live code, in code order', (t) => {
  const doc = diagnosticsDocument();
  const live = allCodes.filter((c) => !spec(c).retired);
  const rows = [...doc.matchAll(/^\| \[(QP\d{4})\]\(#\1\) \| (\w+) \|/gm)].map((m) => m[1]);
  const sections = [...doc.matchAll(/^## <a id="(QP\d{4})"><\/a>/gm)].map((m) => m[1]);
  t.deepEqual(rows, [...live]);
  t.deepEqual(sections, [...live]);
  for (const c of allCodes.filter((x) => spec(x).retired)) t.false(doc.includes(`id="${c}"`), c);
  t.true(doc.startsWith('# qpc diagnostics\n'));
});

test('every fence of the document closes, and none is shorter than a backtick run inside it', (t) => {
  const doc = diagnosticsDocument();
  const lines = doc.split('\n');
  let open: string | undefined;
  for (const l of lines) {
    const m = /^(`{3,})(\w*)$/.exec(l);
    if (open === undefined) {
      if (m) open = m[1];
    } else if (m && m[1] === open && m[2] === '') open = undefined;
    else t.false(l.includes(open), `a line inside a ${open} fence holds a run as long: ${l}`);
  }
  t.is(open, undefined);
});

test('a summary with a `|` is escaped in its table row', (t) => {
  const doc = diagnosticsDocument();
  for (const row of doc.split('\n').filter((l) => l.startsWith('| [QP'))) t.is(row.split(/(?<!\\)\|/).length, 5, row);
});
