/**
 * `check()` never throws, on any text (DESIGN §7 "fail closed"): arbitrary
 * strings in every Unicode unit and raw bytes, random edits of the examples
 * with the language's own tokens spliced in, random import graphs over an
 * in-memory host (cycles, self-imports, missing and unreadable files), and
 * random network topologies that bind cleanly, so the graph checks run. Every
 * diagnostic has a catalogue code and a span inside the file it names (only
 * QP5xxx/QP9xxx may lack one), and none is QP9001. The command line run on
 * the same input exits 0, 1 or 2 as the diagnostics say, never 3, and prints
 * no JavaScript stack trace. `format()` is held to the same promises.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { check, format, isCode, sortDiagnostics, type CheckResult, type Diagnostic } from '../../compiler/index.js';
import { overlayHost, type CompilerHost } from '../../compiler/host.js';
import type { SourceFile, Span } from '../../compiler/source.js';
import { errorFormats } from '../../compiler/diagnostics/render.js';
import { runQpc } from '../helpers/cli.js';

type Arb<T = string> = fc.Arbitrary<T>;

/** Cases per property; the properties below add up to 2,400 per run. */
const RUNS = { strings: 250, bytes: 200, soup: 250, mutations: 800, imports: 400, topologies: 300 } as const;

/** fast-check's report, with the error the property threw (the list of problems). */
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, includeErrorInReport: true });

/** A `check()` slower than this on inputs of a few kilobytes is a hang in the making. */
const SLOW_MS = 5000;

// ---------------------------------------------------------------- invariants

function spanProblem(s: Span, sources: ReadonlyMap<string, SourceFile>, what: string): string | undefined {
  const src = sources.get(s.file);
  if (!src) return `${what} names \`${s.file}\`, which is not among the sources`;
  const n = src.text.length;
  if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start <= s.end && s.end <= n)) {
    return `${what} [${s.start}, ${s.end}) is outside 0..${n}`;
  }
  const a = src.position(s.start);
  const b = src.position(s.end);
  if (a.line !== s.line || a.column !== s.column || b.line !== s.endLine || b.column !== s.endColumn) {
    return `${what} says ${s.line}:${s.column}-${s.endLine}:${s.endColumn}, offsets give ${a.line}:${a.column}-${b.line}:${b.column}`;
  }
  return undefined;
}

/** What is wrong with a list of diagnostics (`sorted`: as `check()` promises), or an empty list. */
function problems(ds: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>, sorted = true): string[] {
  const out: string[] = [];
  for (const d of ds) {
    const tag = `${d.code} "${d.message}"`;
    if (!isCode(d.code)) out.push(`${tag}: not a catalogue code`);
    if (d.code === 'QP9001') out.push(`${tag}: internal error`);
    if (d.severity !== 'error' && d.severity !== 'warning' && d.severity !== 'info') out.push(`${tag}: severity ${String(d.severity)}`);
    if (typeof d.message !== 'string' || d.message === '') out.push(`${tag}: empty message`);
    if (d.span) {
      const p = spanProblem(d.span, sources, 'span');
      if (p) out.push(`${tag}: ${p}`);
    } else if (!d.code.startsWith('QP5') && !d.code.startsWith('QP9')) out.push(`${tag}: no span`);
    for (const r of d.related) {
      const p = spanProblem(r.span, sources, 'related span');
      if (p) out.push(`${tag}: ${p}`);
    }
    for (const f of d.fixes) {
      for (const e of f.edits) {
        const p = spanProblem(e.span, sources, 'fix span');
        if (p) out.push(`${tag}: ${p}`);
      }
    }
  }
  if (sorted && sortDiagnostics(ds).some((d, i) => d !== ds[i])) out.push('diagnostics are not sorted');
  return out;
}

/** A line of a Node stack trace: `    at f (file:///x.js:1:2)`, `    at node:internal/…`. */
const STACK_FRAME = /^ {4}at (?:.*\()?(?:file:|node:|\/|[A-Za-z]:\\|<anonymous>).*:\d+:\d+\)?$/m;

