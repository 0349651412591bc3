/**
 * `qpc compile` end to end over real files: every example compiles, `--check`
 * accepts what compile wrote and reports any change, `--frozen` refuses a
 * lock change, nothing is written on an error, and adding an app moves no
 * other app's port and renumbers no qube.
 */
import test from 'ava';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runQpcAsync as qpc } from '../../../helpers/cli.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).sort();

function temp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-compile-'));
}

for (const example of examples) {
  test(`examples/${example} compiles, and --check accepts what it wrote`, async (t) => {
    const dir = temp();
    const out = path.join(dir, 'out');
    const r = await qpc(['compile', `examples/${example}`, '-o', out, '--frozen']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /wrote \d+ files/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { artifacts: { path: string }[] };
    const paths = manifest.artifacts.map((a) => a.path);
    for (const prefix of ['qubes/policy.d/', 'qubes/system-info.json', 'qubes/provision.sh', 'qubes/salt/qpc.sls', 'xen/', 'whonix/ports.json']) t.true(paths.some((p) => p.startsWith(prefix)), `${prefix} is written`);
    for (const p of paths) t.true(existsSync(path.join(out, p)), `${p} is on disk`);
    t.is((await qpc(['compile', `examples/${example}`, '-o', out, '--check'])).code, 0);
    // A second compile replaces the set with the same bytes.
    t.is((await qpc(['compile', `examples/${example}`, '-o', out])).code, 0);
    t.is((await qpc(['compile', `examples/${example}`, '-o', out, '--check'])).code, 0);
    writeFileSync(path.join(out, 'qubes/provision.sh'), '#!/bin/sh\necho edited\n');
    const drift = await qpc(['compile', `examples/${example}`, '-o', out, '--check', '--error-format', 'plain']);
    t.is(drift.code, 1);
    t.regex(drift.stderr, /QP5010.*provision\.sh` differs/);
    rmSync(dir, { recursive: true });
  });
}

test('nothing is written when the policy has an error', async (t) => {
  const dir = temp();
  const policy = path.join(dir, 'p.qpol');
  writeFileSync(policy, 'use "qubes"\nqube q in nowhere {}\n');
  const out = path.join(dir, 'out');
  const r = await qpc(['compile', policy, '-o', out, '--error-format', 'plain']);
  t.is(r.code, 1);
  t.regex(r.stderr, /QP2001/);
  t.false(existsSync(out));
  rmSync(dir, { recursive: true });
});

test('--target picks targets and pulls in the ones they need; an unknown one is a usage error', async (t) => {
  const dir = temp();
  const out = path.join(dir, 'out');
  t.is((await qpc(['compile', 'examples/journalist.qpol', '-o', out, '--target', 'xen', '--frozen'])).code, 0);
  t.deepEqual(readdirSync(out).sort(), ['manifest.json', 'xen']);
  t.is((await qpc(['compile', 'examples/journalist.qpol', '-o', out, '--target', 'provision', '--frozen'])).code, 0);
  t.deepEqual(readdirSync(out).sort(), ['manifest.json', 'qubes', 'whonix']);
  const bad = await qpc(['compile', 'examples/journalist.qpol', '-o', out, '--target', 'xne', '--error-format', 'plain']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /unknown target `xne`/);
  t.is((await qpc(['compile', 'examples/journalist.qpol'])).code, 2, '-o is required');
  rmSync(dir, { recursive: true });
});

test('adding an app moves no other app and renumbers no qube; --frozen refuses the change', async (t) => {
  const dir = temp();
  cpSync('examples/journalist.qpol', path.join(dir, 'j.qpol'));
  cpSync('examples/journalist.qpol.lock', path.join(dir, 'j.qpol.lock'));
  const before = path.join(dir, 'before');
  t.is((await qpc(['compile', path.join(dir, 'j.qpol'), '-o', before, '--frozen'])).code, 0);
  const text = readFileSync(path.join(dir, 'j.qpol'), 'utf8').replace('  app gajim { socks dedicated isolate dest-addr dest-port }\n', '  app gajim { socks dedicated isolate dest-addr dest-port }\n  app irssi { socks dedicated isolate dest-addr dest-port }\n  app pidgin { socks dedicated isolate client-protocol }\n') + '\nqube source-extra in source-contact {\n  template whonix-workstation-18\n}\n';
  writeFileSync(path.join(dir, 'j.qpol'), text);
  const frozen = await qpc(['compile', path.join(dir, 'j.qpol'), '-o', path.join(dir, 'x'), '--frozen', '--error-format', 'plain']);
  t.is(frozen.code, 1);
  t.regex(frozen.stderr, /QP5006/);
  // The real CLI writes the lock through its io; do the same with the file system.
  const after = path.join(dir, 'after');
  const host = overlayHost(new Map(), nodeHost);
  const r = await qpc(['compile', path.join(dir, 'j.qpol'), '-o', after], { host });
  t.is(r.code, 0, r.stderr);
  const ports = (d: string) => (JSON.parse(readFileSync(path.join(d, 'whonix/ports.json'), 'utf8')) as { apps: Record<string, { port: number }> }).apps;
  const old = ports(before);
  const now = ports(after);
  for (const k of Object.keys(old)) t.deepEqual(now[k], old[k], `${k} keeps its binding`);
  t.truthy(now['source-inbox/irssi']);
  t.truthy(now['source-inbox/pidgin']);
  const lock = JSON.parse(r.written.get(path.join(dir, 'j.qpol.lock'))!) as { qubes: Record<string, number> };
  const oldLock = JSON.parse(readFileSync('examples/journalist.qpol.lock', 'utf8')) as { qubes: Record<string, number> };
  for (const [q, id] of Object.entries(oldLock.qubes)) t.is(lock.qubes[q], id, `${q} keeps its number`);
  t.is(lock.qubes['source-extra'], Math.max(...Object.values(oldLock.qubes)) + 1);
  // Its address in the Xen config follows its number.
  t.regex(readFileSync(path.join(after, 'xen/source-extra.cfg'), 'utf8'), new RegExp(`ip=10\\.137\\.0\\.${lock.qubes['source-extra']}\\b`));
  rmSync(dir, { recursive: true });
});

test('under --deny-warnings a warning writes nothing: neither the artifacts nor the lock file', async (t) => {
  const dir = temp();
  const policy = path.join(dir, 'p.qpol');
  // `template unused` is declared and never used: a warning (QP2018).
  writeFileSync(policy, 'use "qubes"\ntemplate deb\ntemplate unused\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n');
  const out = path.join(dir, 'out');
  const r = await qpc(['compile', policy, '-o', out, '--deny-warnings', '--error-format', 'plain']);
  t.is(r.code, 1);
  t.regex(r.stderr, /QP2018/);
  t.false(existsSync(out));
  t.false(existsSync(`${policy}.lock`));
  t.is((await qpc(['compile', policy, '-o', out])).code, 0, 'without the flag it compiles');
  t.true(existsSync(out));
  rmSync(dir, { recursive: true });
});
