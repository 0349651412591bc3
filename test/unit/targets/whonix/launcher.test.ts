/**
 * The workstation launchers: shellcheck and `sh -n` on every one, and a run
 * of real launchers against stand-in `qubesdb-read`, `torsocks` and app
 * programs that record what they were given.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Artifact } from '../../../../targets/types.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { allCases, extraModel } from './fixtures.js';

const launchers: { readonly name: string; readonly artifact: Artifact }[] = allCases().flatMap((c) =>
  whonixTarget
    .emit(c.model, [])
    .filter((a) => a.path.includes('/bin/qpc-'))
    .map((artifact) => ({ name: c.name, artifact })),
);

test('there are launchers to check, of every binding mode', (t) => {
  t.true(launchers.length >= 10);
  for (const mode of ['a port of its own', 'a pinned port', 'the shared port']) t.true(launchers.some((l) => l.artifact.contents.includes(mode)), mode);
});

for (const { name, artifact } of launchers) {
  toolTest(`whonix ${name}: ${artifact.path} is shellcheck-clean POSIX sh`, ['shellcheck', 'sh'], (t) => {
    t.true(artifact.contents.startsWith('#!/bin/sh\n'));
    t.regex(artifact.contents, /^set -eu$/m);
    const syntax = run('sh', ['-n'], { input: artifact.contents });
    t.is(syntax.status, 0, syntax.stderr);
    const sc = run('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: artifact.contents });
    t.is(sc.status, 0, sc.stdout + sc.stderr);
  });
}

toolTest('whonix: shellcheck catches an unquoted expansion in a launcher (the check can fail)', ['shellcheck'], (t) => {
  const a = launchers[0].artifact.contents.replace('"$app_path" "$@"', '$app_path "$@"');
  t.not(a, launchers[0].artifact.contents);
  const sc = run('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: a });
  t.not(sc.status, 0);
  t.regex(sc.stdout, /SC2086/);
});

interface Recorded {
  readonly status: number | null;
  readonly stderr: string;
  readonly qubesdb?: string[];
  readonly torsocks?: string[];
  readonly isolatePid?: string;
  readonly app?: string[];
}

/**
 * Runs a launcher with stand-ins on PATH: `qubesdb-read` prints `gateway`
 * (or fails), `torsocks` records its arguments and TORSOCKS_ISOLATE_PID, then
 * skips its own options and execs the rest like the real one; the app
 * records its arguments. Each argument is written NUL-terminated.
 */