/** The exit code the command line owes for these diagnostics of `qpc check`. */
function expectedExit(ds: readonly Diagnostic[]): number {
  if (ds.some((d) => d.code.startsWith('QP5') && d.severity === 'error')) return 2;
  return ds.some((d) => d.severity === 'error') ? 1 : 0;
}

/**
 * Checks `entry` over `host` and runs `qpc check` on it; throws (so that
 * fast-check shrinks) with every problem found. `inputs` are the texts the
 * case wrote, to tell an echoed `    at ` from a stack trace.
 */
function verify(entry: string, host: CompilerHost, format: string, inputs: readonly string[]): CheckResult {
  const t0 = performance.now();
  const r = check(entry, { host });
  const ms = performance.now() - t0;
  const found = problems(r.diagnostics, r.sources);
  if (ms > SLOW_MS) found.push(`check() took ${Math.round(ms)} ms`);
  const cli = runQpc(['check', '--error-format', format, entry], { host });
  const want = expectedExit(r.diagnostics);
  if (cli.code !== want) found.push(`qpc check --error-format ${format} exited ${cli.code}, expected ${want}`);
  const printed = cli.stdout + cli.stderr;
  if (STACK_FRAME.test(printed)) found.push('the command line printed a stack trace');
  else if (printed.includes('    at ') && !inputs.some((s) => s.includes('at '))) found.push('the command line printed `    at `');
  if (found.length > 0) throw new Error(found.join('\n') + '\n--- diagnostics\n' + r.diagnostics.map((d) => `${d.code} ${JSON.stringify(d.span)} ${d.message}`).join('\n'));
  return r;
}

/**
 * Checks one text as the only file of a policy set, and formats it: `format()`
 * makes the same promise (never throws, spans inside the file).
 */
function verifyText(text: string, errorFormat: string, path = 'fuzz.qpol'): CheckResult {
  const f = format(path, text);
  const found = problems(f.diagnostics, new Map([[path, f.source]]), false);
  if (found.length > 0) throw new Error(`format(): ${found.join('\n')}`);
  return verify(path, overlayHost(new Map([[path, text]])), errorFormat, [text]);
}

const errorFormat: Arb = fc.constantFrom(...errorFormats);

// ---------------------------------------------------------------- (a) arbitrary strings

const bmpUnit: Arb = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)); // lone surrogates included
const arbitraryText: Arb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'binary-ascii', maxLength: 80 }),
  fc.string({ unit: bmpUnit, maxLength: 80 }),
);

/** Bytes as a file might hold them: decoded as UTF-8 (bad bytes become U+FFFD) or byte for byte. */
const byteText: Arb = fc
  .tuple(
    fc.uint8Array({ maxLength: 120 }),
    fc.constantFrom('utf8', 'latin1'),
    fc.array(fc.constantFrom('\0', '\uFFFD', '\uFEFF', '\r', '\n', '\u2028', '\u202e', '\x7f'), { maxLength: 4 }),
    fc.nat(),
  )
  .map(([bytes, enc, extra, at]) => {
    const s = Buffer.from(bytes).toString(enc as BufferEncoding);
    const i = s.length === 0 ? 0 : at % (s.length + 1);
    return s.slice(0, i) + extra.join('') + s.slice(i);
  });

// ---------------------------------------------------------------- tokens of the language

const KEYWORDS = [
  'use', 'settings', 'qubes', 'whonix', 'policy-file', 'default-disposable', 'template', 'gateway', 'identity', 'qube',
  'disposable', 'named-disposable', 'standalone', 'amend', 'adminvm', 'in', 'app', 'socks', 'dedicated', 'isolate', 'port',
  'auth', 'none', 'network', 'clearnet', 'tor', 'via', 'label', 'isolation', 'per-app', 'per-qube', 'memory', 'max',
  'vcpus', 'virt-mode', 'kernel', 'kernelopts', 'netvm', 'device', 'pci', 'usb', 'block', 'mic', 'tag', 'feature',
  'service', 'on', 'off', 'autostart', 'uplink', 'listener', 'control', 'trans', 'allow', 'ask', 'deny', 'from', 'to',
  'target', 'targets', 'default', 'user', 'notify', 'no-notify', 'no-autostart', 'because', 'require', 'isolated-from',
  'never-reaches', 'expect', 'waive', 'dest-addr', 'dest-port', 'client-protocol',
];

