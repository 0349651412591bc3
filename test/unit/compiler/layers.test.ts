/**
 * The layers of the compiler and the targets (README, Layout): every import
 * between files of compiler/ and targets/ goes down the layer table below or
 * stays inside its layer, and no import cycle joins files. Imports are read
 * from the text (static, export-from, side-effect, type-only and dynamic
 * `import()` all count), so a back-edge fails here with the file, the import
 * and the rule it breaks.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

interface Layer {
  readonly name: string;
  /** Folders (ending in `/`) and files, relative to the package root; the longest match decides. */
  readonly files: readonly string[];
  /** The layers below this one that its files may import. */
  readonly may: readonly string[];
  readonly why: string;
}

/** Low to high: a layer may import only layers listed before it. */
const layers: readonly Layer[] = [
  // lock-file.ts is the format of a file qpc reads and writes, like host.ts's files: it imports nothing, and both the load stage and the allocation use it.
  // collect-text.ts is the snapshot script's text, a constant: `qpc snapshot` writes it and provision.sh ships it to compare the machine with a plan's.
  { name: 'core', files: ['compiler/source.ts', 'compiler/host.ts', 'compiler/hash.ts', 'compiler/version.ts', 'compiler/qubes-values.ts', 'compiler/lock-file.ts', 'compiler/unified-diff.ts', 'compiler/snapshot/collect-text.ts'], may: [], why: 'leaf utilities: sources and spans, the file system, sha256, the version, Qubes value tables, the lock file format, the snapshot script text' },
  { name: 'diagnostics', files: ['compiler/diagnostics/'], may: ['core'], why: 'the catalogue, diagnostics and their renderers' },
  { name: 'syntax', files: ['compiler/syntax/', 'grammar/generated/'], may: ['core', 'diagnostics'], why: 'the grammar, the tree, the parser and the printer' },
  {
    name: 'program',
    files: ['compiler/program.ts', 'compiler/model.ts', 'compiler/whonix.ts', 'compiler/qrexec/types.ts', 'compiler/qrexec/token.ts', 'compiler/stdlib-cache.ts'],
    may: ['core', 'diagnostics', 'syntax'],
    why: "the bound program, the model targets read, the qrexec data types and Qubes' token model (the targets' second wall reads it too), the Whonix helpers, the standard library reader",
  },
  { name: 'graph', files: ['compiler/graph/'], may: ['core', 'diagnostics', 'syntax', 'program'], why: 'the policy graph' },
  { name: 'qrexec', files: ['compiler/qrexec/'], may: ['core', 'diagnostics', 'syntax', 'program', 'graph'], why: 'the qrexec evaluator and its analysis' },
  { name: 'passes', files: ['compiler/passes/'], may: ['core', 'diagnostics', 'syntax', 'program', 'graph', 'qrexec'], why: 'loading, binding, checks and lowering' },
  { name: 'native', files: ['compiler/native/'], may: ['core', 'diagnostics', 'program', 'qrexec'], why: "native qrexec policy files read as Qubes' loader reads them, and `qpc lint`" },
  { name: 'snapshot', files: ['compiler/snapshot/'], may: ['core', 'diagnostics', 'program'], why: "a machine's recorded state: the dom0 script that records it and its reader" },
  { name: 'import', files: ['compiler/import/'], may: ['core', 'diagnostics', 'syntax', 'program', 'qrexec', 'native', 'snapshot'], why: "`qpc import`: a recorded machine as a policy in the language, and the proof that both decide alike" },
  { name: 'contract', files: ['compiler/target.ts'], may: ['core', 'diagnostics', 'program'], why: 'what a target is' },
  { name: 'plan', files: ['compiler/plan/'], may: ['core', 'diagnostics', 'program', 'snapshot', 'contract'], why: "`qpc plan`: the machine a policy's provisioning leaves, as immer patches from the recorded one" },
  { name: 'targets', files: ['targets/'], may: ['core', 'diagnostics', 'program', 'contract'], why: 'the targets: the model and the contract in, artifacts out' },
  { name: 'registry', files: ['targets/index.ts'], may: ['contract', 'targets'], why: 'the table of every target' },
  {
    name: 'api',
    files: ['compiler/pipeline.ts', 'compiler/compile.ts', 'compiler/index.ts'],
    may: ['core', 'diagnostics', 'syntax', 'program', 'graph', 'qrexec', 'passes', 'native', 'snapshot', 'import', 'contract', 'plan', 'targets', 'registry'],
    why: 'the pipeline, compile and the public API',
  },
  { name: 'lsp', files: ['compiler/lsp/'], may: ['api'], why: 'the language server, an adapter over the API' },
  // `qpc lsp` starts the language server: the one import between adapters.
  { name: 'cli', files: ['compiler/cli/'], may: ['api', 'lsp'], why: 'the command line, an adapter over the API' },
];

