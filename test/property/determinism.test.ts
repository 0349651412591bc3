/**
 * Determinism (DESIGN §5 and §7): checking a policy twice gives the same
 * diagnostics; the order of order-irrelevant statements (declarations,
 * `require`, `expect`, `waive`) does not change what `check` finds — rules
 * keep their order, since qrexec takes the first match — in the examples, in
 * edited examples and in random network topologies; and `qpc fmt` is
 * idempotent on the examples and the standard library.
 */
import { deepStrictEqual, ok } from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import { check, compile, format, type Diagnostic } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import { SourceFile } from '../../compiler/source.js';
import type { Statement } from '../../compiler/syntax/ast.js';
import { parseFile } from '../../compiler/syntax/parse.js';

const RUNS = { twice: 150, reorder: 150, reorderEdited: 200, topologies: 300, compile: 15 } as const;

interface Policy {
  readonly path: string;
  readonly text: string;
}

const read = (dir: string): Policy[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.qpol'))
    .sort()
    .map((f) => ({ path: `${dir}/${f}`, text: readFileSync(`${dir}/${f}`, 'utf8') }));

const examples = read('examples');
const standardLibrary = read('policies');

/** Checks `text` as the file `path`; imports other than the standard library are absent. */
function checkText(path: string, text: string): readonly Diagnostic[] {
  return check(path, { host: overlayHost(new Map([[path, text]])) }).diagnostics;
}

const codesOf = (ds: readonly Diagnostic[]): string[] => [...new Set(ds.map((d) => d.code))].sort();

const describe = (ds: readonly Diagnostic[]): string => ds.map((d) => `${d.code} ${d.span ? `${d.span.line}:${d.span.column}` : '-'} ${d.message}`).join('\n');

// ---------------------------------------------------------------- edits that keep the syntax

function statementsOf(path: string, text: string): readonly Statement[] | undefined {
  return parseFile(new SourceFile(path, text)).ast?.statements;
}

/** Statements whose position means nothing: the binder sees the whole program at once. */
const MOVABLE = new Set<Statement['kind']>(['Declaration', 'Require', 'Expect', 'Waive']);

/**
 * The text with the movable statements dealt out over their own places in the
 * order `order` gives (a permutation of their indices); everything between
 * statements (comments, blank lines, rules) stays where it was.
 */
function reorder(text: string, statements: readonly Statement[], order: readonly number[]): string {
  const movable = statements.filter((s) => MOVABLE.has(s.kind));
  const pieces = movable.map((s) => text.slice(s.span.start, s.span.end));
  let out = '';
  let at = 0;
  movable.forEach((s, i) => {
    out += text.slice(at, s.span.start) + pieces[order[i]];
    at = s.span.end;
  });
  return out + text.slice(at);
}

/** A permutation of 0..n-1. */
const permutation = (n: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  );

/** An example and a permutation of its movable statements. */
const shuffled = fc.nat({ max: examples.length - 1 }).chain((e) => {
  const statements = statementsOf(examples[e].path, examples[e].text)!;
  return fc.tuple(fc.constant(e), permutation(statements.filter((s) => MOVABLE.has(s.kind)).length));
});

/**
 * Edits that keep an example parseable and add no duplicate declaration:
 * statements dropped (which leaves dangling references and unused names) and
 * names misspelt (unknown names with "did you mean").
 */
const edited = fc
  .record({
    example: fc.nat({ max: examples.length - 1 }),
    drop: fc.array(fc.nat(), { maxLength: 4 }),
    typos: fc.array(fc.nat(), { maxLength: 4 }),
    order: fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
  })
  .map(({ example, drop, typos, order }) => {
    const { path } = examples[example];
    let text = examples[example].text;
    for (const k of typos) {
      const names = [...text.matchAll(/(?<=^|[ \t])(?:in|via|template|netvm|from|to|qube|identity) ([a-z][a-z0-9-]*)(?=[ \t\n;{:])/gm)];
      const m = names[k % names.length];
      const end = m.index + m[0].length;
      text = text.slice(0, end) + 'zz' + text.slice(end);
    }
    const statements = statementsOf(path, text)!;
    const gone = new Set(drop.map((k) => k % statements.length));
    for (const i of [...gone].sort((a, b) => b - a)) {
      const s = statements[i];
      if (s.kind !== 'UseStatement' && s.kind !== 'SettingsBlock') text = text.slice(0, s.span.start) + text.slice(s.span.end);
    }
    const after = statementsOf(path, text);
    const n = after ? after.filter((s) => MOVABLE.has(s.kind)).length : 0;
    // A permutation from random keys: sort the indices by (key, index).
    const perm = Array.from({ length: n }, (_, i) => i).sort((a, b) => order[a % order.length] - order[b % order.length] || a - b);
    return { path, text, perm };
  });

/**
 * A random network topology as a list of declarations (in any order, they are
 * the same program) and a list of rules: gateways chained at random, loops
 * included, identities on any gateway, qubes overriding netvm, apps with
 * SOCKS bindings. Most of these have findings of the graph checks.
 */
const topology = fc
  .record({
    gateways: fc.array(fc.record({ netvm: fc.nat(), tor: fc.boolean(), uplink: fc.boolean(), whonix: fc.boolean() }), { maxLength: 4 }),
    identities: fc.array(fc.record({ network: fc.constantFrom('tor', 'clearnet', 'none'), via: fc.nat() }), { minLength: 1, maxLength: 3 }),
    qubes: fc.array(
      fc.record({
        identity: fc.nat(),
        template: fc.constantFrom('debian-12-xfce', 'whonix-workstation-18'),
        netvm: fc.option(fc.nat(), { nil: undefined }),
        apps: fc.array(fc.constantFrom('', ' { socks dedicated }', ' { socks auth }', ' { socks none }', ' { socks port 9150 }', ' { socks port 9040 }'), { maxLength: 3 }),
      }),
      { maxLength: 6 },
    ),
    rules: fc.array(fc.tuple(fc.constantFrom('allow', 'ask', 'deny'), fc.constantFrom('qubes.Filecopy', 'qubes.OpenURL', '*'), fc.nat(), fc.nat()), { maxLength: 4 }),
  })
  .chain((t) => {
    const gws = ['sys-net', 'sys-firewall', 'sys-whonix', ...t.gateways.map((_, i) => `gw${i}`)];
    const netvms = [...gws, 'none'];
    const ids = t.identities.map((_, i) => `id${i}`);
    const qs = t.qubes.map((_, i) => `q${i}`);
    const decls = [
      'template debian-12-xfce',
      ...t.gateways.map((g, i) => `gateway gw${i} { netvm ${netvms[g.netvm % netvms.length]}${g.tor ? '; tor' : ''}${g.uplink ? '; uplink' : ''}; template ${g.whonix ? 'whonix-gateway-18' : 'debian-12-xfce'} }`),
      ...t.identities.map((d, i) => `identity ${ids[i]} { network ${d.network === 'none' ? 'none' : `${d.network} via ${gws[d.via % gws.length]}`} }`),
      ...t.qubes.map((q, i) => `qube ${qs[i]} in ${ids[q.identity % ids.length]} {\n  template ${q.template}${q.netvm === undefined ? '' : `\n  netvm ${netvms[q.netvm % netvms.length]}`}${q.apps.map((a, k) => `\n  app a${k}${a}`).join('')}\n}`),
    ];
    const ends = [...qs, ...ids, '@anyvm'];
    const rules = t.rules.map(([a, svc, f, to]) => `${a} ${svc} from ${ends[f % ends.length]} to ${ends[to % ends.length]}`);
    return fc.tuple(fc.constant(decls), permutation(decls.length), fc.constant(rules));
  })
  .map(([decls, order, rules]) => {
    const program = (ds: readonly string[]) => ['use "qubes"', 'use "whonix"', 'settings { qubes 4.2; whonix 18 }', ...ds, ...rules].join('\n') + '\n';
    return { text: program(decls), shuffled: program(order.map((i) => decls[i])) };
  });

// ---------------------------------------------------------------- properties

test('checking the same policy twice gives identical diagnostics', (t) => {
  for (const p of [...examples, ...standardLibrary]) {
    const first = check(p.path, { host: nodeHost });
    const second = check(p.path, { host: nodeHost });
    t.deepEqual(second.diagnostics, first.diagnostics, p.path);
    t.deepEqual([...second.sources.keys()], [...first.sources.keys()], p.path);
  }
  fc.assert(
    fc.property(edited, ({ path, text }) => {
      deepStrictEqual(checkText(path, text), checkText(path, text));
    }),
    { numRuns: RUNS.twice },
  );
});

test('the examples check clean', (t) => {
  for (const p of examples) t.deepEqual(describe(checkText(p.path, p.text)), '', p.path);
});

test('reordering the declarations of an example keeps it clean', (t) => {
  fc.assert(
    fc.property(shuffled, ([e, order]) => {
      const { path, text } = examples[e];
      const statements = statementsOf(path, text)!;
      const moved = reorder(text, statements, order);
      const after = statementsOf(path, moved);
      ok(after && after.length === statements.length, 'the reordered text parses to as many statements');
      deepStrictEqual(describe(checkText(path, moved)), '', 'still clean after reordering');
    }),
    { numRuns: RUNS.reorder },
  );
  t.pass();
});

test('reordering the declarations of an edited example finds the same codes', (t) => {
  fc.assert(
    fc.property(edited, ({ path, text, perm }) => {
      const statements = statementsOf(path, text);
      fc.pre(statements !== undefined);
      const before = checkText(path, text);
      const after = checkText(path, reorder(text, statements, perm));
      deepStrictEqual(codesOf(after), codesOf(before), `before:\n${describe(before)}\nafter:\n${describe(after)}`);
      deepStrictEqual(after.length, before.length, 'as many diagnostics');
    }),
    { numRuns: RUNS.reorderEdited },
  );
  t.pass();
});

// ---------------------------------------------------------------- formatting

/** `compiler/syntax/print.ts` may not exist yet in a checkout; then there is nothing to test. */
const formatTest = existsSync('compiler/syntax/print.ts') ? test : test.skip;

formatTest('format is idempotent on the examples and the standard library', (t) => {
  for (const p of [...examples, ...standardLibrary]) {
    const once = format(p.path, p.text);
    t.deepEqual(describe(once.diagnostics), '', `${p.path} formats without diagnostics`);
    if (once.text === undefined) continue;
    const twice = format(p.path, once.text);
    t.is(twice.text, once.text, `${p.path}: formatting the formatted text changes it`);
  }
});

formatTest('the formatted examples still check clean', (t) => {
  for (const p of examples) {
    const text = format(p.path, p.text).text;
    if (text === undefined) t.fail(`${p.path} does not format`);
    else t.is(describe(checkText(p.path, text)), '', p.path);
  }
});

test('reordering the declarations of a random network topology finds the same codes', (t) => {
  fc.assert(
    fc.property(topology, ({ text, shuffled }) => {
      const before = checkText('net.qpol', text);
      deepStrictEqual(checkText('net.qpol', text), before, 'checking twice gives the same diagnostics');
      const after = checkText('net.qpol', shuffled);
      const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code).sort();
      deepStrictEqual(codes(after), codes(before), `before:\n${describe(before)}\nafter:\n${describe(after)}\n--- text\n${text}--- reordered\n${shuffled}`);
    }),
    { numRuns: RUNS.topologies },
  );
  t.pass();
});

// ---------------------------------------------------------------- compile

/** Every artifact of a compile except the manifest (which hashes the source text itself). */
async function artifactsOf(path: string, text: string): Promise<Map<string, string>> {
  const r = await compile(path, { host: overlayHost(new Map([[path, text]])) });
  ok(r.artifacts, `${path} does not compile:\n${describe(r.diagnostics)}`);
  return new Map(r.artifacts.filter((a) => a.path !== 'manifest.json').map((a) => [a.path, a.contents]));
}

test('compile writes the same bytes whatever the order of declarations', async (t) => {
  const baseline = await Promise.all(examples.map((e) => artifactsOf(e.path, e.text)));
  await fc.assert(
    fc.asyncProperty(shuffled, async ([e, order]) => {
      const { path, text } = examples[e];
      const moved = reorder(text, statementsOf(path, text)!, order);
      deepStrictEqual(await artifactsOf(path, moved), baseline[e]);
    }),
    { numRuns: RUNS.compile },
  );
  t.pass();
});