const PUNCTUATION = ['{', '}', ';', '"', '#', ':', ',', '+', '..', '\\', '\n', '\r\n', '\r', '\t', ' ', '\0', '\uFFFD', '\uFEFF', '\u202e', '\u200b', 'é', '$whonix'];

const TOKENS = [
  '@dispvm:', '@dispvm', '@dispvm:x', '@anyvm', '@adminvm', '@default', '@tag:', '@tag:anon-vm', '@type:AppVM', '@type:', '@',
  'use "./x.qpol"', 'use "qubes"', 'use "whonix"', 'use "nope"', 'use "../up.qpol"', 'use "/abs.qpol"', 'use ""', '"unterminated',
  'settings { qubes 4.3 }', 'settings { whonix 17 }', 'qubes.Filecopy', 'qubes.ConnectTCP +22', '*', 'QP2001', 'QP9001', 'QP0000',
  '99999999999999999999999999999', '4294967296', '9007199254740993', '1e999', '-1', '0', '00', '0x10', '3.14', 'NaN', 'Infinity',
  'a'.repeat(31), 'b'.repeat(32), 'x'.repeat(300), 'a.b.c', '-lead', '9lives', 'dom0', 'sys-net', 'sys-firewall', 'sys-whonix',
  'whonix-workstation-18', 'whonix-gateway-18', 'debian-12-xfce', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  // Whole statements, so that edits reach the binder's checks and not only the parser.
  '\nwaive QP2018 on debian-12-xfce because "spare"\n', '\nwaive QP1234 on nothing because ""\n', '\nwaive QP2001 on é because "x"\n',
  '\nallow qubes.Filecopy from @default to @adminvm\n', '\nallow * from @dispvm:x to @type:Bogus because "\u202e"\n',
  '\nexpect qubes.OpenURL from @anyvm to @dispvm: allow target @dispvm:nope\n', '\nrequire nope isolated-from nope\n',
  '\namend nope { memory 1 }\n', '\ntemplate dup\ntemplate dup\n', '\nsettings { qubes 4.3; default-disposable nope }\n',
  ' because "ünïcode"', ' default @dispvm', ' target @adminvm', ' user root', ' notify', ' no-autostart',
];

const token: Arb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KEYWORDS) },
  { weight: 3, arbitrary: fc.constantFrom(...PUNCTUATION) },
  { weight: 3, arbitrary: fc.constantFrom(...TOKENS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);

/** Text made of the language's own words and punctuation, glued at random. */
const tokenSoup: Arb = fc.array(fc.tuple(token, fc.constantFrom('', ' ', ' ', '\n')), { maxLength: 60 }).map((ps) => ps.map(([a, b]) => a + b).join(''));

// ---------------------------------------------------------------- (b) mutations of the examples

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.qpol'))
  .sort()
  .map((f) => ({ path: `examples/${f}`, text: readFileSync(`examples/${f}`, 'utf8') }));

type Edit =
  | { readonly op: 'delete' | 'duplicate'; readonly at: number; readonly len: number }
  | { readonly op: 'insert'; readonly at: number; readonly text: string }
  | { readonly op: 'swap'; readonly at: number; readonly len: number; readonly to: number; readonly len2: number }
  | { readonly op: 'word'; readonly at: number; readonly from: number };

/** Slice lengths: mostly a few characters, sometimes whole lines or blocks. */
const length: Arb<number> = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 400 }));

const edit: Arb<Edit> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: length }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: length }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: tokenSoup }, { weight: 1, arbitrary: arbitraryText }) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), len: length, to: fc.nat(), len2: length }),
  fc.record({ op: fc.constant('word' as const), at: fc.nat(), from: fc.nat() }),
);

