/**
 * The package as a user gets it from the registry: `npm pack` of a copy of
 * the sources (its `prepack` builds `dist/`), installed into empty prefixes
 * without development dependencies, then run from a directory outside the
 * checkout — the command (`qpc --version`, `check`, `compile`) and the
 * declared API (imported by Node, and type-checked by a TypeScript consumer
 * against the shipped declarations).
 *
 * Installing reads the dependencies from npm's cache or the registry.
 */
import test from 'ava';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const checkout = process.cwd();
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; bin: Record<string, string>; files: string[] };

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  return { code: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** npm without the checkout's configuration, quiet, from the cache when it can. */
function npm(args: readonly string[], cwd: string): ReturnType<typeof run> {
  return run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, env: { ...process.env, npm_config_update_notifier: 'false' } });
}

const work = mkdtempSync(path.join(tmpdir(), 'qpc-package-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** Packs a copy of the sources (what a clean clone has, minus the tests); returns the tarball. */
function pack(): string {
  const src = path.join(work, 'src');
  mkdirSync(src);
  for (const f of ['.gitignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md', 'docs', 'bin', 'build', 'compiler', 'targets', 'grammar', 'policies', 'examples']) {
    cpSync(path.join(checkout, f), path.join(src, f), { recursive: true, filter: (s) => !['dist', 'node_modules'].includes(path.basename(s)) });
  }
  // The build's own tools (TypeScript) come from the checkout's development dependencies.
  symlinkSync(path.join(checkout, 'node_modules'), path.join(src, 'node_modules'));
  const out = path.join(work, 'tarball');
  mkdirSync(out);
  const r = npm(['pack', '--pack-destination', out], src);
  if (r.code !== 0) throw new Error(`npm pack failed:\n${r.stdout}${r.stderr}`);
  const [tgz] = readdirSync(out).filter((f) => f.endsWith('.tgz'));
  return path.join(out, tgz);
}

let tarball: string | undefined;
function tarballOnce(): string {
  return (tarball ??= pack());
}

test.serial('the tarball holds the build, the standard library and the licence, and no tests or sources', (t) => {
  const list = run('tar', ['tzf', tarballOnce()]).stdout.split('\n').filter((l) => l !== '');
  for (const f of ['package/package.json', 'package/LICENSE', 'package/README.md', 'package/bin/qpc.js', 'package/dist/compiler/cli/main.js', 'package/dist/compiler/cli.cjs', 'package/dist/compiler/cli.cache', 'package/dist/compiler/index.js', 'package/dist/compiler/index.d.ts', 'package/dist/stdlib.ast.json', 'package/dist/grammar/generated/parser.js', 'package/policies/qubes.qpol', 'package/examples/journalist.qpol', 'package/docs/diagnostics.md']) {
    t.true(list.includes(f), `${f} is in the tarball`);
  }
  t.deepEqual(list.filter((f) => f.startsWith('package/test/') || f.startsWith('package/bench/') || f.startsWith('package/editors/') || f.startsWith('package/build/')), []);
  t.deepEqual(list.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')), [], 'no TypeScript sources');
  t.deepEqual(list.filter((f) => f.endsWith('.lock')), [], 'no lock files of the examples');
  const licence = readFileSync(path.join(checkout, 'LICENSE'), 'utf8');
  t.regex(licence, /GNU GENERAL PUBLIC LICENSE\s+Version 3/);
});

test.serial('installed globally without development dependencies, qpc runs outside the checkout', (t) => {
  const prefix = path.join(work, 'global');
  const r = npm(['install', '--global', '--omit=dev', '--prefix', prefix, tarballOnce()], work);
  t.is(r.code, 0, r.stderr);
  const installed = path.join(prefix, 'lib', 'node_modules', pkg.name);
  t.true(existsSync(path.join(installed, 'dist', 'compiler', 'cli', 'main.js')));
  // Only the runtime dependencies are installed: none of the tools that build or test qpc.
  const deps = readdirSync(path.join(installed, 'node_modules'));
  for (const dev of ['typescript', 'ava', 'tsx', 'peggy', 'fast-check', 'esbuild']) t.false(deps.includes(dev), `${dev} is not installed`);

  const qpc = path.join(prefix, 'bin', 'qpc');
  const home = path.join(work, 'user');
  mkdirSync(home);
  cpSync(path.join(checkout, 'examples', 'journalist.qpol'), path.join(home, 'journalist.qpol'));
  const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` };

  const v = run(qpc, ['--version'], { cwd: home, env });
  t.is(v.code, 0, v.stderr);
  t.is(v.stdout, `qpc ${pkg.version}\n`);

  const help = run(qpc, ['--help'], { cwd: home, env });
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /^  check  /m);

  const c = run(qpc, ['check', 'journalist.qpol'], { cwd: home, env });
  t.is(c.code, 0, c.stderr);
  t.regex(c.stdout, /^journalist\.qpol: ok \(/);
  // check allocated the SOCKS ports: the lock file is written beside the policy.
  t.true(existsSync(path.join(home, 'journalist.qpol.lock')));

  const o = run(qpc, ['compile', 'journalist.qpol', '-o', 'out'], { cwd: home, env });
  t.is(o.code, 0, o.stderr);
  t.regex(o.stdout, /wrote \d+ files to out/);
  for (const f of ['manifest.json', 'qubes/provision.sh', 'qubes/policy.d', 'whonix/ports.json', 'xen/sys-whonix.cfg']) t.true(existsSync(path.join(home, 'out', f)), `out/${f}`);

  const e = run(qpc, ['explain', 'QP3004'], { cwd: home, env });
  t.is(e.code, 0, e.stderr);
  t.regex(e.stdout, /QP3004/);

  // The bundled command line loads Graphviz, a package, on demand, and the language server.
  const g = run(qpc, ['graph', 'journalist.qpol', '-o', 'journalist.svg'], { cwd: home, env });
  t.is(g.code, 0, g.stderr);
  t.regex(readFileSync(path.join(home, 'journalist.svg'), 'utf8'), /^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  writeFileSync(path.join(home, 'initialize'), `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // Standard input stays open a moment: the server stops at its end.
  const l = run('sh', ['-c', `{ cat initialize; sleep 3; } | ${qpc} lsp --stdio`], { cwd: home, env });
  t.regex(l.stdout, /"capabilities"/, l.stderr);
  t.is(l.stderr, '');
});

test.serial('the declared API imports and type-checks in a project that depends on the package', (t) => {
  const app = path.join(work, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'embeds-qpc', version: '1.0.0', private: true, type: 'module' }));
  const r = npm(['install', '--omit=dev', tarballOnce()], app);
  t.is(r.code, 0, r.stderr);
  cpSync(path.join(checkout, 'examples', 'journalist.qpol'), path.join(app, 'journalist.qpol'));
  cpSync(path.join(checkout, 'examples', 'journalist.qpol.lock'), path.join(app, 'journalist.qpol.lock'));
  const consumer = [
    `import { check, explain, type CheckResult, type Diagnostic } from '${pkg.name}';`,
    `const r: CheckResult = check('journalist.qpol');`,
    `const errors: Diagnostic[] = r.diagnostics.filter((d) => d.severity === 'error');`,
    `const text: string | undefined = explain('QP3004');`,
    `console.log(JSON.stringify({ errors: errors.length, qubes: r.program?.decls.size ?? 0, explained: text !== undefined }));`,
    '',
  ].join('\n');
  writeFileSync(path.join(app, 'consumer.ts'), consumer);
  writeFileSync(path.join(app, 'consumer.mjs'), consumer.replace(', type CheckResult, type Diagnostic', '').replace(': CheckResult', '').replace(': Diagnostic[]', '').replace(': string | undefined', ''));
  const node = run(process.execPath, ['consumer.mjs'], { cwd: app });
  t.is(node.code, 0, node.stderr);
  const out = JSON.parse(node.stdout) as { errors: number; qubes: number; explained: boolean };
  t.is(out.errors, 0);
  t.true(out.qubes > 0);
  t.true(out.explained);

  // The shipped declarations, checked strictly (no skipLibCheck), as a TypeScript project would.
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, types: ['node'], typeRoots: [path.join(checkout, 'node_modules', '@types')] },
      files: ['consumer.ts'],
    }),
  );
  const tsc = run(process.execPath, [path.join(checkout, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app });
  t.is(tsc.code, 0, tsc.stdout + tsc.stderr);
});
