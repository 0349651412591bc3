/**
 * The lock file is read in the load stage, through the host that read the
 * policy: an in-memory host's or an editor's unsaved lock is the one the
 * check uses, and a check that goes on after binding reads nothing again.
 * A lock file that cannot be used is an error (QP5007) among the other
 * findings, and the analysis goes on as without one.
 */
import test from 'ava';
import { check, continueCheck } from '../../../../compiler/index.js';
import { DiagnosticBag } from '../../../../compiler/diagnostics/diagnostic.js';
import { nodeHost, overlayHost, type CompilerHost } from '../../../../compiler/host.js';
import { readLock } from '../../../../compiler/passes/read-lock.js';

const policy = `use "qubes"
use "whonix"
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube chat in anon {
  template whonix-workstation-18
  app a { socks dedicated }
}
`;
/** Moves `chat/a` off the port a fresh allocation gives it (9152). */
const lock = '{\n  "version": 1,\n  "apps": { "chat/a": 9153 },\n  "listeners": {},\n  "qubes": {}\n}\n';

const ports = (r: ReturnType<typeof check>) => r.allocation?.apps.map((a) => `${a.qube}/${a.app} ${a.port}`);

test('a check that goes on after binding uses the lock its host had, not a file of the disk', (t) => {
  const host = overlayHost(new Map([['p.qpol', policy], ['p.qpol.lock', lock]]), nodeHost);
  const direct = check('p.qpol', { host });
  t.deepEqual(ports(direct), ['chat/a 9153']);
  const bound = check('p.qpol', { host, until: 'bind' });
  // No host given to go on with: the lock is the one read with the policy.
  const whole = continueCheck(bound);
  t.deepEqual(ports(whole), ['chat/a 9153']);
  t.is(whole.lock?.previous, lock);
  t.is(whole.lock?.text, direct.lock?.text);
});

test('the lock is read once, with the policy set: going on reads nothing, and a later change of the file is not mixed in', (t) => {
  const files = new Map([['p.qpol', policy], ['p.qpol.lock', lock]]);
  const reads: string[] = [];
  const host: CompilerHost = { readFile: (p, o) => (reads.push(p), overlayHost(files, nodeHost).readFile(p, o)) };
  const bound = check('p.qpol', { host, until: 'bind' });
  t.is(reads.filter((p) => p === 'p.qpol.lock').length, 1);
  files.set('p.qpol.lock', lock.replace('9153', '9154'));
  const before = reads.length;
  const whole = continueCheck(bound, { host });
  t.is(reads.length, before, 'nothing is read to go on');
  t.deepEqual(ports(whole), ['chat/a 9153'], 'the policy and the lock of one moment');
});

test('no lock file is an empty lock; a link, an unreadable file or one that is not a lock is QP5007', (t) => {
  const none = new DiagnosticBag();
  t.deepEqual(readLock('p.qpol', overlayHost(new Map()), none), { path: 'p.qpol.lock', raw: { apps: {}, listeners: {}, qubes: {} }, usable: true });
  t.deepEqual(none.items, []);
  const asked: unknown[] = [];
  const refusing: CompilerHost = {
    readFile: (_p, o) => {
      asked.push(o);
      throw Object.assign(new Error('is a symbolic link'), { code: 'ESYMLINK' });
    },
  };
  const link = new DiagnosticBag();
  t.false(readLock('p.qpol', refusing, link).usable);
  t.deepEqual(asked, [{ noFollow: true }], 'the lock file is read without following links');
  t.deepEqual(link.items.map((d) => `${d.code} ${d.message}`), ['QP5007 cannot use the lock file `p.qpol.lock`: is a symbolic link']);
  const garbage = new DiagnosticBag();
  const read = readLock('p.qpol', overlayHost(new Map([['p.qpol.lock', 'garbage']])), garbage);
  t.false(read.usable);
  t.is(read.source, undefined);
  t.regex(garbage.items[0]!.message, /not JSON/);
  const good = readLock('p.qpol', overlayHost(new Map([['p.qpol.lock', lock]])), new DiagnosticBag());
  t.true(good.usable);
  t.is(good.source?.text, lock);
  t.deepEqual(good.raw.apps, { 'chat/a': 9153 });
});

test('a lock file that is not one is a load-stage error that stops nothing but the target stage', (t) => {
  const host = overlayHost(new Map([['p.qpol', policy], ['p.qpol.lock', 'garbage']]), nodeHost);
  const r = check('p.qpol', { host });
  t.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.stage}`), ['QP5007 load']);
  t.truthy(r.graph);
  t.is(r.allocation, undefined, 'nothing is allocated');
  t.is(r.lock, undefined, 'nor written');
  t.is(r.model, undefined);
});

test('a malformed lock file is reported with the stage\'s other findings, not instead of them', (t) => {
  const host = overlayHost(
    new Map([
      ['p.qpol', 'use "qubes"\ntemplate deb\ngateway a { template deb; netvm b }\ngateway b { template deb; netvm a }\n'],
      ['p.qpol.lock', 'garbage'],
    ]),
    nodeHost,
  );
  const r = check('p.qpol', { host });
  t.deepEqual([...new Set(r.diagnostics.map((d) => d.code))].sort(), ['QP3001', 'QP5007']);
  t.truthy(r.policy, 'the qrexec policy is still evaluated');
  t.is(r.model, undefined);
});