/** Applies one edit; positions are taken modulo the text's length, so every edit applies. */
function applyEdit(s: string, e: Edit): string {
  const pos = (n: number): number => n % (s.length + 1);
  switch (e.op) {
    case 'delete': {
      const a = pos(e.at);
      return s.slice(0, a) + s.slice(a + e.len);
    }
    case 'duplicate': {
      const a = pos(e.at);
      const piece = s.slice(a, a + e.len);
      return s.slice(0, a) + piece + piece + s.slice(a + e.len);
    }
    case 'insert': {
      const a = pos(e.at);
      return s.slice(0, a) + e.text + s.slice(a);
    }
    case 'swap': {
      let [a, b] = [pos(e.at), pos(e.to)];
      let [la, lb] = [e.len, e.len2];
      if (b < a) [a, b, la, lb] = [b, a, lb, la];
      la = Math.min(la, b - a);
      lb = Math.min(lb, s.length - b);
      return s.slice(0, a) + s.slice(b, b + lb) + s.slice(a + la, b) + s.slice(a, a + la) + s.slice(b + lb);
    }
    case 'word': {
      // Copies a word of the file (a name, a keyword) to another place: names stay plausible.
      const words = s.match(/[A-Za-z@][\w.:@-]*/g) ?? ['x'];
      const a = pos(e.at);
      return s.slice(0, a) + ' ' + words[e.from % words.length] + ' ' + s.slice(a);
    }
  }
}

const mutation = fc.record({ example: fc.nat({ max: examples.length - 1 }), edits: fc.array(edit, { minLength: 1, maxLength: 6 }), format: errorFormat });

// ---------------------------------------------------------------- (c) import graphs

/** Files a graph may hold; the entry is `main.qpol`. */
const FILE_PATHS = ['main.qpol', 'a.qpol', 'b.qpol', 'sub/c.qpol', 'sub/d.qpol'];

/** What a `use` may name, relative to the importing file's folder. */
const USE_PATHS = [
  './main.qpol', './a.qpol', './b.qpol', './sub/c.qpol', './sub/d.qpol', './c.qpol', './d.qpol', '../main.qpol', '../a.qpol',
  './sub/../a.qpol', './sub/./c.qpol', './/b.qpol', './missing.qpol', './denied.qpol', './sub/denied.qpol', './dir', './sub',
  '../../outside.qpol', '/abs.qpol', './', '../', 'qubes', 'whonix', 'qubess', 'a.qpol', 'sub/c.qpol', '', './a.qpol\u0000',
];

/** A host over the graph's files: `denied` and `dir` fail like the file system would, anything else absent is ENOENT. */
function graphHost(files: ReadonlyMap<string, string>): CompilerHost {
  const map = overlayHost(files);
  return {
    readFile(p: string): string {
      const base = p.split('/').pop() ?? p;
      if (base === 'denied.qpol') throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: p });
      if (base === 'dir' || p === 'sub') throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), { code: 'EISDIR', errno: -21, syscall: 'read' });
      return map.readFile(p);
    },
  };
}

const small = fc.nat({ max: 3 });

/** Marks a line of soup, so that `tidy` can drop it; removed before checking. */
const SOUP = '\u0001soup\u0001';

