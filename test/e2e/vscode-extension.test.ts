/**
 * The VS Code extension as it ships: `editors/vscode/build.mjs` bundles it,
 * the bundle runs in Node over a stand-in `vscode` module (vscode-fake.ts),
 * and the real vscode-languageclient inside it starts this checkout's
 * `qpc lsp` with the arguments it adds itself, sends the documents, receives
 * diagnostics into its collection and stops the server. Then `vsce package`
 * builds the .vsix, whose contents are checked.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import * as vm from 'node:vm';
import { inflateRawSync } from 'node:zlib';
import { createFakeVscode, DiagnosticSeverity, Uri, type FakeVscode } from './vscode-fake.js';

const EXT = path.resolve('editors/vscode');
const BUNDLE = path.join(EXT, 'dist', 'extension.js');
const manifest = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8')) as { main: string; name: string; version: string };

interface Extension {
  activate(context: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
  deactivate(): Promise<void>;
}

/** Runs a program to its end. */
function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** npm without update checks, and vsce's output without GitHub Actions annotations. */
function quietEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  delete env.GITHUB_ACTIONS;
  return env;
}

/** A fresh instance of the bundle, its `require('vscode')` answered by the stand-in. */
function loadExtension(fake: FakeVscode): Extension {
  const code = fs.readFileSync(BUNDLE, 'utf8');
  const realRequire = createRequire(BUNDLE);
  const fn = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: BUNDLE });
  const mod = { exports: {} as Record<string, unknown> };
  const req = (id: string) => (id === 'vscode' ? fake.module : realRequire(id));
  fn(mod.exports, req, mod, BUNDLE, path.dirname(BUNDLE));
  return mod.exports as unknown as Extension;
}

/**
 * A temporary directory with `qpc`: a script that records each command line
 * it is started with (one per line in `argv.log`) and runs this checkout's
 * CLI over its sources.
 */
function fixture(): { dir: string; qpc: string; argv(): string[]; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-vscode-'));
  const log = path.join(dir, 'argv.log');
  const qpc = path.join(dir, 'qpc');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const tsx = import.meta.resolve('tsx');
  fs.writeFileSync(qpc, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${q(log)}\nexec ${q(process.execPath)} --import ${q(tsx)} ${q(path.resolve('test/e2e/qpc-source.ts'))} "$@"\n`, { mode: 0o755 });
  return {
    dir,
    qpc,
    argv: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : []),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
  };
}

/** Resolves when `ready` holds, checked now and whenever diagnostics change; rejects after `ms` with what the client logged. */
function waitFor(fake: FakeVscode, ready: () => boolean, what: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${what} within ${ms} ms; output: ${fake.output.join('')}; messages: ${JSON.stringify(fake.messages)}`));
    }, ms);
    const check = () => {
      if (!ready()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    };
    const sub = fake.onDidChangeDiagnostics(check);
    check();
  });
}

/** Activates the extension; a failed start fails with what the server and the client wrote to the output channel. */
async function activate(ext: Extension, context: { subscriptions: { dispose(): unknown }[] }, fake: FakeVscode): Promise<void> {
  try {
    await ext.activate(context);
  } catch (e) {
    throw new Error(`the language client did not start: ${e instanceof Error ? e.message : String(e)}\noutput: ${fake.output.join('')}`);
  }
}

