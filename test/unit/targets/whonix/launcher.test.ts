/**
 * The workstation launchers: shellcheck and `sh -n` on every one, and a run
 * of real launchers against stand-in `qubesdb-read`, `torsocks` and app
 * programs that record what they were given: arguments, the Tor Browser
 * environment, and the user.js the Thunderbird launcher writes, evaluated as
 * JavaScript with a stand-in `user_pref`.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, statSync, mkdirSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type { Artifact } from '../../../../compiler/target.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { launchMethod } from '../../../../targets/whonix/launcher.js';
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

/** The environment variables of Tor Browser's start-up that the stand-in app records. */
const torEnv = ['TOR_SOCKS_HOST', 'TOR_SOCKS_PORT', 'TOR_SOCKS_IPC_PATH', 'TOR_TRANSPROXY', 'TOR_SKIP_LAUNCH', 'TOR_CONTROL_IPC_PATH'] as const;

/**
 * What Whonix's `/etc/profile.d/20_torbrowser.sh` exports into every login
 * shell of a workstation (anon-ws-disable-stacked-tor), plus TOR_TRANSPROXY,
 * which Whonix does not set but a user might.
 */
const whonixLoginEnv: NodeJS.ProcessEnv = {
  TOR_SKIP_LAUNCH: '1',
  TOR_SOCKS_IPC_PATH: '/run/anon-ws-disable-stacked-tor/127.0.0.1_9150.sock',
  TOR_CONTROL_IPC_PATH: '/run/anon-ws-disable-stacked-tor/127.0.0.1_9151.sock',
  TOR_SKIP_CONTROLPORTTEST: '1',
  TOR_TRANSPROXY: '1',
};