/** A line of a graph's file: imports, declarations that clash across files, rules, soup. */
const graphLine: Arb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...USE_PATHS).map((p) => `use "${p}"`) },
  { weight: 1, arbitrary: fc.constantFrom('settings { qubes 4.2; whonix 18 }', 'settings { policy-file 30-qpc }', 'settings { qubes 4.3 }') },
  { weight: 2, arbitrary: small.map((i) => `template t${i}`) },
  { weight: 2, arbitrary: fc.tuple(small, fc.constantFrom('network none', 'network clearnet via sys-firewall', 'network tor via sys-whonix', 'network clearnet via g0')).map(([i, n]) => `identity i${i} { ${n}; label red }`) },
  { weight: 3, arbitrary: fc.tuple(small, small, small).map(([q, i, t]) => `qube q${q} in i${i} { template t${t}; app a${q} }`) },
  { weight: 1, arbitrary: small.map((i) => `gateway g${i} { template t${i}; netvm sys-firewall }`) },
  { weight: 1, arbitrary: small.map((i) => `amend q${i} { memory 400 max 4000 }`) },
  { weight: 1, arbitrary: fc.constantFrom('amend sys-firewall { memory 500 }', 'amend sys-whonix { vcpus 2 }') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('allow', 'ask', 'deny'), small, small).map(([a, x, y]) => `${a} qubes.Filecopy from q${x} to q${y}`) },
  { weight: 1, arbitrary: fc.tuple(small, small).map(([x, y]) => `require i${x} isolated-from i${y}`) },
  { weight: 1, arbitrary: fc.tuple(small, small).map(([x, y]) => `expect qubes.Filecopy from q${x} to q${y}: deny`) },
  { weight: 1, arbitrary: small.map((i) => `waive QP2018 on t${i} because "kept for later"`) },
  { weight: 1, arbitrary: tokenSoup.map((t) => SOUP + t) },
);

/** Where `use "p"` in file `from` leads, as the loader names it. */
function resolveUse(from: string, p: string): string {
  return posix.normalize(posix.join(posix.dirname(from), p));
}

/**
 * Most wild graphs stop at a load error (a cycle, a missing file), before
 * binding. A tidy graph keeps only imports of files that exist and come later
 * in FILE_PATHS, and no soup, so it is acyclic and binding runs over it.
 */
function tidy(files: readonly (readonly [string, readonly string[]])[]): [string, string[]][] {
  const present = new Set(['main.qpol', ...files.map(([p]) => p)]);
  const all: (readonly [string, readonly string[]])[] = present.size > files.length ? [['main.qpol', []], ...files] : [...files];
  return all.map(([p, lines]) => [
    p,
    lines.filter((l) => {
      const m = /^use "(.*)"$/.exec(l);
      if (!m) return !l.startsWith(SOUP);
      if (m[1] === 'qubes' || m[1] === 'whonix') return true;
      const to = resolveUse(p, m[1]);
      return m[1].startsWith('.') && present.has(to) && FILE_PATHS.indexOf(to) > FILE_PATHS.indexOf(p);
    }),
  ]);
}

const graph = fc.record({
  files: fc.uniqueArray(fc.tuple(fc.constantFrom(...FILE_PATHS), fc.array(graphLine, { maxLength: 10 })), { minLength: 1, maxLength: FILE_PATHS.length, selector: ([p]) => p }),
  tidy: fc.boolean(),
  entry: fc.oneof({ weight: 8, arbitrary: fc.constant('main.qpol') }, { weight: 1, arbitrary: fc.constantFrom('a.qpol', 'sub/c.qpol', 'denied.qpol', 'missing.qpol', 'dir') }),
  separator: fc.constantFrom('\n', '\r\n', ';'),
  format: errorFormat,
});

// ---------------------------------------------------------------- (d) network topologies

/**
 * Programs that bind cleanly (every name declared once, every reference
 * resolvable), so that the graph stage runs: gateways chained at random
 * (loops, self-loops, Tor gateways behind Tor gateways, uplinks with a
 * netvm), identities on any gateway, qubes overriding netvm and disposables
 * across identities, apps with every kind of SOCKS binding, devices.
 */