/** Resolves when the output channel has a line matching `re`. */
async function waitForOutput(fake: FakeVscode, re: RegExp, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(fake.output.join(''))) {
    if (Date.now() > end) throw new Error(`the output channel never showed ${re}: ${fake.output.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.before(() => {
  const r = run(process.execPath, [path.join(EXT, 'build.mjs')]);
  if (r.status !== 0) throw new Error(`build.mjs failed: ${r.stderr}`);
});

test.serial('the manifest points at the bundle, which needs no module but vscode and Node’s', (t) => {
  t.is(path.resolve(EXT, manifest.main), BUNDLE);
  const code = fs.readFileSync(BUNDLE, 'utf8');
  const required = new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
  const builtins = new Set(builtinModules);
  t.deepEqual([...required].filter((m) => m !== 'vscode' && !builtins.has(m.replace(/^node:/, ''))), []);
  t.true(required.has('vscode'));
});

test.serial('the extension starts qpc lsp through vscode-languageclient, gets diagnostics for an opened policy, and stops the server', async (t) => {
  const f = fixture();
  const fake = createFakeVscode({ 'qpol.server.command': f.qpc });
  const context = { subscriptions: [] as { dispose(): unknown }[] };
  const ext = loadExtension(fake);
  try {
    const file = path.join(f.dir, 'journalist.qpol');
    const text = fs.readFileSync('examples/journalist.qpol', 'utf8').replace('via sys-firewall', 'via sys-firewal');
    t.not(text, fs.readFileSync('examples/journalist.qpol', 'utf8'));
    fs.writeFileSync(file, text);
    await activate(ext, context, fake);
    // The client appended `--stdio` to the default arguments, and qpc accepted them.
    t.deepEqual(f.argv(), ['lsp --stdio']);
    t.is(fake.collections.length, 1);
    const uri = Uri.file(file);
    fake.openDocument(uri, 'qpol', text);
    await waitFor(fake, () => fake.diagnostics(uri).some((d) => d.code === 'QP2001'), 'QP2001 for the opened policy');
    const d = fake.diagnostics(uri).find((x) => x.code === 'QP2001')!;
    const line = text.split('\n').findIndex((l) => l.includes('via sys-firewal') && !l.includes('sys-firewall'));
    t.is(d.range.start.line, line);
    t.is(d.range.start.character, text.split('\n')[line].indexOf('sys-firewal'));
    t.is(d.range.end.character - d.range.start.character, 'sys-firewal'.length);
    t.is(d.severity, DiagnosticSeverity.Error);
    t.is(d.source, 'qpc');
    t.regex(d.message, /unknown gateway `sys-firewal`[\s\S]*did you mean `sys-firewall`/);
    await ext.deactivate();
    // Stopping the client disposed its collection: the problems are gone with the server.
    t.true(fake.collections[0].disposed);
    // The server answered shutdown and exit, and ended by itself with status 0.
    await waitForOutput(fake, /Server process exited with code 0\./);
    t.false(/signal/.test(fake.output.join('')), fake.output.join(''));
    t.deepEqual(fake.messages, []);
  } finally {
    await Promise.all(context.subscriptions.map((s) => s.dispose()));
    f.cleanup();
  }
});

const WAIVED = `use "qubes"
use "whonix"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity reporter { network tor via sys-whonix; label red; disposable reporter-dvm }
disposable reporter-dvm in reporter { template whonix-workstation-18 }
qube reporter-mail in reporter { template whonix-workstation-18; netvm sys-firewall }
waive QP3004 on reporter-mail because "mail relay under test"
`;

test.serial('qpol.allowWaived reaches the server as allowWaived, and a change restarts the server with the new codes', async (t) => {
  const f = fixture();
  const fake = createFakeVscode({ 'qpol.server.command': f.qpc, 'qpol.allowWaived': ['QP3004'] });
  const context = { subscriptions: [] as { dispose(): unknown }[] };
  const ext = loadExtension(fake);
  try {
    const file = path.join(f.dir, 'waived.qpol');
    fs.writeFileSync(file, WAIVED);
    await activate(ext, context, fake);
    const uri = Uri.file(file);
    fake.openDocument(uri, 'qpol', WAIVED);
    const bypass = () => fake.diagnostics(uri).find((d) => d.code === 'QP3004');
    // The server was started with the code: the waiver counts, and the finding is a warning quoting its reason.
    await waitFor(fake, () => bypass() !== undefined, 'QP3004 with allowWaived');
    t.is(bypass()!.severity, DiagnosticSeverity.Warning);
    t.regex(bypass()!.message, /accepted: mail relay under test/);
    // Without it (a new server, which reads the option again), the error CI reports.
    fake.configure({ 'qpol.allowWaived': [] });
    await waitFor(fake, () => bypass()?.severity === DiagnosticSeverity.Error, 'QP3004 as an error after the change');
    t.regex(bypass()!.message, /--allow-waived QP3004/);
    t.deepEqual(f.argv(), ['lsp --stdio', 'lsp --stdio']);
    t.deepEqual(fake.collections.map((c) => c.disposed), [true, false]);
    // A setting the server is not started with changes nothing.
    fake.configure({ 'qpol.trace.server': 'off' });
    await ext.deactivate();
    t.deepEqual(f.argv(), ['lsp --stdio', 'lsp --stdio']);
    await waitForOutput(fake, /Server process exited with code 0\.[\s\S]*Server process exited with code 0\./);
    t.deepEqual(fake.messages, []);
  } finally {
    await Promise.all(context.subscriptions.map((s) => s.dispose()));
    f.cleanup();
  }
});

/** A zip's entries, from its central directory: each name and a reader of its content (stored or deflated). */
function zipEntries(zip: Buffer): { name: string; data(): Buffer }[] {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const out: { name: string; data(): Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const csize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const data = () => {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + csize);
      return method === 0 ? Buffer.from(raw) : inflateRawSync(raw);
    };
    out.push({ name, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

test.serial('vsce package builds a .vsix of the bundle, the manifest, the grammar, the language configuration, README and LICENSE, without warnings', (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-vsix-'));
  try {
    const vsix = path.join(out, 'qpol.vsix');
    const vsce = path.resolve('node_modules/@vscode/vsce/vsce');
    const r = run(process.execPath, [vsce, 'package', '--out', vsix], { cwd: EXT, env: quietEnv() });
    t.is(r.status, 0, r.stdout + r.stderr);
    const printed = r.stdout + r.stderr;
    t.false(/WARNING|ERROR|::warning|::error/i.test(printed), printed);
    const entries = zipEntries(fs.readFileSync(vsix));
    t.deepEqual(entries.map((e) => e.name).sort(), [
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/LICENSE.txt',
      'extension/dist/THIRD-PARTY-NOTICES.txt',
      'extension/dist/extension.js',
      'extension/language-configuration.json',
      'extension/package.json',
      'extension/readme.md',
      'extension/syntaxes/qpol.tmLanguage.json',
    ]);
    const file = (name: string) => entries.find((e) => e.name === name)!.data();
    // The files are the ones of the checkout: the bundle just built, the project's licence.
    t.true(file('extension/dist/extension.js').equals(fs.readFileSync(BUNDLE)));
    t.true(file('extension/LICENSE.txt').equals(fs.readFileSync('LICENSE')));
    t.true(file('extension/syntaxes/qpol.tmLanguage.json').equals(fs.readFileSync(path.join(EXT, 'syntaxes/qpol.tmLanguage.json'))));
    t.true(file('extension/readme.md').equals(fs.readFileSync(path.join(EXT, 'README.md'))));
    t.like(JSON.parse(file('extension/package.json').toString('utf8')), { name: manifest.name, version: manifest.version, main: manifest.main });
    t.regex(file('extension/dist/THIRD-PARTY-NOTICES.txt').toString('utf8'), /^vscode-languageclient 9\.0\.1 \(MIT\)$/m);
    t.regex(file('extension.vsixmanifest').toString('utf8'), /Microsoft\.VisualStudio\.Services\.Content\.License/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
