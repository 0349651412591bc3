/**
 * The torsocks launchers with the real torsocks (Debian's), Whonix's
 * torsocks.conf (uwt `etc/tor/torsocks.conf.anondist`: IsolatePID 1,
 * AllowOutboundLocalhost 1) and a stand-in SOCKS5 server where the gateway
 * would be: the app's connection must arrive at the gateway address from
 * QubesDB and the port of the app, with qpc's credentials for `auth` apps and
 * torsocks' per-process ones otherwise.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Artifact } from '../../../../compiler/target.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { toolTest } from '../../../helpers/tools.js';
import { extraModel } from './fixtures.js';
import { socksServer, type SocksRequest } from './socks-server.js';

/**
 * Loopback addresses of their own, one per test (ava runs them at once), so
 * that the apps' ports are free even where a Tor listens on 127.0.0.1.
 */
let nextGateway = 2;
/** Where the stand-in apps connect to (TEST-NET-1): an address torsocks must send through the proxy. */
const DESTINATION = '192.0.2.7';

const whonixTorsocksConf = 'TorAddress 127.0.0.1\nTorPort 9050\nOnionAddrRange 127.42.42.0/24\nAllowInbound 1\nAllowOutboundLocalhost 1\nIsolatePID 1\n';

interface Ran {
  /** The address the launcher read from the stand-in QubesDB, where the stand-in SOCKS server listens. */
  readonly gateway: string;
  readonly code: number | null;
  readonly stderr: string;
  readonly requests: SocksRequest[];
}

/**
 * Runs `launcher` with the real torsocks; `programs` are stand-ins put on
 * PATH (bash scripts, so that torsocks' library is preloaded into them).
 */
async function runWithTorsocks(launcher: Artifact, port: number, programs: Record<string, string>): Promise<Ran> {
  const gateway = `127.0.0.${nextGateway++}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  const server = await socksServer(gateway, port);
  try {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'qubesdb-read'), `#!/bin/sh\necho ${gateway}\n`, { mode: 0o755 });
    for (const [name, text] of Object.entries(programs)) writeFileSync(path.join(bin, name), text, { mode: 0o755 });
    writeFileSync(path.join(dir, 'torsocks.conf'), whonixTorsocksConf);
    writeFileSync(path.join(dir, 'launcher'), launcher.contents, { mode: 0o755 });
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, TORSOCKS_CONF_FILE: path.join(dir, 'torsocks.conf') };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(path.join(dir, 'launcher'), [], { env, timeout: 30_000 }, (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr: String(stderr) });
      });
    });
    return { gateway, code, stderr, requests: [...server.requests] };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A program that opens a TCP connection to DESTINATION:80 and exits 0 once the proxy said it succeeded. */
const connects = `#!/bin/bash\nexec 3<>/dev/tcp/${DESTINATION}/80 || exit 3\n`;
/** What Whonix's curl wrapper does: talk to 127.0.0.1:9050 itself (torsocks lets loopback through). */
const loopback = '#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/9 || exit 4\n';

const extra = whonixTarget.emit(extraModel(), []);
const launcher = (qube: string, app: string) => extra.find((a) => a.path === `whonix/${qube}/bin/qpc-${app}`)!;

toolTest('whonix torsocks: a dedicated launcher reaches its own port on the QubesDB gateway address, with per-process credentials', ['torsocks', 'bash'], async (t) => {
  const r = await runWithTorsocks(launcher('anon-a', 'irssi'), 9112, { irssi: connects });
  t.is(r.code, 0, r.stderr);
  t.is(r.requests.length, 1, r.stderr);
  t.like(r.requests[0], { command: 1, address: DESTINATION, port: 80 });
  // Whonix's IsolatePID 1: torsocks makes up credentials per process.
  t.truthy(r.requests[0].username);
  t.false(r.requests[0].username?.startsWith('qpc/'));
});

toolTest('whonix torsocks: an auth launcher reaches the shared port with the credentials of its qube and app', ['torsocks', 'bash'], async (t) => {
  const r = await runWithTorsocks(launcher('anon-a', 'git'), 9050, { git: connects });
  t.is(r.code, 0, r.stderr);
  t.is(r.requests.length, 1);
  t.like(r.requests[0], { username: 'qpc/anon-a/git', password: 'qpc', command: 1, address: DESTINATION, port: 80 });
});

toolTest('whonix torsocks: behind a Whonix wrapper, the launcher runs the program itself, which reaches its port', ['torsocks', 'bash'], async (t) => {
  const r = await runWithTorsocks(launcher('anon-a', 'curl.bin'), 9152, { 'curl.bin': loopback, 'curl.bin.anondist-orig': connects });
  t.is(r.code, 0, r.stderr);
  t.is(r.requests.length, 1);
  t.like(r.requests[0], { address: DESTINATION, port: 80 });
});

toolTest('whonix torsocks mutation: run through the wrapper, the connection never reaches the port (the check can fail)', ['torsocks', 'bash'], async (t) => {
  const l = launcher('anon-a', 'curl.bin');
  const throughWrapper = { ...l, contents: l.contents.replace('  app_path="$app_path.anondist-orig"\n', '  :\n') };
  t.not(throughWrapper.contents, l.contents);
  const r = await runWithTorsocks(throughWrapper, 9152, { 'curl.bin': loopback, 'curl.bin.anondist-orig': connects });
  t.deepEqual(r.requests, []);
});
