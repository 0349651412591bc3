/**
 * Catalogue integrity: codes are well formed, unique and in the range of
 * their purpose; wording follows the catalogue's rules; every live code has
 * an explanation and a golden case under test/golden/diagnostics.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { allCodes, codes, isCode, templatesOf, type Code, type CodeSpec } from '../../../../compiler/diagnostics/codes.js';

const catalogueFile = 'compiler/diagnostics/codes.ts';
const goldenRoot = 'test/golden/diagnostics';

/**
 * Live codes without a golden case, each with the reason. Keep this short:
 * an entry is a gap in the tests, not a permission.
 */
const goldenExemptions: Readonly<Partial<Record<Code, string>>> = {};

/**
 * The purpose of each range (the header of codes.ts; STYLE §3) and the
 * sources that may report its codes.
 */
const ranges: Readonly<Record<string, { readonly purpose: string; readonly emitters: readonly string[] }>> = {
  '1': { purpose: 'syntax', emitters: ['compiler/syntax/', 'grammar/'] },
  '2': { purpose: 'names and binding', emitters: ['compiler/passes/', 'compiler/pipeline.ts'] },
  '3': { purpose: 'graph and security invariants', emitters: ['compiler/passes/check-network.ts', 'compiler/passes/allocate-socks.ts', 'compiler/passes/check-lock.ts', 'compiler/graph/', 'compiler/qrexec/'] },
  '4': { purpose: 'targets', emitters: ['targets/'] },
  // pipeline.ts reads the entry file that was named on the command line, passes/read-lock.ts the lock file beside it.
  // compile.ts checks the `--target` list it is given.
  // compiler/native/ reads the paths and the --system-info file `qpc lint` was given.
  '5': { purpose: 'command line and I/O', emitters: ['compiler/cli/', 'compiler/pipeline.ts', 'compiler/passes/read-lock.ts', 'compiler/compile.ts', 'compiler/snapshot/read.ts', 'compiler/native/'] },
  // compiler/import/ (QP62xx) turns a machine's native policy files into the language, and proves the result.
  '6': { purpose: 'native policy files', emitters: ['compiler/native/', 'compiler/import/'] },
  '9': { purpose: 'internal', emitters: ['compiler/cli/', 'compiler/index.ts'] },
};

const entries = (): [Code, CodeSpec][] => allCodes.map((c) => [c, codes[c] as CodeSpec]);
const live = (): [Code, CodeSpec][] => entries().filter(([, s]) => !s.retired);

