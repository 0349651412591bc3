/**
 * `npm run bench` (DESIGN §7, "Speed"): prints figures, asserts nothing.
 *
 *   start-up    wall time of `node bin/qpc.js check EXAMPLE` against bare
 *               `node -e 0`, median of 15 runs each (target: at most 2.5×)
 *   throughput  `check()` on generated valid policies of 5,000 to 40,000
 *               lines over an in-memory host: parse alone and parse + bind,
 *               median of 5 runs after a warm-up (target: above 1 MB/s, and
 *               time growing about linearly with size)
 *   analysis    `check()` and `compile()` (every target) on generated
 *               policies of 2,500 to 45,000 lines (22,500 lines: 1,000
 *               qubes, 100 identities, 10,000 rules), median of 3 runs
 *   topology    the graph checks and SOCKS allocation alone
 *   graph       `qpc graph --view channels` at identity level (collapsed) on
 *               generated policies up to 1,000 qubes: the drawing, the SVG
 *               layout, and `graph()` with its check (target: under 2 s)
 *   lsp         time from `didChange` to `publishDiagnostics` in
 *               `qpc lsp` on a 2,000-line document
 *
 *   qubes       whole processes: `qpc check`, `qpc compile` and `qpc lint`
 *               of the 1,000-qube policy and its policy.d, next to Qubes'
 *               own `FilePolicy` loading that policy.d (QREXEC_SRC: an
 *               extracted qubes-core-qrexec tree)
 *
 * `npm run bench -- SECTION…` runs only the sections named (startup,
 * throughput, topology, analysis, qubes, graph, lsp).
 *
 * The analysis, graph and Qubes sections run the compiled `dist/` (as the
 * `qpc` command does); the parse and topology sections time the sources'
 * passes through the TypeScript loader.
 *
 * `bin/qpc.js` runs the compiled `dist/`; it is rebuilt first when missing or
 * older than the sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Api from '../compiler/index.js';
// The parse and topology sections time the sources' own passes, through the TypeScript loader.
import { check } from '../compiler/index.js';
import { overlayHost } from '../compiler/host.js';
import { SourceFile } from '../compiler/source.js';
import { parseFile } from '../compiler/syntax/parse.js';
import { buildGraph } from '../compiler/graph/policy-graph.js';
import { checkNetwork } from '../compiler/passes/check-network.js';
import { allocateSocks } from '../compiler/passes/allocate-socks.js';
import { emptyLock } from '../compiler/lock-file.js';
import { DiagnosticBag } from '../compiler/diagnostics/diagnostic.js';
import { generate } from './generate.js';

export { generate };

const STARTUP_RUNS = 15;
const THROUGHPUT_RUNS = 5;
const SIZES = [5_000, 10_000, 20_000, 40_000];
/** 22,500 lines is DESIGN §7's case (about 1,000 qubes, 100 identities, 10,000 rules); 45,000 shows the growth past it. */
const ANALYSIS_SIZES = [2_500, 5_000, 10_000, 22_500, 45_000];

/**
 * The compiled compiler (dist/), which the `qpc` command runs: the analysis
 * and graph figures are of it, not of the TypeScript loader the bench itself
 * runs under (which costs about 40% more). Loaded once dist/ is current.
 */
let api: typeof Api;

// ---------------------------------------------------------------- helpers

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const ms = (x: number) => x.toFixed(1);

/** The median wall time of three runs of `f` (awaited), in milliseconds. */
async function timed(f: () => unknown): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

