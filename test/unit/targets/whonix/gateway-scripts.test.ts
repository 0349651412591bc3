/**
 * The shell the gateway runs: the firewall file as whonix_firewall sources
 * it (bash, after `bash -n`; whonix-and-tor.md §3), and the installation's
 * address command under shellcheck. And the real torsocks against a
 * Whonix-like torsocks.conf, for the credentials of `auth` launchers.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { addressScript } from '../../../../targets/whonix/torrc.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { allCases, extraModel } from './fixtures.js';

/** Whonix's default list (§3), which user files must add to, not replace. */
const WHONIX_DEFAULT = '9050 9100 9101 9102 9103 9104 9105 9106 9107 9108 9109 9110 9111 9114 9115 9117 9118 9122 9123 9124 9125 9150';

function openPorts(firewallFile: string): { status: number | null; ports: string[]; stderr: string } {
  const script = `set -eu\nINTERNAL_OPEN_PORTS="${WHONIX_DEFAULT}"\nbash -n "$1"\n. "$1"\nprintf '%s\\n' "$INTERNAL_OPEN_PORTS"\n`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const f = path.join(dir, '50_qpc.conf');
    writeFileSync(f, firewallFile);
    const r = run('bash', ['-c', script, 'bash', f]);
    return { status: r.status, ports: r.stdout.split(/\s+/).filter(Boolean), stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of allCases()) {
  for (const gw of c.model.torGateways) {
    toolTest(`whonix ${c.name}: ${gw.name}'s firewall file is bash that adds exactly its listeners' ports to Whonix's`, ['bash'], (t) => {
      const fw = whonixTarget.emit(c.model, []).find((a) => a.path === `whonix/${gw.name}/whonix_firewall.d/50_qpc.conf`)!;
      const r = openPorts(fw.contents);
      t.is(r.status, 0, r.stderr);
      t.deepEqual(r.ports, [...WHONIX_DEFAULT.split(' '), ...gw.extraListeners.map((l) => String(l.port))]);
    });
  }
}

toolTest('whonix mutation: a firewall file that assigns instead of adding drops Whonix\'s ports', ['bash'], (t) => {
  const fw = whonixTarget.emit(extraModel(), []).find((a) => a.path === 'whonix/sys-whonix/whonix_firewall.d/50_qpc.conf')!;
  const r = openPorts(fw.contents.replace('INTERNAL_OPEN_PORTS+=', 'INTERNAL_OPEN_PORTS='));
  t.deepEqual(r.ports, ['9112', '9113', '9116']);
});

toolTest('whonix: the gateway address command is shellcheck-clean sh', ['shellcheck'], (t) => {
  const sc = run('shellcheck', ['--shell=sh', '-'], { input: `#!/bin/sh\n${addressScript}\n` });
  t.is(sc.status, 0, sc.stdout);
});

/** Runs the git launcher with the real torsocks, Whonix's torsocks.conf (IsolatePID 1) and a stand-in qubesdb-read. */
function realTorsocks(launcherText: string): { status: number | null; stderr: string; ran: boolean } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const bin = path.join(dir, 'bin');
    run('mkdir', [bin]);
    writeFileSync(path.join(bin, 'qubesdb-read'), "#!/bin/sh\necho 10.137.0.9\n", { mode: 0o755 });
    // The app only records that it ran: torsocks' library is preloaded into
    // it and checks its configuration first, exiting on a conflict.
    writeFileSync(path.join(bin, 'git'), `#!/bin/sh\n: > '${dir}/ran'\n`, { mode: 0o755 });
    writeFileSync(path.join(dir, 'torsocks.conf'), 'TorAddress 127.0.0.1\nTorPort 9050\nOnionAddrRange 127.42.42.0/24\nAllowInbound 1\nAllowOutboundLocalhost 1\nIsolatePID 1\n');
    writeFileSync(path.join(dir, 'launcher'), launcherText, { mode: 0o755 });
    const r = run(path.join(dir, 'launcher'), [], { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, TORSOCKS_CONF_FILE: path.join(dir, 'torsocks.conf') } });
    let ran = true;
    try {
      readFileSync(path.join(dir, 'ran'));
    } catch {
      ran = false;
    }
    return { status: r.status, stderr: r.stderr, ran };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

toolTest('whonix: an auth launcher works with the real torsocks under Whonix\'s IsolatePID 1, and needs TORSOCKS_ISOLATE_PID=0 for it', ['torsocks'], (t) => {
  const git = whonixTarget.emit(extraModel(), []).find((a) => a.path === 'whonix/anon-a/bin/qpc-git')!.contents;
  const ok = realTorsocks(git);
  t.is(ok.status, 0, ok.stderr);
  t.true(ok.ran);
  const without = realTorsocks(git.replace('TORSOCKS_ISOLATE_PID=0\nexport TORSOCKS_ISOLATE_PID\n', ''));
  t.not(without.status, 0);
  t.false(without.ran);
  t.regex(without.stderr, /IsolatePID and SOCKS5 auth both set/);
});