const roots = ['compiler', 'targets'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * The text with comments removed and every string or template literal
 * replaced by `"§n§"`, `n` indexing `strings`; regular expression literals
 * are kept whole so that their quotes do not open a string.
 */
function tokens(text: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let code = '';
  let i = 0;
  const regexAfter = /[(,=:[!&|?{};+\-*%<>~^]$|(?:^|[^\w$])(?:return|typeof|case|of|in)$/;
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      code += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      strings.push(text.slice(i + 1, j));
      code += `"§${strings.length - 1}§"`;
      i = j + 1;
    } else if (c === '/' && regexAfter.test(code.trimEnd())) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n' && (inClass || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        j++;
      }
      code += text.slice(i, j + 1);
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** Every module specifier a file's text imports or re-exports, in order of appearance. */
export function importsOf(text: string): string[] {
  const { code, strings } = tokens(text);
  const str = String.raw`"§(\d+)§"`;
  const forms = [
    new RegExp(String.raw`(?:^|[;}\n])\s*(?:import|export)\b[^;"]*?\bfrom\s*${str}`, 'g'),
    new RegExp(String.raw`(?:^|[;}\n])\s*import\s*${str}`, 'g'),
    new RegExp(String.raw`\bimport\s*\(\s*${str}`, 'g'),
  ];
  const found: { at: number; spec: string }[] = [];
  for (const re of forms) for (const m of code.matchAll(re)) found.push({ at: m.index, spec: strings[Number(m[1])]! });
  return found.sort((a, b) => a.at - b.at).map((f) => f.spec);
}

function layerOf(file: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers) {
    for (const f of layer.files) {
      const hit = f.endsWith('/') ? file.startsWith(f) : file === f;
      if (hit && (best === undefined || f.length > best.length)) best = { layer, length: f.length };
    }
  }
  return best?.layer;
}

/** The file a relative specifier names: `.js` is the `.ts` source when there is one. */
function resolve(from: string, spec: string): string {
  const p = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const ts = p.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : p;
}

interface Edge {
  readonly from: string;
  readonly spec: string;
  readonly to: string;
}

function edges(): Edge[] {
  return roots
    .flatMap(sourceFiles)
    .sort()
    .flatMap((from) =>
      importsOf(readFileSync(from, 'utf8'))
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => ({ from, spec, to: resolve(from, spec) })),
    );
}

/** A violation of the layer table, or undefined when the import is allowed. */
function breach(e: Edge): string | undefined {
  const a = layerOf(e.from);
  if (!a) return `${e.from}: not in the layer table`;
  if (!existsSync(e.to)) return `${e.from}: imports \`${e.spec}\`, which does not exist`;
  const b = layerOf(e.to);
  if (!b) return `${e.from}: imports \`${e.spec}\` (${e.to}), which is in no layer`;
  if (a === b || a.may.includes(b.name)) return undefined;
  return `${e.from}: imports \`${e.spec}\` (${e.to}, layer ${b.name}); layer ${a.name} (${a.why}) may import only ${a.may.length === 0 ? 'itself' : [a.name, ...a.may].join(', ')}`;
}

/** One cycle per strongly connected group of files, as a path that returns to its start. */
function cycles(all: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of all) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (next.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => {
    // Walk inside the group from its first file until a file repeats.
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    const seen: string[] = [start];
    for (;;) {
      const last = seen[seen.length - 1]!;
      const step = (next.get(last) ?? []).filter((w) => members.has(w)).sort()[0]!;
      const at = seen.indexOf(step);
      if (at >= 0) return [...seen.slice(at), step];
      seen.push(step);
    }
  });
}

test('the layer table lists each layer once and only lower layers as allowed', (t) => {
  const before = new Set<string>();
  for (const l of layers) {
    t.false(before.has(l.name), `layer ${l.name} is listed twice`);
    for (const m of l.may) t.true(before.has(m), `layer ${l.name} may import ${m}, which is not below it`);
    before.add(l.name);
  }
});

test('the scanner finds every form of import and nothing in comments or strings', (t) => {
  const text = [
    "import a from './a.js';",
    "import { b,\n  c } from './b.js';",
    "import type { D } from './d.js';",
    "export { e } from './e.js';",
    "export * from './f.js';",
    "export type { G } from './g.js';",
    "import './side.js';",
    "const h = await import('./h.js');",
    "let i: import('./i.js').I;",
    "// import x from './comment.js';",
    "/* export { y } from './block.js'; */",
    "const s = \"import z from './string.js'\";",
    "const r = /['\"]/; const u = `import('./template.js')`;",
    "export const j = 1; import { k } from 'node:fs';",
  ].join('\n');
  t.deepEqual(importsOf(text), ['./a.js', './b.js', './d.js', './e.js', './f.js', './g.js', './side.js', './h.js', './i.js', 'node:fs']);
});

test('every file of compiler/ and targets/ is in a layer', (t) => {
  const missing = roots.flatMap(sourceFiles).filter((f) => !layerOf(f));
  t.deepEqual(missing, []);
});

test('imports go down the layer table', (t) => {
  const all = edges();
  t.true(all.length > 100, 'the scanner found too few imports');
  const broken = all.map(breach).filter((b): b is string => b !== undefined);
  t.deepEqual(broken, [], broken.join('\n'));
});

test('no import cycle joins files of compiler/ and targets/', (t) => {
  const found = cycles(edges()).map((c) => c.join(' → '));
  t.deepEqual(found, [], found.join('\n'));
});