/** Files under `dir` (recursively) whose names end with one of `exts`. */
function filesUnder(dir: string, exts: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, exts));
    else if (exts.some((x) => e.name.endsWith(x)) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------- build

/** The first source whose compiled file in `dist/` is missing or older, if any. */
function staleSource(): string | undefined {
  const sources = [...filesUnder('compiler', ['.ts']), ...filesUnder('targets', ['.ts']), ...filesUnder('grammar/generated', ['.js'])];
  for (const src of sources) {
    const out = path.join('dist', src.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) return src;
  }
  return undefined;
}

function ensureBuilt(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  console.log(`building dist/ (${stale} is newer than its build)…`);
  const npmCli = process.env.npm_execpath;
  const r = npmCli && npmCli.endsWith('.js')
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.log(`npm run build failed (exit ${r.status ?? r.signal}); start-up figures would be meaningless`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------- start-up

function wallTime(args: readonly string[]): { ms: number; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  return { ms: performance.now() - t0, status: r.status };
}

function startup(): void {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).sort().map((f) => `examples/${f}`);
  const runs = new Map<string, number[]>([['node -e 0', []], ...examples.map((e) => [e, []] as [string, number[]])]);
  const status = new Map<string, number | null>();
  wallTime(['-e', '0']); // warm the file cache
  for (const e of examples) wallTime(['bin/qpc.js', 'check', e]);
  // Interleaved, so that a busy moment of the machine costs every command alike.
  for (let i = 0; i < STARTUP_RUNS; i++) {
    runs.get('node -e 0')!.push(wallTime(['-e', '0']).ms);
    for (const e of examples) {
      const r = wallTime(['bin/qpc.js', 'check', e]);
      runs.get(e)!.push(r.ms);
      status.set(e, r.status);
    }
  }
  const base = median(runs.get('node -e 0')!);
  const rows = [...runs].map(([name, xs]) => {
    const m = median(xs);
    const cmd = name === 'node -e 0' ? name : `qpc check ${name}`;
    return [cmd, ms(m), ms(Math.min(...xs)), ms(Math.max(...xs)), name === 'node -e 0' ? '1.00×' : `${(m / base).toFixed(2)}×`, name === 'node -e 0' ? '' : String(status.get(name))];
  });
  console.log(`\nstart-up: wall time of a process, median of ${STARTUP_RUNS} runs (target ≤ 2.0× bare node; bin/qpc.js runs the bundle dist/compiler/cli.cjs with its code cache)\n`);
  console.log(table(['command', 'median ms', 'min', 'max', 'vs node', 'exit'], rows));
}

// ---------------------------------------------------------------- generated policies

function timeIt(f: () => void): number {
  f(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < THROUGHPUT_RUNS; i++) {
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function throughput(): void {
  // Warm the JIT on a mid-sized policy first, or the first row measures the compiler of V8.
  const warm = generate(SIZES[0]).text;
  for (let i = 0; i < 5; i++) check('warm-up.qpol', { host: overlayHost(new Map([['warm-up.qpol', warm]])), until: 'bind' });
  const rows: string[][] = [];
  let perLine20k: number | undefined;
  for (const n of SIZES) {
    const g = generate(n);
    const bytes = Buffer.byteLength(g.text);
    const file = 'bench.qpol';
    const host = overlayHost(new Map([[file, g.text]]));
    let diagnostics = 0;
    const parseMs = timeIt(() => void parseFile(new SourceFile(file, g.text)));
    const checkMs = timeIt(() => void (diagnostics = check(file, { host, until: 'bind' }).diagnostics.length));
    const mbs = (t: number) => (bytes / 1e6 / (t / 1000)).toFixed(2);
    const usPerLine = (checkMs * 1000) / g.lines;
    if (n === 20_000) perLine20k = usPerLine;
    rows.push([
      g.lines.toLocaleString('en'),
      (bytes / 1024).toFixed(0),
      `${g.identities}/${g.qubes}/${g.rules}`,
      ms(parseMs),
      mbs(parseMs),
      ms(checkMs),
      mbs(checkMs),
      usPerLine.toFixed(1),
      String(diagnostics),
    ]);
  }
  console.log(`\nthroughput: generated valid policies over an in-memory host, median of ${THROUGHPUT_RUNS} runs after a warm-up (target > 1 MB/s, about linear)`);
  console.log('parse: parseFile() alone; parse+bind: check() up to binding (every file, the standard library, names, items, rules)\n');
  console.log(table(['lines', 'KiB', 'ids/qubes/rules', 'parse ms', 'parse MB/s', 'parse+bind ms', 'parse+bind MB/s', 'µs/line', 'diagnostics'], rows));
  if (perLine20k !== undefined) console.log(`\n(µs/line stays flat when time grows linearly; 20,000 lines: ${perLine20k.toFixed(1)} µs/line)`);
}

// ---------------------------------------------------------------- qrexec analysis

/** The whole check (topology, the complete qrexec policy, closing and channel analysis) on the generated policies. */
async function analysis(): Promise<void> {
  const rows: string[][] = [];
  // Warm up the compiler's code on a small policy.
  const warm = api.overlayHost(new Map([['warm.qpol', generate(1_250).text]]));
  await api.compile('warm.qpol', { host: warm });
  for (const n of ANALYSIS_SIZES) {
    const g = generate(n);
    const host = api.overlayHost(new Map([['analysis.qpol', g.text]]));
    const bindMs = await timed(() => api.check('analysis.qpol', { host, until: 'bind' }));
    let rules = 0;
    const totalMs = await timed(() => void (rules = api.check('analysis.qpol', { host }).policy?.rules.length ?? 0));
    let files = 0;
    const compileMs = await timed(async () => void (files = (await api.compile('analysis.qpol', { host })).artifacts?.length ?? 0));
    rows.push([g.lines.toLocaleString('en'), `${g.identities}/${g.qubes}/${g.rules}`, String(rules), ms(bindMs), ms(totalMs - bindMs), ms(totalMs), ((totalMs * 1000) / g.qubes).toFixed(0), ms(compileMs), String(files)]);
  }
  console.log('\nqrexec analysis and compile: check() and compile() (every target) of the compiled dist/ on the generated policies, median of 3 runs each (target: the check of 1,000 qubes, 100 identities, 10,000 rules in about a second, growing close to linearly)\n');
  console.log(table(['lines', 'ids/qubes/rules', 'complete policy rules', 'up to bind ms', 'graph + qrexec ms', 'check ms', 'µs/qube', 'compile ms', 'files'], rows));
}

function topologyPolicy(qubes: number, identities: number, gateways: number): string {
  const out = ['use "qubes"', 'use "whonix"', 'template deb { tag whonix-updatevm }', 'amend sys-net { template deb }', 'amend sys-firewall { template deb }'];
  const tor = Math.ceil(gateways / 2);
  for (let g = 0; g < gateways; g++) {
    if (g < tor) out.push(`gateway tor${g} { tor; template whonix-gateway-18; netvm sys-firewall }`);
    else out.push(`gateway vpn${g} { template deb; netvm ${g > tor ? `vpn${g - 1}` : 'sys-firewall'} }`);
  }
  for (let i = 0; i < identities; i++) {
    const g = i % gateways;
    const isTor = g < tor;
    out.push(`identity id${i} { network ${isTor ? `tor via tor${g}` : `clearnet via vpn${g}`}; disposable dvm${i} }`);
    out.push(`disposable dvm${i} in id${i} { template ${isTor ? 'whonix-workstation-18' : 'deb'} }`);
  }
  for (let q = 0; q < qubes; q++) {
    const i = q % identities;
    const isTor = i % gateways < tor;
    out.push(`qube q${q} in id${i} {`, `  template ${isTor ? 'whonix-workstation-18' : 'deb'}`, '  memory 400 max 4000');
    if (isTor) out.push('  app a { socks dedicated isolate dest-addr }', '  app b { socks dedicated isolate client-protocol }', '  app c { socks auth }');
    out.push('}');
  }
  // The identities share Tor gateways by construction; that is accepted here.
  for (let g = 0; g < tor; g++) out.push(`waive QP3008 on tor${g} because "benchmark"`);
  return out.join('\n') + '\n';
}

function topology(): void {
  const rows: string[][] = [];
  for (const [qubes, identities, gateways] of [[1_000, 100, 20], [2_500, 250, 20], [5_000, 500, 20], [10_000, 1_000, 20]] as const) {
    const text = topologyPolicy(qubes, identities, gateways);
    const host = overlayHost(new Map([['topology.qpol', text]]));
    const first = check('topology.qpol', { host, until: 'bind' });
    const program = first.program!;
    const graphMs = median(
      Array.from({ length: THROUGHPUT_RUNS }, () =>
        timeIt(() => {
          const g = buildGraph(program);
          const bag = new DiagnosticBag();
          checkNetwork(g, bag);
          allocateSocks(g, emptyLock, bag);
        }),
      ),
    );
    const bag = new DiagnosticBag();
    const socks = allocateSocks(buildGraph(program), emptyLock, bag).allocation.apps.length;
    const errors = [...first.diagnostics, ...bag.items].filter((d) => d.severity === 'error').length;
    rows.push([qubes.toLocaleString('en'), String(identities), String(gateways), ms(graphMs), ms((graphMs * 1000) / qubes), String(socks), String(errors)]);
  }
  console.log(`\ntopology: graph build + network checks + SOCKS allocation on generated policies, median of ${THROUGHPUT_RUNS} runs (target: 1,000 qubes well under a second)\n`);
  console.log(table(['qubes', 'identities', 'gateways', 'graph ms', 'µs/qube', 'SOCKS bindings', 'errors'], rows));
}

// ---------------------------------------------------------------- language server

const LSP_CHANGES = 20;

/**
 * `qpc lsp` latency (DESIGN §1 "Editors"): `bin/qpc.js lsp` over pipes,
 * a ~2,000-line generated policy open, and LSP_CHANGES edits of each kind; the time from sending `didChange` to the
 * `publishDiagnostics` that answers it (target: median well under 100 ms).
 * The server publishes twice: load and bind at once (with the previous
 * analysis findings moved along), then the whole check.
 */
/** Where Qubes' stock policy.d of 4.2 is kept for the tests (a recorded default install). */
const STOCK_POLICY_D = 'test/fixtures/snapshots/qubes-4.2-whonix/policy.d';

/**
 * Whole processes against Qubes' own policy loader: `qpc check` and `qpc
 * compile` of the 22,500-line generated policy (1,000 qubes, 100
 * identities, 10,000 rules), and `qpc lint` of the policy.d it emits (with
 * Qubes' stock files beside it), next to Qubes' `FilePolicy` loading that
 * same policy.d — what dom0 does at every policy change. Qubes' parser comes
 * from an extracted qubes-core-qrexec tree named by QREXEC_SRC; without it
 * only qpc's figures are printed. Runs alternate, median of 5.
 */
function versusQubes(): void {
  const src = process.env.QREXEC_SRC;
  const dir = mkdtempSync(path.join(tmpdir(), 'qpc-bench-'));
  try {
    const g = generate(22_500);
    const policy = path.join(dir, 'bench.qpol');
    writeFileSync(policy, g.text);
    const out = path.join(dir, 'out');
    const built = spawnSync(process.execPath, ['bin/qpc.js', 'compile', policy, '-o', out], { stdio: 'ignore' });
    if (built.status !== 0) throw new Error(`bench: qpc compile of the generated policy failed (exit ${built.status})`);
    const policyD = path.join(dir, 'policy.d');
    // Without 35-compat.policy: its `!compat-4.0` makes Qubes' loader list /etc/qubes-rpc/policy, which only dom0 has.
    cpSync(STOCK_POLICY_D, policyD, { recursive: true, filter: (f) => path.basename(f) !== '35-compat.policy' });
    cpSync(path.join(out, 'qubes/policy.d'), policyD, { recursive: true });
    const systemInfo = path.join(out, 'qubes/system-info.json');
    const python = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;
    const loadScript = 'import pathlib, sys; sys.path.insert(0, sys.argv[1]); from qrexec.policy.parser import FilePolicy; p = FilePolicy(policy_path=pathlib.Path(sys.argv[2])); print(len(p.rules))';
    const commands: [string, string, string[]][] = [
      ['qpc check bench.qpol', process.execPath, ['bin/qpc.js', 'check', policy]],
      ['qpc compile bench.qpol', process.execPath, ['bin/qpc.js', 'compile', policy, '-o', path.join(dir, 'out2')]],
      ['qpc lint policy.d --system-info', process.execPath, ['bin/qpc.js', 'lint', policyD, '--system-info', systemInfo]],
      ...(src && python ? [["Qubes' FilePolicy loading policy.d", 'python3', ['-c', loadScript, src, policyD]] as [string, string, string[]]] : []),
    ];
    const times = new Map(commands.map(([name]) => [name, [] as number[]]));
    let rules = '';
    const run = (cmd: string, args: string[]) => {
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      return { ms: performance.now() - t0, status: r.status, stdout: r.stdout };
    };
    for (const [, cmd, args] of commands) run(cmd, args); // warm the file cache
    for (let i = 0; i < 5; i++) {
      for (const [name, cmd, args] of commands) {
        const r = run(cmd, args);
        if (name.startsWith('Qubes')) rules = r.stdout.trim();
        times.get(name)!.push(r.ms);
      }
    }
    const qubes = times.get("Qubes' FilePolicy loading policy.d");
    const base = qubes ? median(qubes) : undefined;
    const rows = commands.map(([name]) => {
      const m = median(times.get(name)!);
      return [name, ms(m), base === undefined ? '' : `${(m / base).toFixed(2)}×`];
    });
    console.log(`\nversus Qubes: whole processes on the generated policy (${g.qubes} qubes, ${g.identities} identities, ${g.rules} rules; its policy.d with the stock files: ${rules || '?'} rules), median of 5 alternated runs (target: qpc at most Qubes' load time)\n`);
    console.log(table(['command', 'median ms', 'vs Qubes'], rows));
    if (!src) console.log("\n(Qubes' loader not run: set QREXEC_SRC to an extracted qubes-core-qrexec tree to compare.)");
    else if (!python) console.log("\n(Qubes' loader not run: python3 is not installed.)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function lspLatency(): Promise<void> {
  // A separate process, as an editor runs it: in one process the client would wait for the server's work.
  const { StreamMessageReader, StreamMessageWriter } = await import('vscode-languageserver/node');
  const protocol = await import('vscode-languageserver-protocol/node');
  const server = spawn(process.execPath, ['bin/qpc.js', 'lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = protocol.createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  let waiting: ((n: number) => void) | undefined;
  client.onNotification(protocol.PublishDiagnosticsNotification.type, () => waiting?.(performance.now()));
  client.listen();
  await client.sendRequest(protocol.InitializeRequest.type, { processId: null, rootUri: null, capabilities: {}, workspaceFolders: null });
  const g = generate(2_000);
  const uri = pathToFileURL(path.resolve('bench-lsp.qpol')).href;
  const next = () => new Promise<number>((resolve) => (waiting = resolve));
  /** Publications answering one change: resolves with the times of the first `count`, or what came within 10 s. */
  const publications = async (count: number, send: () => void): Promise<number[]> => {
    const times: number[] = [];
    const t0 = performance.now();
    let p = next();
    send();
    for (let i = 0; i < count; i++) {
      const t = await Promise.race([p, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      if (t < 0) break;
      times.push(t - t0);
      p = next();
    }
    return times;
  };
  let version = 1;
  let text = g.text;
  const change = (newText: string) => () => {
    text = newText;
    void client.sendNotification(protocol.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [{ text: newText }] });
  };
  await publications(2, () => void client.sendNotification(protocol.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'qpol', version, text } }));
  const typo: number[] = [];
  const first: number[] = [];
  const complete: number[] = [];
  const target = 'qube g5-q3 in id-5';
  for (let i = 0; i < LSP_CHANGES; i++) {
    // A name error typed and removed again: the first step's answer is final.
    const broken = g.text.replace(target, 'qube g5-q3 in id-5x');
    // Two publications: the load-and-bind one, which is final here, and the whole check's confirmation.
    typo.push((await publications(2, change(broken)))[0]);
    await publications(2, change(g.text));
    // A line added or removed at the top (a valid policy): every finding moves, the whole check runs.
    const valid = i % 2 === 0 ? `# edit ${i}\n` + g.text : g.text;
    const [a, b] = await publications(2, change(valid));
    first.push(a);
    complete.push(b);
  }
  await client.sendRequest(protocol.ShutdownRequest.type);
  // The server exits on `exit`; stop the client before its pipe closes under it.
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  await client.sendNotification(protocol.ExitNotification.type);
  await exited;
  client.dispose();
  const row = (what: string, xs: number[]) => [what, ms(median(xs)), ms(Math.min(...xs)), ms(Math.max(...xs))];
  console.log(`\nlanguage server: didChange → publishDiagnostics on a ${g.lines}-line policy (${g.qubes} qubes, ${g.rules} rules), median of ${LSP_CHANGES} changes (target: median well under 100 ms)\n`);
  console.log(
    table(['change', 'median ms', 'min', 'max'], [
      row('name error typed (final answer)', typo),
      row('valid edit: first publication', first),
      row('valid edit: whole check published', complete),
    ]),
  );
}

/** `qpc graph --view channels` on the generated policies: identities collapsed. */
export async function graphBench(): Promise<void> {
  const rows: string[][] = [];
  // Warm up the compiler and Graphviz.
  await api.graph('warm.qpol', { host: api.overlayHost(new Map([['warm.qpol', generate(1_250).text]])), view: 'channels' });
  for (const n of [5_000, 10_000, 22_500]) {
    const g = generate(n);
    const host = api.overlayHost(new Map([['graph.qpol', g.text]]));
    const r = api.check('graph.qpol', { host });
    if (!r.policy) throw new Error('the generated policy has no evaluated policy');
    const input = api.drawInput(r.policy, { ...(r.graph ? { graph: r.graph } : {}), findings: r.diagnostics });
    let dot = '';
    let nodes = 0;
    let edges = 0;
    const drawMs = await timed(() => {
      const m = api.drawModel(input, { view: 'channels' });
      nodes = m.nodes.length;
      edges = m.edges.length;
      dot = api.renderDot(m);
    });
    let bytes = 0;
    const svgMs = await timed(async () => void (bytes = (await api.dotToSvg(dot)).length));
    const wholeMs = await timed(() => api.graph('graph.qpol', { host, view: 'channels' }));
    rows.push([`${g.identities}/${g.qubes}`, `${nodes}/${edges}`, ms(drawMs), ms(svgMs), ms(drawMs + svgMs), ms(wholeMs), (bytes / 1024).toFixed(0)]);
  }
  console.log('\ngraph: `qpc graph --view channels` of the compiled dist/ (identities collapsed above 60 qubes), median of 3 runs (target: the drawing of 1,000 qubes under 2 s)\n');
  console.log(table(['ids/qubes', 'nodes/edges', 'model + DOT ms', 'SVG layout ms', 'drawing ms', 'graph() with check ms', 'SVG KiB'], rows));
}

// ---------------------------------------------------------------- main

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sections: Record<string, () => void | Promise<void>> = { startup, throughput, topology, analysis, qubes: versusQubes, graph: graphBench, lsp: lspLatency };
  // `npm run bench -- analysis graph` runs only those sections; none named: all.
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in sections));
  if (unknown.length > 0) {
    console.error(`bench: no section ${unknown.join(', ')} (sections: ${Object.keys(sections).join(', ')})`);
    process.exit(2);
  }
  console.log(`qpc bench — node ${process.version}, ${process.platform}/${process.arch}`);
  ensureBuilt();
  api = (await import(pathToFileURL(path.resolve('dist/compiler/index.js')).href)) as typeof Api;
  for (const [name, run] of Object.entries(sections)) if (asked.length === 0 || asked.includes(name)) await run();
}
