/**
 * The words and paths of the whonix target (targets/whonix/names.ts): the
 * allow-lists an app name and a source path must match, and where each
 * artifact lives in the output directory and inside its qube.
 */
import test from 'ava';
import {
  APP_NAME,
  firewallArtifactPath,
  firewallDeployPath,
  launcherArtifactPath,
  launcherDeployPath,
  launcherName,
  portsPath,
  qubeDirectory,
  SOURCE_PATH,
  torrcArtifactPath,
  torrcDeployPath,
} from '../../../../targets/whonix/names.js';

test('APP_NAME takes plain program names, dotted and with + and _', (t) => {
  for (const ok of ['irssi', 'curl.bin', 'g++', 'x_y-z', '7zip', 'A', 'a'.repeat(64)]) t.true(APP_NAME.test(ok), ok);
});

test('APP_NAME refuses what a shell or a file name would read differently', (t) => {
  for (const bad of [
    '', '-rf', '.hidden', '..', '+x', '_x', 'a b', 'a/b', 'a;b', 'a$b', "a'b", 'a"b', 'a`b', 'a*', 'a\nb', 'a\tb',
    'caf\u00e9', 'a\u200bb', 'a'.repeat(65),
  ]) {
    t.false(APP_NAME.test(bad), JSON.stringify(bad));
  }
});

test('SOURCE_PATH: printable ASCII on one line, 1 to 4096 characters', (t) => {
  t.true(SOURCE_PATH.test('examples/journalist.qpol'));
  t.true(SOURCE_PATH.test(' '));
  t.true(SOURCE_PATH.test('x'.repeat(4096)));
  t.false(SOURCE_PATH.test(''));
  t.false(SOURCE_PATH.test('x'.repeat(4097)));
  for (const bad of ['a\nb', 'a\rb', 'a\tb', 'caf\u00e9.qpol', '\u202e.qpol', 'a\x7f']) t.false(SOURCE_PATH.test(bad), JSON.stringify(bad));
});

test('every artifact of a qube lives under whonix/QUBE/, and ports.json beside those folders', (t) => {
  t.is(qubeDirectory('sys-whonix'), 'whonix/sys-whonix');
  t.is(torrcArtifactPath('sys-whonix'), 'whonix/sys-whonix/torrc.d/50_qpc.conf');
  t.is(firewallArtifactPath('sys-whonix'), 'whonix/sys-whonix/whonix_firewall.d/50_qpc.conf');
  t.is(launcherArtifactPath('anon-a', 'irssi'), 'whonix/anon-a/bin/qpc-irssi');
  t.is(portsPath, 'whonix/ports.json');
  // A gateway's two files and a launcher never share a path.
  const paths = [torrcArtifactPath('g'), firewallArtifactPath('g'), launcherArtifactPath('g', 'torrc.d'), portsPath];
  t.is(new Set(paths).size, paths.length);
});

test('a launcher is qpc-APP, so it shadows neither the app nor a system binary', (t) => {
  t.is(launcherName('tor'), 'qpc-tor');
  t.not(launcherName('tor'), 'tor');
  t.is(launcherDeployPath('thunderbird'), '/usr/local/bin/qpc-thunderbird');
});

test('files are deployed where Whonix reads them and an AppVM keeps them: under /usr/local', (t) => {
  t.is(torrcDeployPath, '/usr/local/etc/torrc.d/50_qpc.conf');
  t.is(firewallDeployPath, '/usr/local/etc/whonix_firewall.d/50_qpc.conf');
  for (const p of [torrcDeployPath, firewallDeployPath, launcherDeployPath('x')]) t.true(p.startsWith('/usr/local/'), p);
  // 50_user.conf stays the user's.
  t.false(torrcDeployPath.endsWith('50_user.conf'));
});