/** Every place a code is reported: `diag('QPnnnn', …)` in the compiler, `error("QPnnnn: …")` in the grammar. */
function emissions(): { code: string; file: string }[] {
  const out: { code: string; file: string }[] = [];
  const scan = (dir: string, ext: string, re: RegExp) => {
    for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
      if (!rel.endsWith(ext)) continue;
      const file = path.posix.join(dir, rel.split(path.sep).join('/'));
      for (const m of readFileSync(file, 'utf8').matchAll(re)) out.push({ code: m[1], file });
    }
  };
  scan('compiler', '.ts', /\bdiag\(\s*'(QP\d{4})'/g);
  scan('targets', '.ts', /\bdiag\(\s*'(QP\d{4})'/g);
  scan('grammar', '.peggy', /\berror\(\s*"(QP\d{4}):/g);
  return out;
}

test('codes are well formed and unique', (t) => {
  for (const c of allCodes) t.regex(c, /^QP[1-69]\d{3}$/, `${c} is not a well-formed code`);
  // Duplicate keys in an object literal collapse at run time, so count them in the source.
  const declared = [...readFileSync(catalogueFile, 'utf8').matchAll(/^ {2}(QP\d{4}):/gm)].map((m) => m[1]);
  t.deepEqual(
    declared.filter((c, i) => declared.indexOf(c) !== i),
    [],
    'a code is declared more than once',
  );
  t.deepEqual([...declared].sort(), [...allCodes], 'the catalogue source and `codes` disagree');
  t.true(isCode('QP2001'));
  t.false(isCode('QP0000'));
});

test("each code's range matches its purpose", (t) => {
  for (const c of allCodes) t.truthy(ranges[c[2]], `${c} is in no range qpc uses (${Object.keys(ranges).join(', ')})`);
  const found = emissions();
  for (const { code, file } of found) {
    t.true(isCode(code), `${file} reports ${code}, which is not in the catalogue`);
    const range = ranges[code[2]];
    if (!range) continue;
    t.true(
      range.emitters.some((e) => file === e || file.startsWith(e)),
      `${file} reports ${code}, but QP${code[2]}xxx codes are for ${range.purpose} (reported from ${range.emitters.join(', ')})`,
    );
  }
  for (const [c] of live()) t.true(found.some((f) => f.code === c), `nothing reports ${c}; retire it or report it`);
});

test('templates start lowercase and have no final period', (t) => {
  for (const [code, s] of entries()) {
    for (const { kind, template } of templatesOf(s)) {
      const c = kind === undefined ? code : `${code} (${kind})`;
      t.not(template, '', `${c} has an empty template`);
      t.notRegex(template, /^[A-Z]/, `${c}: the template must start lowercase`);
      // After leading placeholders and code spans, the first word must be lowercase too.
      const words = template.replace(/\{\w+\}|`[^`]*`/g, '').trim();
      t.notRegex(words, /^[A-Z]/, `${c}: the template must start lowercase`);
      t.notRegex(template, /[.\s]$/, `${c}: the template must not end in a period or space`);
    }
  }
});

test('a code with a template per kind has several kinds, kebab-case, none a placeholder', (t) => {
  for (const [c, s] of entries()) {
    if (typeof s.template === 'string') continue;
    const kinds = Object.keys(s.template);
    t.true(kinds.length > 1, `${c} has a template per kind but only one kind: make it a plain template`);
    for (const k of kinds) {
      t.regex(k, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${c}: kind \`${k}\` is not kebab-case`);
      t.notRegex(s.template[k], /\{kind\}/, `${c} (${k}): \`kind\` selects the template and is not printed`);
    }
  }
});

test('every live code has a summary and a rationale', (t) => {
  for (const [c, s] of live()) {
    t.true(s.summary.trim().length > 0, `${c} has no summary`);
    t.true(s.explanation.rationale.trim().length > 0, `${c} has no rationale`);
  }
});

test('slugs are unique kebab-case', (t) => {
  const slugs = entries().map(([, s]) => s.slug);
  for (const [c, s] of entries()) t.regex(s.slug, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${c}: slug \`${s.slug}\` is not kebab-case`);
  t.deepEqual(
    slugs.filter((s, i) => slugs.indexOf(s) !== i),
    [],
    'a slug is used by more than one code',
  );
});

test('every live code has a golden case', (t) => {
  for (const [c, s] of live()) {
    const dir = path.posix.join(goldenRoot, `${c}-${s.slug}`);
    if (goldenExemptions[c] !== undefined) {
      t.false(existsSync(dir), `${c} has a golden case now: remove it from goldenExemptions`);
      continue;
    }
    t.true(existsSync(dir), `${c} has no golden case ${dir}`);
    t.true(existsSync(path.join(dir, 'input.qpol')) || existsSync(path.join(dir, 'command')), `${dir} has neither input.qpol nor command`);
  }
  for (const c of Object.keys(goldenExemptions)) t.true(isCode(c) && !(codes[c] as CodeSpec).retired, `exemption ${c} is not a live code`);
});

test('every golden case names an existing code with its current slug', (t) => {
  const dirs = readdirSync(goldenRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  t.true(dirs.length > 0);
  for (const name of dirs) {
    const m = /^(QP\d{4})-(.+)$/.exec(name);
    if (!m) {
      t.fail(`${name} is not named QPnnnn-slug`);
      continue;
    }
    const [, code, slug] = m;
    if (!isCode(code)) {
      t.fail(`${name}: ${code} is not in the catalogue`);
      continue;
    }
    t.is(slug, codes[code].slug, `${name}: the slug of ${code} is \`${codes[code].slug}\``);
  }
});
