/**
 * The gateway files against the real tor: Whonix's own listeners plus our
 * torrc.d file, `%include`d as Whonix includes /usr/local/etc/torrc.d, must
 * pass `tor --verify-config` with no warning, must name no address and port
 * twice, and must be read by tor (`--dump-config`). Mutations show that each
 * of these checks catches what it is there for.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelTorGateway } from '../../../../compiler/model.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { addressCommand, torrcDeployPath } from '../../../../targets/whonix/torrc.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { allCases, extraModel } from './fixtures.js';
import { duplicateListeners, torComplaints, whonixListenerLines } from './tor-config.js';

interface Verified {
  readonly status: number | null;
  readonly output: string;
  readonly complaints: string[];
  readonly duplicates: string[];
  /** Listener lines as tor read them (`--dump-config short`). */
  readonly dumped: string[];
}

/** Runs tor on Whonix's listeners of `gw` plus `ours` as an included file, offline, in a temporary directory. */
function verifyWithTor(gw: ModelTorGateway, ours: string): Verified {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const stock = whonixListenerLines(gw);
    const include = path.join(dir, 'torrc.d', '50_qpc.conf');
    mkdirSync(path.dirname(include));
    writeFileSync(include, ours);
    const torrc = [`DataDirectory ${path.join(dir, 'data')}`, 'DisableNetwork 1', 'Log notice stdout', 'CookieAuthentication 1', ...stock.lines, `%include ${path.join(dir, 'torrc.d')}/*.conf`, ''].join('\n');
    writeFileSync(path.join(dir, 'torrc'), torrc);
    writeFileSync(path.join(dir, 'defaults'), '');
    const args = ['--defaults-torrc', path.join(dir, 'defaults'), '-f', path.join(dir, 'torrc')];
    const v = run('tor', ['--verify-config', ...args]);
    const d = run('tor', ['--dump-config', 'short', '--quiet', ...args]);
    const output = v.stdout + v.stderr;
    return {
      status: v.status,
      output,
      complaints: torComplaints(output),
      duplicates: duplicateListeners([torrc, ours], stock.otherBindings),
      dumped: d.stdout.split('\n').filter((l) => /^SocksPort /.test(l)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function torrcOf(model: ReturnType<typeof extraModel>, gateway: string): string {
  const a = whonixTarget.emit(model, []).find((x) => x.path === `whonix/${gateway}/torrc.d/50_qpc.conf`);
  if (!a) throw new Error(`no torrc for ${gateway}`);
  return a.contents;
}

for (const c of allCases()) {
  for (const gw of c.model.torGateways) {
    toolTest(`whonix ${c.name}: ${gw.name} with our torrc.d file passes tor --verify-config, with no duplicate listener`, ['tor'], (t) => {
      const ours = torrcOf(c.model, gw.name);
      const v = verifyWithTor(gw, ours);
      t.is(v.status, 0, v.output);
      t.regex(v.output, /Configuration was valid/);
      t.deepEqual(v.complaints, [], v.output);
      t.deepEqual(v.duplicates, []);
      // tor read every listener we declared, with its flags.
      for (const l of gw.extraListeners) t.true(v.dumped.some((d) => d.startsWith(`SocksPort 10.152.152.10:${l.port} `)), `port ${l.port} read by tor`);
    });
  }
}

test('the in-memory policy really adds listeners (so the tor check above covers some)', (t) => {
  const gw = extraModel().torGateways.find((g) => g.name === 'sys-whonix')!;
  t.deepEqual(gw.extraListeners.map((l) => `${l.port} ${l.isolate.join(',')}`), ['9112 client-protocol', '9113 client-protocol,dest-addr', '9116 client-protocol,dest-addr,dest-port']);
});

toolTest('whonix mutation: re-declaring Whonix port 9050 passes tor --verify-config but not the duplicate-listener check', ['tor'], (t) => {
  const m = extraModel();
  const gw = m.torGateways.find((g) => g.name === 'sys-whonix')!;
  const bad = torrcOf(m, gw.name) + '+SocksPort 10.152.152.10:9050 IPv6Traffic\n';
  const v = verifyWithTor(gw, bad);
  t.is(v.status, 0, 'tor verify mode does not see it (reference §7), hence our own check');
  t.deepEqual(v.duplicates, ['10.152.152.10:9050']);
});

toolTest('whonix mutation: a listener on a wildcard address clashes with Whonix\'s ports', ['tor'], (t) => {
  const m = extraModel();
  const gw = m.torGateways.find((g) => g.name === 'sys-whonix')!;
  const v = verifyWithTor(gw, torrcOf(m, gw.name) + '+SocksPort 0.0.0.0:9101\n');
  t.deepEqual(v.duplicates, ['0.0.0.0:9101']);
});

toolTest('whonix mutation: a misspelled isolation flag is only a tor warning, and the check fails on it', ['tor'], (t) => {
  const m = extraModel();
  const gw = m.torGateways.find((g) => g.name === 'sys-whonix')!;
  const ours = torrcOf(m, gw.name);
  t.true(ours.includes('IsolateClientProtocol'));
  const v = verifyWithTor(gw, ours.replace('IsolateClientProtocol', 'IsolateClientProtocl'));
  // tor 0.4.9 prints a warning and still says the configuration is valid
  // (reference §7), so the check reads tor's warnings too.
  t.regex(v.complaints.join('\n'), /Unrecognized SocksPort option '"IsolateClientProtocl"'/);
});

toolTest('whonix mutation: a port out of range makes tor --verify-config fail', ['tor'], (t) => {
  const m = extraModel();
  const gw = m.torGateways.find((g) => g.name === 'sys-whonix')!;
  const v = verifyWithTor(gw, torrcOf(m, gw.name).replace(':9112 ', ':70000 '));
  t.not(v.status, 0);
  t.regex(v.output, /Invalid SocksPort configuration/);
});

/** Runs the installation's address command on a copy of the file, with a stand-in qubesdb-read. */
function runAddressCommand(file: string, qubesdbValue: string, qubesdbStatus = 0): { status: number | null; stderr: string } {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    writeFileSync(path.join(bin, 'qubesdb-read'), `#!/bin/sh\n[ "$1" = /qubes-netvm-gateway ] || exit 2\nprintf '%s\\n' '${qubesdbValue}'\nexit ${qubesdbStatus}\n`, { mode: 0o755 });
    const argv = [...addressCommand];
    assertInstalledPath(argv[argv.length - 1]);
    argv[argv.length - 1] = file;
    const r = run(argv[0], argv.slice(1), { env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function assertInstalledPath(p: string): void {
  if (p !== torrcDeployPath) throw new Error(`the address command must name the installed torrc file, not ${p}`);
}

toolTest('whonix: installation puts the gateway\'s QubesDB address into the torrc.d file, and tor accepts the result', ['tor'], (t) => {
  const m = extraModel();
  const gw = m.torGateways.find((g) => g.name === 'sys-whonix')!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const file = path.join(dir, '50_qpc.conf');
    const original = torrcOf(m, gw.name);
    writeFileSync(file, original);
    t.is(runAddressCommand(file, '10.137.0.6').status, 0);
    const once = readFileSync(file, 'utf8');
    t.deepEqual(once.split('\n').filter((l) => l.startsWith('+SocksPort')).map((l) => l.split(' ')[1]), ['10.137.0.6:9112', '10.137.0.6:9113', '10.137.0.6:9116']);
    t.is(once.replace(/10\.137\.0\.6/g, '10.152.152.10'), original, 'only the addresses change');
    // A rerun after the address changed follows it.
    t.is(runAddressCommand(file, '10.137.1.7').status, 0);
    t.regex(readFileSync(file, 'utf8'), /^\+SocksPort 10\.137\.1\.7:9112 /m);
    // A value that is not a dotted quad, or a failing read, changes nothing.
    const before = readFileSync(file, 'utf8');
    for (const [value, status] of [['10.137.0.6/../x', 0], ['10.137.0.6 ; rm -rf /', 0], ['1.2.3.4.5', 0], ['', 0], ['10.137.0.6', 1]] as const) {
      t.not(runAddressCommand(file, value, status).status, 0, `refuses ${JSON.stringify(value)} (status ${status})`);
      t.is(readFileSync(file, 'utf8'), before);
    }
    const v = verifyWithTor(gw, before);
    t.is(v.status, 0, v.output);
    t.deepEqual(v.complaints, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