/** The absolute path of a system tool. */
function systemTool(name: string): string {
  for (const dir of ['/usr/bin', '/bin']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  throw new Error(`${name} not found`);
}

interface Recorded {
  readonly status: number | null;
  readonly stderr: string;
  readonly qubesdb?: string[];
  readonly torsocks?: string[];
  readonly isolatePid?: string;
  readonly app?: string[];
  /** The app's view of {@link torEnv}: value, or undefined when unset. */
  readonly env?: Partial<Record<(typeof torEnv)[number], string>>;
  /** `$HOME` of the run, as the app saw it. */
  readonly home: string;
  /** Files below `$HOME/.thunderbird` after the run, by relative path. */
  readonly thunderbirdFiles: Record<string, string>;
  /** The mode of `$HOME/.thunderbird/qpc`, if it exists. */
  readonly profileMode?: number;
  /** The umask the app ran with. */
  readonly appUmask?: number;
}

/**
 * Runs a launcher with stand-ins on PATH: `qubesdb-read` prints `gateway`
 * (or fails), `torsocks` records its arguments and TORSOCKS_ISOLATE_PID, then
 * skips its own options and execs the rest like the real one; the app
 * records its arguments and {@link torEnv}. Each value is written
 * NUL-terminated. `extraApps` are further stand-in programs (recording as
 * the app does, under their own name); `files` are written below `$HOME`
 * first.
 */
function runLauncher(
  artifact: Artifact,
  app: string,
  args: readonly string[],
  opts: { gateway?: string; qubesdbFails?: boolean; noApp?: boolean; env?: NodeJS.ProcessEnv; noHome?: boolean; extraApps?: readonly string[]; files?: Record<string, string> } = {},
): Recorded {
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
    const recorder = (file: string) =>
      [
        '#!/bin/sh',
        `for a in "$@"; do printf '%s\\0' "$a"; done > '${rec}/${file}'`,
        `{`,
        ...torEnv.map((v) => `  if [ -n "\${${v}+set}" ]; then printf '%s\\0' "${v}=$${v}"; fi`),
        `} > '${rec}/${file}.env'`,
        `umask > '${rec}/${file}.umask'`,
        '',
      ].join('\n');
    if (!opts.noApp) put(app, recorder('app'));
    for (const extra of opts.extraApps ?? []) put(extra, recorder(extra));
    const home = path.join(dir, 'home');
    mkdirSync(home);
    for (const [f, text] of Object.entries(opts.files ?? {})) {
      mkdirSync(path.dirname(path.join(home, f)), { recursive: true });
      writeFileSync(path.join(home, f), text);
    }
    // The few system tools the launchers use, and nothing else: an app or a
    // torsocks installed on this machine must not be found.
    const tools = path.join(dir, 'tools');
    mkdirSync(tools);
    for (const tool of ['cat', 'mkdir', 'mv']) symlinkSync(systemTool(tool), path.join(tools, tool));
    const launcher = path.join(dir, 'launcher');
    writeFileSync(launcher, artifact.contents, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:${tools}`, ...(opts.noHome ? {} : { HOME: home }), ...opts.env };
    const r = run(launcher, args, { env });
    const read = (f: string) => (existsSync(path.join(rec, f)) ? readFileSync(path.join(rec, f), 'utf8').split('\0').slice(0, -1) : undefined);
    const iso = path.join(rec, 'isolate');
    const appEnv = read('app.env');
    const tb = path.join(home, '.thunderbird');
    const thunderbirdFiles: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else thunderbirdFiles[path.relative(tb, p)] = readFileSync(p, 'utf8');
      }
    };
    if (existsSync(tb)) walk(tb);
    const profile = path.join(tb, 'qpc');
    return {
      status: r.status,
      stderr: r.stderr,
      qubesdb: read('qubesdb'),
      torsocks: read('torsocks')?.map((a) => a.replace(bin, 'BIN')),
      isolatePid: existsSync(iso) ? readFileSync(iso, 'utf8') : undefined,
      app: read('app')?.map((a) => a.replace(home, 'HOME')),
      env: appEnv ? Object.fromEntries(appEnv.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : undefined,
      home,
      thunderbirdFiles,
      profileMode: existsSync(profile) ? statSync(profile).mode & 0o777 : undefined,
      appUmask: existsSync(path.join(rec, 'app.umask')) ? parseInt(readFileSync(path.join(rec, 'app.umask'), 'utf8'), 8) : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const extra = whonixTarget.emit(extraModel(), []);
const launcher = (qube: string, app: string) => extra.find((a) => a.path === `whonix/${qube}/bin/qpc-${app}`)!;
const awkward = ['two words', '$HOME', '*', '-x', '', "it's", 'a\nb'];

/** Evaluates a user.js as Thunderbird would read it: `user_pref(name, value)` calls and nothing else. */
function userPrefs(text: string): Record<string, unknown> {
  const prefs: Record<string, unknown> = {};
  const sandbox = Object.create(null) as Record<string, unknown>;
  sandbox.user_pref = (name: unknown, value: unknown) => {
    if (typeof name !== 'string') throw new Error(`pref name ${String(name)} is not a string`);
    if (name in prefs) throw new Error(`pref ${name} set twice`);
    prefs[name] = value;
  };
  vm.runInNewContext(text, sandbox, { timeout: 1000 });
  return prefs;
}

/** The proxy preferences a Thunderbird bound to `port` on the gateway at 10.137.0.9 must end up with. */
function expectedThunderbirdPrefs(port: number): Record<string, unknown> {
  return {
    'network.proxy.type': 1,
    'network.proxy.socks': '10.137.0.9',
    'network.proxy.socks_port': port,
    'network.proxy.socks_version': 5,
    'network.proxy.socks_remote_dns': true,
    'network.proxy.socks5_remote_dns': true,
    'network.proxy.failover_direct': false,
  };
}

test('whonix launcher: the apps with a method of their own, and torsocks for every other', (t) => {
  t.is(launchMethod('torbrowser'), 'tor-browser-environment');
  t.is(launchMethod('thunderbird'), 'thunderbird-prefs');
  for (const app of ['git', 'ssh', 'curl', 'gpg', 'wget', 'irssi', 'unknown-app', 'constructor', '__proto__']) t.is(launchMethod(app), 'torsocks', app);
});

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

test('whonix launcher: a torsocks launcher runs the program behind a Whonix uwt wrapper, not the wrapper', (t) => {
  // In Whonix /usr/bin/X of a wrapped tool is the wrapper and X.anondist-orig
  // the program (uwt, debian/uwt.displace); the wrapper would apply Whonix's
  // own torsocks settings (or, for curl, --proxy 127.0.0.1:9050).
  const r = runLauncher(launcher('anon-a', 'curl.bin'), 'curl.bin', ['-I', 'x'], { extraApps: ['curl.bin.anondist-orig'] });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.torsocks, ['-a', '10.137.0.9', '-P', '9152', 'BIN/curl.bin.anondist-orig', '-I', 'x']);
  t.is(r.app, undefined, 'the wrapper did not run');
  const git = runLauncher(launcher('anon-a', 'git'), 'git', ['pull'], { extraApps: ['git.anondist-orig'] });
  t.deepEqual(git.torsocks, ['-a', '10.137.0.9', '-P', '9050', '-u', 'qpc/anon-a/git', '-p', 'qpc', 'BIN/git.anondist-orig', 'pull']);
});

test('whonix launcher: Tor Browser gets its SOCKS proxy from TOR_SOCKS_HOST/PORT, without torsocks, over Whonix\'s login environment', (t) => {
  for (const env of [{}, whonixLoginEnv]) {
    const r = runLauncher(launcher('anon-b', 'torbrowser'), 'torbrowser', awkward, { env });
    t.is(r.status, 0, r.stderr);
    t.deepEqual(r.qubesdb, ['/qubes-gateway']);
    t.is(r.torsocks, undefined, 'not under torsocks');
    t.deepEqual(r.app, awkward);
    t.deepEqual(r.env, {
      TOR_SOCKS_HOST: '10.137.0.9',
      TOR_SOCKS_PORT: '9150',
      TOR_SKIP_LAUNCH: '1',
      // Whonix's control connection (onion-grater on the gateway) is kept.
      ...(env === whonixLoginEnv ? { TOR_CONTROL_IPC_PATH: whonixLoginEnv.TOR_CONTROL_IPC_PATH } : {}),
    });
  }
  // An auth Tor Browser uses the shared port and its own per-site credentials.
  const auth = runLauncher(launcher('anon-a', 'torbrowser'), 'torbrowser', [], { env: whonixLoginEnv });
  t.is(auth.status, 0, auth.stderr);
  t.is(auth.torsocks, undefined);
  t.is(auth.env?.TOR_SOCKS_PORT, '9050');
  t.false('TOR_SOCKS_IPC_PATH' in (auth.env ?? {}));
});

test('whonix launcher: Thunderbird runs on its qpc profile, whose user.js holds the proxy preferences, without torsocks', (t) => {
  const r = runLauncher(launcher('anon-b', 'thunderbird'), 'thunderbird', awkward);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.qubesdb, ['/qubes-gateway']);
  t.is(r.torsocks, undefined, 'not under torsocks');
  t.deepEqual(r.app, ['--profile', 'HOME/.thunderbird/qpc', ...awkward]);
  t.deepEqual(Object.keys(r.thunderbirdFiles), ['qpc/user.js'], 'user.js and nothing else, no temporary file left');
  t.deepEqual(userPrefs(r.thunderbirdFiles['qpc/user.js']), expectedThunderbirdPrefs(9161));
  t.is(r.profileMode, 0o700, 'the profile is private, as Thunderbird makes its own');
  // The launcher's own umask stays with its mkdir: files Thunderbird saves get the user's.
  t.is(r.appUmask, parseInt(run('sh', ['-c', 'umask']).stdout, 8));
});

test('whonix launcher: the Thunderbird launcher replaces a user.js and follows the gateway address', (t) => {
  const r = runLauncher(launcher('anon-b', 'thunderbird'), 'thunderbird', [], {
    gateway: '10.137.4.200',
    files: { '.thunderbird/qpc/user.js': 'user_pref("network.proxy.socks_port", 9050);\nuser_pref("network.proxy.type", 0);\n', '.thunderbird/qpc/prefs.js': 'kept' },
  });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(userPrefs(r.thunderbirdFiles['qpc/user.js']), { ...expectedThunderbirdPrefs(9161), 'network.proxy.socks': '10.137.4.200' });
  t.is(r.thunderbirdFiles['qpc/prefs.js'], 'kept', 'only user.js is the launcher\'s');
});

test('whonix launcher: the user.js check fails on a wrong or broken preference file (the check can fail)', (t) => {
  const r = runLauncher(launcher('anon-b', 'thunderbird'), 'thunderbird', []);
  const good = r.thunderbirdFiles['qpc/user.js'];
  t.notDeepEqual(userPrefs(good.replace('socks_remote_dns", true', 'socks_remote_dns", false')), expectedThunderbirdPrefs(9161));
  t.notDeepEqual(userPrefs(good.replace('"10.137.0.9"', '"127.0.0.1"')), expectedThunderbirdPrefs(9161));
  t.throws(() => userPrefs(good.replace('"network.proxy.socks",', '"network.proxy.socks,')), { name: 'SyntaxError' });
  t.throws(() => userPrefs(good + 'user_pref("network.proxy.type", 0);\n'), { message: /set twice/ });
});

test('whonix launcher: an auth Thunderbird refuses to run, since its preferences cannot send SOCKS credentials', (t) => {
  const l = launcher('anon-a', 'thunderbird');
  t.false(l.contents.includes('exec'), 'runs nothing');
  const r = runLauncher(l, 'thunderbird', []);
  t.not(r.status, 0);
  t.is(r.qubesdb, undefined);
  t.is(r.torsocks, undefined);
  t.is(r.app, undefined);
  t.deepEqual(r.thunderbirdFiles, {});
  t.regex(r.stderr, /^qpc-thunderbird: .*cannot send SOCKS credentials; bind it with socks dedicated or socks port$/m);
});

test('whonix launcher: every launcher of every case passes its own port from the model, by its method', (t) => {
  for (const c of allCases()) {
    const artifacts = whonixTarget.emit(c.model, []);
    for (const s of c.model.socks) {
      const what = `${c.name} ${s.qube}/${s.app}`;
      const a = artifacts.find((x) => x.path === `whonix/${s.qube}/bin/qpc-${s.app}`)!;
      const r = runLauncher(a, s.app, ['arg'], { env: whonixLoginEnv });
      const method = launchMethod(s.app);
      if (method === 'thunderbird-prefs' && s.mode === 'auth') {
        t.not(r.status, 0, what);
        t.is(r.app, undefined, what);
        continue;
      }
      t.is(r.status, 0, `${what}: ${r.stderr}`);
      if (method === 'torsocks') {
        const creds = s.mode === 'auth' ? ['-u', `qpc/${s.qube}/${s.app}`, '-p', 'qpc'] : [];
        t.deepEqual(r.torsocks, ['-a', '10.137.0.9', '-P', String(s.port), ...creds, `BIN/${s.app}`, 'arg'], what);
      } else {
        t.is(r.torsocks, undefined, what);
      }
      if (method === 'tor-browser-environment') {
        t.deepEqual(r.app, ['arg'], what);
        t.like(r.env, { TOR_SOCKS_HOST: '10.137.0.9', TOR_SOCKS_PORT: String(s.port), TOR_SKIP_LAUNCH: '1' }, what);
        t.false('TOR_SOCKS_IPC_PATH' in (r.env ?? {}) || 'TOR_TRANSPROXY' in (r.env ?? {}), what);
      }
      if (method === 'thunderbird-prefs') {
        t.deepEqual(r.app, ['--profile', 'HOME/.thunderbird/qpc', 'arg'], what);
        t.deepEqual(userPrefs(r.thunderbirdFiles['qpc/user.js']), expectedThunderbirdPrefs(s.port), what);
      }
    }
  }
});

test('whonix launcher: every example binds Tor Browser and Thunderbird by their own methods', (t) => {
  const methods = new Set(allCases().flatMap((c) => c.model.socks.map((s) => launchMethod(s.app))));
  t.deepEqual([...methods].sort(), ['thunderbird-prefs', 'tor-browser-environment', 'torsocks']);
});

test('whonix launcher: fails closed without a usable gateway address or app, and runs nothing', (t) => {
  const cases: [string, Parameters<typeof runLauncher>[3]][] = [
    ['qubesdb-read fails', { qubesdbFails: true }],
    ['empty address', { gateway: '' }],
    ['injected address', { gateway: '10.137.0.9 -P 9050' }],
    ['command in the address', { gateway: '10.137.0.9;reboot' }],
    ['quote in the address', { gateway: '10.137.0.9");user_pref("network.proxy.type",0);//' }],
    ['five parts', { gateway: '10.137.0.9.1' }],
    ['empty part', { gateway: '10..0.9' }],
    ['not an address', { gateway: 'localhost' }],
    ['app missing', { noApp: true }],
  ];
  for (const [qube, app] of [['anon-a', 'irssi'], ['anon-b', 'torbrowser'], ['anon-b', 'thunderbird']]) {
    const l = launcher(qube, app);
    for (const [what, opts] of cases) {
      const r = runLauncher(l, app, [], opts);
      t.not(r.status, 0, `${app}: ${what}`);
      t.is(r.torsocks, undefined, `${app}: ${what}: torsocks not run`);
      t.is(r.app, undefined, `${app}: ${what}: app not run`);
      t.deepEqual(r.thunderbirdFiles, {}, `${app}: ${what}: no profile written`);
      t.regex(r.stderr, new RegExp(`^qpc-${app}: `, 'm'), `${app}: ${what}`);
    }
  }
  const noHome = runLauncher(launcher('anon-b', 'thunderbird'), 'thunderbird', [], { noHome: true });
  t.not(noHome.status, 0);
  t.is(noHome.app, undefined);
  t.regex(noHome.stderr, /^qpc-thunderbird: HOME is not set$/m);
});
