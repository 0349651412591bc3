/**
 * Properties of the analysis past binding errors: a statement that does not
 * bind, added to a valid policy, adds only its own errors, and a typo in a
 * name a statement of it refers to adds only the typo's errors. Every other
 * finding of the result (topology, qrexec, SOCKS, hygiene, waivers) was
 * already a finding of the valid policy: nothing cascades from the error.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { check, type Diagnostic } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import { parseFile } from '../../compiler/syntax/parse.js';
import { SourceFile, type Span } from '../../compiler/source.js';
import type { Endpoint, Statement, Word } from '../../compiler/syntax/ast.js';

/** The names a statement refers to (not the names it declares), as written. */
function references(s: Statement): (Word | Endpoint)[] {
  switch (s.kind) {
    case 'Declaration':
      return [
        ...(s.identity ? [s.identity] : []),
        ...s.items.flatMap((i) => (i.kind === 'RefItem' && i.target ? [i.target] : i.kind === 'NetworkItem' && i.via ? [i.via] : [])),
      ];
    case 'Rule':
      return [s.source, s.target, ...s.params.flatMap((p) => (p.kind === 'EndpointParam' ? [p.value] : []))];
    case 'PolicyFileBlock':
      return s.rules.flatMap(references);
    case 'Require':
      return [s.subject, s.object];
    case 'Expect':
      return [s.source, s.target];
    case 'Waive':
      return [s.subject];
    default:
      return [];
  }
}

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.qpol'))
  .map((f) => {
    const path = `examples/${f}`;
    const text = readFileSync(path, 'utf8');
    const ast = parseFile(new SourceFile(path, text)).ast!;
    // Where a statement may go: before any top-level statement, or at the end.
    const at = [...ast.statements.map((s) => s.span.start), text.length];
    const rules = ast.statements.flatMap((s) => (s.kind === 'Rule' ? [s] : s.kind === 'PolicyFileBlock' ? s.rules : []));
    const names = ast.statements.flatMap((s) => (s.kind === 'Declaration' && s.form !== 'amend' ? [s.name.text] : []));
    // Plain names only: a token such as `@anyvm` with a letter added is a different mistake.
    const refs: Span[] = ast.statements.flatMap(references).filter((w) => /^[A-Za-z]/.test(w.text)).map((w) => w.span);
    return { path, text, at, services: [...new Set(rules.map((r) => r.service.text))], names, refs };
  });

const key = (d: Diagnostic) => `${d.code}|${d.severity}|${d.subject ?? ''}|${d.message}`;

/** The findings of a check of `path` with `text`, outside the characters [from, to). */
function findings(path: string, text: string, from = 0, to = 0): string[] {
  const r = check(path, { host: overlayHost(new Map([[path, text]]), nodeHost), targets: [] });
  return r.diagnostics.filter((d) => !(d.span?.file === path && d.span.start >= from && d.span.end <= to)).map(key);
}

const baseline = new Map(examples.map((e) => [e.path, new Set(findings(e.path, e.text))]));

/** A statement with one name that binds to nothing, built from an example's own words. */
const broken = fc.integer({ min: 0, max: examples.length - 1 }).chain((n) => {
  const e = examples[n];
  const name = fc.constantFrom(...e.names);
  const rule = fc
    .record({
      action: fc.constantFrom('allow', 'ask', 'deny'),
      service: fc.constantFrom('*', ...e.services),
      known: fc.oneof(name, fc.constantFrom('@anyvm', '@tag:x')),
      typo: name.map((x) => `${x}x`),
      typoIsSource: fc.boolean(),
    })
    .map((r) => `${r.action} ${r.service} from ${r.typoIsSource ? r.typo : r.known} to ${r.typoIsSource ? r.known : r.typo}\n`);
  const amend = fc.record({ name, item: fc.constantFrom('netvm nowhere', 'template nowhere', 'label nonsense', 'default-disposable nowhere') }).map((a) => `amend ${a.name} { ${a.item} }\n`);
  const expect = fc.record({ service: fc.constantFrom(...e.services), name }).map((x) => `expect ${x.service} from ${x.name} to ${x.name}x: deny\n`);
  const waive = fc.record({ code: fc.constantFrom('QP3004', 'QP3009', 'QP3030', 'QP3033'), name }).map((w) => `waive ${w.code} on ${w.name}x because "a typo"\n`);
  return fc.record({ e: fc.constant(e), at: fc.constantFrom(...e.at), statement: fc.oneof(rule, amend, expect, waive) });
});

test('a statement that does not bind adds no finding but its own errors', (t) => {
  fc.assert(
    fc.property(broken, ({ e, at, statement }) => {
      const text = e.text.slice(0, at) + statement + e.text.slice(at);
      const got = findings(e.path, text, at, at + statement.length);
      const before = baseline.get(e.path)!;
      const added = got.filter((k) => !before.has(k));
      if (added.length > 0) throw new Error(`${JSON.stringify(statement)} at ${at} of ${e.path} adds ${added.join('\n')}`);
    }),
    { numRuns: 40 },
  );
  t.pass();
});

test('a typo in a name a statement refers to adds no finding but errors', (t) => {
  const typo = fc.integer({ min: 0, max: examples.length - 1 }).chain((n) => fc.record({ e: fc.constant(examples[n]), span: fc.constantFrom(...examples[n].refs) }));
  fc.assert(
    fc.property(typo, ({ e, span }) => {
      const text = `${e.text.slice(0, span.end)}x${e.text.slice(span.end)}`;
      const r = check(e.path, { host: overlayHost(new Map([[e.path, text]]), nodeHost), targets: [] });
      // The errors of the typo are binding errors; every other finding must be one the valid policy has.
      const before = baseline.get(e.path)!;
      const added = r.diagnostics.filter((d) => !(d.severity === 'error' && d.code.startsWith('QP2'))).map(key).filter((k) => !before.has(k));
      if (added.length > 0) throw new Error(`a typo in \`${e.text.slice(span.start, span.end)}\` (line ${span.line} of ${e.path}) adds ${added.join('\n')}`);
      if (!r.diagnostics.some((d) => d.code === 'QP2001' || d.code === 'QP2004')) throw new Error(`the typo at line ${span.line} of ${e.path} is not a name error`);
    }),
    { numRuns: 60 },
  );
  t.pass();
});