function runLauncher(artifact: Artifact, app: string, args: readonly string[], opts: { gateway?: string; qubesdbFails?: boolean; noApp?: boolean } = {}): Recorded {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const bin = path.join(dir, 'bin');
    const rec = path.join(dir, 'rec');
    run('mkdir', [bin, rec]);
    const put = (name: string, text: string) => writeFileSync(path.join(bin, name), text, { mode: 0o755 });
    put('qubesdb-read', `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${rec}/qubesdb'\n${opts.qubesdbFails ? 'exit 1' : `printf '%s\\n' '${opts.gateway ?? '10.137.0.9'}'`}\n`);
    put('torsocks', [
      '#!/bin/sh',
      `for a in "$@"; do printf '%s\\0' "$a"; done > '${rec}/torsocks'`,
      `printf '%s' "\${TORSOCKS_ISOLATE_PID-unset}" > '${rec}/isolate'`,
      'while [ "$#" -gt 0 ]; do',
      '  case "$1" in',
      '    -a | -P | -u | -p) shift 2 ;;',
      '    *) break ;;',
      '  esac',
      'done',
      'exec "$@"',
      '',
    ].join('\n'));
    if (!opts.noApp) put(app, `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${rec}/app'\n`);
    const launcher = path.join(dir, 'launcher');
    writeFileSync(launcher, artifact.contents, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir };
    const r = run(launcher, args, { env });
    const read = (f: string) => (existsSync(path.join(rec, f)) ? readFileSync(path.join(rec, f), 'utf8').split('\0').slice(0, -1) : undefined);
    const iso = path.join(rec, 'isolate');
    return {
      status: r.status,
      stderr: r.stderr,
      qubesdb: read('qubesdb'),
      torsocks: read('torsocks')?.map((a) => a.replace(bin, 'BIN')),
      isolatePid: existsSync(iso) ? readFileSync(iso, 'utf8') : undefined,
      app: read('app'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const extra = whonixTarget.emit(extraModel(), []);
const launcher = (qube: string, app: string) => extra.find((a) => a.path === `whonix/${qube}/bin/qpc-${app}`)!;
const awkward = ['two words', '$HOME', '*', '-x', '', "it's", 'a\nb'];

test('whonix launcher: a dedicated app goes to its own port on the QubesDB gateway address, with its arguments', (t) => {
  const r = runLauncher(launcher('anon-a', 'irssi'), 'irssi', awkward);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.qubesdb, ['/qubes-gateway']);
  t.deepEqual(r.torsocks, ['-a', '10.137.0.9', '-P', '9112', 'BIN/irssi', ...awkward]);
  t.is(r.isolatePid, 'unset', "Whonix's torsocks.conf keeps its per-process isolation");
  t.deepEqual(r.app, awkward);
});

test('whonix launcher: an auth app sends credentials unique to qube and app, with IsolatePID off', (t) => {
  const git = runLauncher(launcher('anon-a', 'git'), 'git', ['clone', 'x y']);
  t.is(git.status, 0, git.stderr);
  t.deepEqual(git.torsocks, ['-a', '10.137.0.9', '-P', '9050', '-u', 'qpc/anon-a/git', '-p', 'qpc', 'BIN/git', 'clone', 'x y']);
  t.is(git.isolatePid, '0');
  t.deepEqual(git.app, ['clone', 'x y']);
  const mutt = runLauncher(launcher('anon-a', 'mutt'), 'mutt', []);
  t.deepEqual(mutt.torsocks, ['-a', '10.137.0.9', '-P', '9050', '-u', 'qpc/anon-a/mutt', '-p', 'qpc', 'BIN/mutt']);
  t.deepEqual(mutt.app, []);
});

test('whonix launcher: a pinned Whonix port and a dotted app name', (t) => {
  const h = runLauncher(launcher('anon-a', 'hexchat'), 'hexchat', ['--help']);
  t.deepEqual(h.torsocks, ['-a', '10.137.0.9', '-P', '9101', 'BIN/hexchat', '--help']);
  const c = runLauncher(launcher('anon-a', 'curl.bin'), 'curl.bin', ['https://example.org/']);
  t.deepEqual(c.torsocks, ['-a', '10.137.0.9', '-P', '9152', 'BIN/curl.bin', 'https://example.org/']);
  t.deepEqual(c.app, ['https://example.org/']);
});

test('whonix launcher: every launcher of every case passes its own port from the model', (t) => {
  for (const c of allCases()) {
    const artifacts = whonixTarget.emit(c.model, []);
    for (const s of c.model.socks) {
      const a = artifacts.find((x) => x.path === `whonix/${s.qube}/bin/qpc-${s.app}`)!;
      const r = runLauncher(a, s.app, ['arg']);
      t.is(r.status, 0, `${c.name} ${s.qube}/${s.app}: ${r.stderr}`);
      const creds = s.mode === 'auth' ? ['-u', `qpc/${s.qube}/${s.app}`, '-p', 'qpc'] : [];
      t.deepEqual(r.torsocks, ['-a', '10.137.0.9', '-P', String(s.port), ...creds, `BIN/${s.app}`, 'arg'], `${c.name} ${s.qube}/${s.app}`);
    }
  }
});

test('whonix launcher: fails closed without a usable gateway address or app, and runs nothing', (t) => {
  const l = launcher('anon-a', 'irssi');
  const cases: [string, Parameters<typeof runLauncher>[3]][] = [
    ['qubesdb-read fails', { qubesdbFails: true }],
    ['empty address', { gateway: '' }],
    ['injected address', { gateway: '10.137.0.9 -P 9050' }],
    ['command in the address', { gateway: '10.137.0.9;reboot' }],
    ['five parts', { gateway: '10.137.0.9.1' }],
    ['empty part', { gateway: '10..0.9' }],
    ['not an address', { gateway: 'localhost' }],
    ['app missing', { noApp: true }],
  ];
  for (const [what, opts] of cases) {
    const r = runLauncher(l, 'irssi', [], opts);
    t.not(r.status, 0, what);
    t.is(r.torsocks, undefined, `${what}: torsocks not run`);
    t.is(r.app, undefined, `${what}: app not run`);
    t.regex(r.stderr, /^qpc-irssi: /m, what);
  }
});