const topology: Arb = fc
  .record({
    gateways: fc.array(fc.record({ netvm: fc.nat(), tor: fc.boolean(), uplink: fc.nat({ max: 5 }), whonixTemplate: fc.boolean(), memory: fc.boolean() }), { maxLength: 4 }),
    identities: fc.array(fc.record({ network: fc.constantFrom('tor', 'clearnet', 'none'), via: fc.nat(), disposable: fc.option(fc.nat(), { nil: undefined }), perQube: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    qubes: fc.array(
      fc.record({
        form: fc.constantFrom('qube', 'qube', 'disposable', 'standalone'),
        identity: fc.nat(),
        template: fc.constantFrom('debian-12-xfce', 'whonix-workstation-18', 'whonix-gateway-18'),
        netvm: fc.option(fc.nat(), { nil: undefined }),
        defaultDisposable: fc.option(fc.nat(), { nil: undefined }),
        apps: fc.array(fc.constantFrom('', '{ socks dedicated }', '{ socks dedicated isolate dest-addr dest-port }', '{ socks auth }', '{ socks none }', '{ socks port 9050 }', '{ socks port 9150 }', '{ socks port 9101 }', '{ socks port 9040 }', '{ socks port 9051 }', '{ socks port 1 }', '{ socks port 9152 }'), { maxLength: 4 }),
        device: fc.option(fc.constantFrom('pci "00:1f.6"', 'usb "sys-usb:2-1"', 'block "sys-usb:sda"', 'mic'), { nil: undefined }),
        virtMode: fc.option(fc.constantFrom('pvh', 'hvm', 'pv'), { nil: undefined }),
      }),
      { maxLength: 10 },
    ),
    rules: fc.array(fc.tuple(fc.constantFrom('allow', 'ask', 'deny'), fc.constantFrom('qubes.Filecopy', 'qubes.OpenURL', 'qubes.VMShell', 'admin.vm.List', 'qubes.GetDate', '*'), fc.nat(), fc.nat(), fc.boolean()), { maxLength: 6 }),
    whonixTemplateUpdates: fc.boolean(),
  })
  .map((t) => {
    const gws = ['sys-net', 'sys-firewall', 'sys-whonix', ...t.gateways.map((_, i) => `gw${i}`)];
    const netvms = [...gws, 'none'];
    const ids = t.identities.map((_, i) => `id${i}`);
    const qs = t.qubes.map((_, i) => `q${i}`);
    const dvms = t.qubes.flatMap((q, i) => (q.form === 'disposable' ? [qs[i]] : []));
    const sources = [...qs, ...ids, ...gws, '@anyvm'];
    const targets = [...sources, '@dispvm', '@adminvm', `@default target ${qs[0] ?? 'sys-net'}`];
    const lines = ['use "qubes"', 'use "whonix"', 'settings { qubes 4.2; whonix 18 }', 'template debian-12-xfce'];
    t.gateways.forEach((g, i) => {
      const upstream = netvms[g.netvm % netvms.length];
      const items = [`netvm ${upstream}`, ...(g.tor ? ['tor'] : []), ...(g.uplink === 0 ? ['uplink'] : []), `template ${g.whonixTemplate ? 'whonix-gateway-18' : 'debian-12-xfce'}`, ...(g.memory ? ['memory 500'] : [])];
      lines.push(`gateway gw${i} {`, ...items.map((x) => `  ${x}`), '}');
    });
    t.identities.forEach((d, i) => {
      const network = d.network === 'none' ? 'none' : `${d.network} via ${gws[d.via % gws.length]}`;
      const items = [`network ${network}`, 'label red', ...(d.disposable !== undefined && dvms.length > 0 ? [`disposable ${dvms[d.disposable % dvms.length]}`] : []), ...(d.perQube ? ['isolation per-qube'] : [])];
      lines.push(`identity ${ids[i]} {`, ...items.map((x) => `  ${x}`), '}');
    });
    t.qubes.forEach((q, i) => {
      const items = [
        `template ${q.template}`,
        ...(q.netvm !== undefined ? [`netvm ${netvms[q.netvm % netvms.length]}`] : []),
        ...(q.defaultDisposable !== undefined && dvms.length > 0 ? [`default-disposable ${dvms[q.defaultDisposable % dvms.length]}`] : []),
        ...q.apps.map((b, k) => `app app${k} ${b}`.trimEnd()),
        ...(q.device && q.form !== 'disposable' ? [`device ${q.device}`] : []),
        ...(q.virtMode ? [`virt-mode ${q.virtMode}`] : []),
      ];
      lines.push(`${q.form} ${qs[i]} in ${ids[q.identity % ids.length]} {`, ...items.map((x) => `  ${x}`), '}');
    });
    for (const [action, service, from, to, because] of t.rules) {
      lines.push(`${action} ${service} from ${sources[from % sources.length]} to ${targets[to % targets.length]}${because ? ' because "on purpose"' : ''}`);
    }
    if (t.whonixTemplateUpdates) lines.push('allow qubes.UpdatesProxy from whonix-workstation-18 to sys-net');
    return lines.join('\n') + '\n';
  });

// ---------------------------------------------------------------- properties

test('check() never throws on arbitrary strings', (t) => {
  fc.assert(fc.property(arbitraryText, errorFormat, (s, f) => void verifyText(s, f)), params(RUNS.strings));
  t.pass();
});

test('check() never throws on arbitrary bytes', (t) => {
  fc.assert(fc.property(byteText, errorFormat, (s, f) => void verifyText(s, f)), params(RUNS.bytes));
  t.pass();
});

test('check() never throws on the words of the language glued at random', (t) => {
  fc.assert(fc.property(tokenSoup, errorFormat, (s, f) => void verifyText(s, f)), params(RUNS.soup));
  t.pass();
});

/** Counts, for the log, how many cases got past parsing and binding, and which codes they met. */
class Coverage {
  private cases = 0;
  private bound = 0;
  private readonly codes = new Set<string>();
  private graphed = 0;
  add(r: CheckResult): void {
    this.cases++;
    if (r.program) this.bound++;
    // The graph stage runs when binding found no error.
    if (r.program && !r.diagnostics.some((d) => d.severity === 'error' && /^QP[12]/.test(d.code))) this.graphed++;
    for (const d of r.diagnostics) this.codes.add(d.code);
  }
  toString(): string {
    return `of ${this.cases} cases ${this.bound} reached binding and ${this.graphed} the graph checks; codes met: ${[...this.codes].sort().join(' ')}`;
  }
}

test('check() never throws on random edits of the examples', (t) => {
  const seen = new Coverage();
  fc.assert(
    fc.property(mutation, ({ example, edits, format }) => {
      const { path, text } = examples[example];
      seen.add(verifyText(edits.reduce(applyEdit, text), format, path));
    }),
    params(RUNS.mutations),
  );
  t.log(String(seen));
  t.pass();
});

test('check() never throws on random import graphs', (t) => {
  const seen = new Coverage();
  fc.assert(
    fc.property(graph, (g) => {
      const { entry, separator, format } = g;
      const map = new Map((g.tidy ? tidy(g.files) : g.files).map(([p, lines]) => [p, lines.map((l) => l.replace(SOUP, '')).join(separator)]));
      seen.add(verify(entry, graphHost(map), format, [...map.values()]));
    }),
    params(RUNS.imports),
  );
  t.log(String(seen));
  t.pass();
});

test('check() never throws on random network topologies', (t) => {
  const seen = new Coverage();
  fc.assert(
    fc.property(topology, errorFormat, (text, f) => {
      seen.add(verifyText(text, f, 'net.qpol'));
    }),
    params(RUNS.topologies),
  );
  t.log(String(seen));
  t.pass();
});

test('the unedited examples pass the same checks in every error format', (t) => {
  for (const { path, text } of examples) for (const f of errorFormats) verifyText(text, f, path);
  t.pass();
});

// ---------------------------------------------------------------- regressions

/**
 * Found by the import-graph property, scaled up: a loader that followed `use`
 * recursively overflowed the call stack on a chain of a few thousand files
 * (QP9001, exit 3). The loader now keeps an explicit stack.
 */
test('a chain of 10,000 imports is loaded without an internal error', (t) => {
  const files = new Map<string, string>();
  for (let i = 0; i < 10_000; i++) files.set(`f${i}.qpol`, i + 1 < 10_000 ? `use "./f${i + 1}.qpol"\n` : '');
  const r = check('f0.qpol', { host: overlayHost(files) });
  t.deepEqual(problems(r.diagnostics, r.sources), []);
  t.is(runQpc(['check', 'f0.qpol'], { host: overlayHost(files) }).code, 0);
});
