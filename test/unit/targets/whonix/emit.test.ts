/**
 * The whonix target's artifacts: goldens for every example and for a policy
 * that needs added listeners, where each artifact is installed, ports.json
 * against the model, determinism, and what `check` refuses.
 */
import test from 'ava';
import type { PolicyModel } from '../../../../compiler/model.js';
import type { SocksAssignment } from '../../../../compiler/passes/allocate-socks.js';
import { whonixTarget } from '../../../../targets/whonix/index.js';
import { firewallReload, torReload } from '../../../../targets/whonix/torrc.js';
import { expectGoldenArtifacts } from '../../../helpers/golden.js';
import { allCases, extraModel, extraPath, extraPolicy, modelOf } from './fixtures.js';

const cases = allCases();

for (const c of cases) {
  test(`whonix ${c.name}: artifacts match the golden files`, (t) => {
    t.deepEqual(whonixTarget.check(c.model), []);
    const artifacts = whonixTarget.emit(c.model, []);
    expectGoldenArtifacts(t, `test/golden/targets/whonix/${c.name}`, c.source, artifacts);
  });

  test(`whonix ${c.name}: artifacts are well-formed and in path order`, (t) => {
    const artifacts = whonixTarget.emit(c.model, []);
    const paths = artifacts.map((a) => a.path);
    t.deepEqual(paths, [...paths].sort());
    t.is(new Set(paths).size, paths.length);
    for (const a of artifacts) {
      t.regex(a.path, /^whonix\/[A-Za-z0-9_.+\/-]+$/);
      t.false(a.path.split('/').includes('..'));
      t.true(a.contents.endsWith('\n'), a.path);
      t.false(a.contents.includes('\r'), a.path);
    }
  });

  test(`whonix ${c.name}: ports.json is model.socks exactly`, (t) => {
    const ports = whonixTarget.emit(c.model, []).find((a) => a.path === 'whonix/ports.json')!;
    const parsed = JSON.parse(ports.contents) as { version: number; apps: Record<string, { qube: string; app: string; gateway: string; port: number; mode: string; isolate: string[] }> };
    t.is(parsed.version, 1);
    const fromFile = Object.values(parsed.apps).map((a) => ({ qube: a.qube, app: a.app, gateway: a.gateway, mode: a.mode, port: a.port, isolate: a.isolate }));
    const fromModel = c.model.socks.map((a) => ({ qube: a.qube, app: a.app, gateway: a.gateway, mode: a.mode, port: a.port, isolate: [...a.isolate] }));
    const key = (a: { qube: string; app: string }) => `${a.qube}/${a.app}`;
    t.deepEqual([...fromFile].sort((a, b) => (key(a) < key(b) ? -1 : 1)), [...fromModel].sort((a, b) => (key(a) < key(b) ? -1 : 1)));
    t.deepEqual(Object.keys(parsed.apps), c.model.socks.map(key).sort(), 'keyed qube/app, sorted');
    t.is(ports.contents, JSON.stringify(JSON.parse(ports.contents), null, 2) + '\n', 'two-space JSON with a final newline');
  });

  test(`whonix ${c.name}: every gateway and workstation file says where it is installed`, (t) => {
    const artifacts = whonixTarget.emit(c.model, []);
    for (const gw of c.model.torGateways) {
      const torrc = artifacts.find((a) => a.path === `whonix/${gw.name}/torrc.d/50_qpc.conf`);
      const fw = artifacts.find((a) => a.path === `whonix/${gw.name}/whonix_firewall.d/50_qpc.conf`);
      t.deepEqual(torrc?.deploy, { qube: gw.name, path: '/usr/local/etc/torrc.d/50_qpc.conf', mode: '0644', reload: torReload });
      t.deepEqual(fw?.deploy, { qube: gw.name, path: '/usr/local/etc/whonix_firewall.d/50_qpc.conf', mode: '0644', reload: firewallReload });
    }
    for (const s of c.model.socks) {
      const l = artifacts.find((a) => a.path === `whonix/${s.qube}/bin/qpc-${s.app}`);
      t.truthy(l, `launcher of ${s.qube}/${s.app}`);
      t.true(l?.executable);
      t.deepEqual(l?.deploy, { qube: s.qube, path: `/usr/local/bin/qpc-${s.app}`, mode: '0755' });
    }
    t.is(artifacts.filter((a) => a.path.includes('/bin/')).length, c.model.socks.length);
  });
}

test('whonix: the torrc declares exactly the added listeners, and the firewall opens exactly their ports', (t) => {
  const m = extraModel();
  const artifacts = whonixTarget.emit(m, []);
  const torrc = artifacts.find((a) => a.path === 'whonix/sys-whonix/torrc.d/50_qpc.conf')!.contents;
  const fw = artifacts.find((a) => a.path === 'whonix/sys-whonix/whonix_firewall.d/50_qpc.conf')!.contents;
  t.deepEqual(torrc.split('\n').filter((l) => !l.startsWith('#') && l !== ''), [
    '+SocksPort 10.152.152.10:9112 IPv6Traffic IsolateClientProtocol',
    '+SocksPort 10.152.152.10:9113 IPv6Traffic IsolateClientProtocol IsolateDestAddr',
    '+SocksPort 10.152.152.10:9116 IPv6Traffic IsolateClientProtocol IsolateDestAddr IsolateDestPort',
  ]);
  t.deepEqual(fw.split('\n').filter((l) => !l.startsWith('#') && l !== ''), ['INTERNAL_OPEN_PORTS+=" 9112 9113 9116 "']);
  // No Whonix port is declared again.
  const whonixPorts = new Set(m.torGateways[0].whonixListeners.map((l) => l.port));
  for (const p of torrc.matchAll(/:(\d+) /g)) t.false(whonixPorts.has(Number(p[1])), `port ${p[1]}`);
});

test('whonix: a gateway without added listeners still gets both files, free of ports', (t) => {
  const m = modelOf('examples/journalist.qpol');
  t.deepEqual(m.torGateways[0].extraListeners, []);
  const artifacts = whonixTarget.emit(m, []);
  const torrc = artifacts.find((a) => a.path === 'whonix/sys-whonix/torrc.d/50_qpc.conf')!.contents;
  const fw = artifacts.find((a) => a.path === 'whonix/sys-whonix/whonix_firewall.d/50_qpc.conf')!.contents;
  t.false(/^[^#\n]/m.test(torrc), 'only comments');
  t.false(/^[^#\n]/m.test(fw), 'only comments');
});

test('whonix: emit is deterministic and independent of declaration order', (t) => {
  const a = whonixTarget.emit(extraModel(), []);
  t.deepEqual(whonixTarget.emit(extraModel(), []), a);
  // The same policy with its qubes and apps declared in reverse order.
  const [head, rest] = extraPolicy.split('qube anon-a in anon {');
  const [qa, qb] = rest.split('qube anon-b in anon {');
  const reverseApps = (block: string) => {
    const lines = block.split('\n');
    const apps = lines.filter((l) => l.trim().startsWith('app '));
    let i = apps.length;
    return lines.map((l) => (l.trim().startsWith('app ') ? apps[--i] : l)).join('\n');
  };
  const reordered = `${head}qube anon-b in anon {${reverseApps(qb)}\nqube anon-a in anon {${reverseApps(qa)}`;
  t.not(reordered, extraPolicy);
  const b = whonixTarget.emit(modelOf(extraPath, new Map([[extraPath, reordered]])), []);
  t.deepEqual(b, a);
});

// ------------------------------------------------------------------ check

const checked = (src: string) => {
  const path = 'check.qpol';
  return whonixTarget.check(modelOf(path, new Map([[path, extraPolicy + src]])));
};

test('check: an app name that cannot be a file name or shell word is QP4002 at its binding', (t) => {
  const ds = checked('\nqube anon-c in anon {\n  template whonix-workstation-18\n  app -rf { socks auth }\n  app .. { socks auth }\n}\n');
  t.deepEqual(ds.map((d) => [d.code, d.message]), [
    ['QP4002', 'app name `-rf` cannot be written safely into a launcher file name and shell script'],
    ['QP4002', 'app name `..` cannot be written safely into a launcher file name and shell script'],
  ]);
  t.is(ds[0].span?.line, 36);
  t.throws(() => whonixTarget.emit(modelOf('check.qpol', new Map([['check.qpol', extraPolicy + '\nqube anon-c in anon {\n  template whonix-workstation-18\n  app -rf { socks auth }\n}\n']])), []), { message: /unchecked/ });
});

test('check: a launcher in a named disposable is QP4001 (its /usr/local does not persist)', (t) => {
  const ds = checked('\ndisposable anon-dvm in anon { template whonix-workstation-18 }\nnamed-disposable anon-named in anon {\n  template anon-dvm\n  app gajim { socks dedicated }\n}\n');
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /named disposable `anon-named`/);
});

/** The extra model with one change. */
function mutated(f: (m: PolicyModel) => Partial<PolicyModel>): PolicyModel {
  const m = extraModel();
  return { ...m, ...f(m) };
}

test('check: an isolation flag without a Tor equivalent is QP4001, for apps and listeners', (t) => {
  const ds = whonixTarget.check(mutated((m) => ({
    socks: m.socks.map((s): SocksAssignment => (s.app === 'irssi' && s.qube === 'anon-a' ? { ...s, isolate: ['session-group'] } : s)),
    torGateways: m.torGateways.map((g) => ({ ...g, extraListeners: g.extraListeners.map((l) => (l.port === 9112 ? { ...l, isolate: ['session-group'] } : l)) })),
  })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001', 'QP4001']);
  for (const d of ds) t.regex(d.message, /isolation flag `session-group`, which has no Tor SocksPort equivalent/);
  t.truthy(ds[1].span, 'a listener finding points at an app that uses it');
});

test('check: an added listener on a port Whonix binds is QP4001 (Tor would not start)', (t) => {
  const ds = whonixTarget.check(mutated((m) => ({
    torGateways: m.torGateways.map((g) => ({ ...g, extraListeners: [{ kind: 'socks', port: 9050, isolate: ['client-protocol'], options: [] }, ...g.extraListeners] })),
  })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /second listener on port 9050 of `sys-whonix`/);
});

test('check: a qube name that would collide with ports.json, and an unsafe source path, are QP4002', (t) => {
  const ds = whonixTarget.check(mutated((m) => ({
    source: 'a\nb.qpol',
    socks: m.socks.map((s) => (s.qube === 'anon-b' ? { ...s, qube: 'ports.json' } : s)),
  })));
  t.deepEqual(ds.map((d) => [d.code, d.message]), [
    ['QP4002', 'source path `a\nb.qpol` cannot be written safely into the header comment of the Whonix files'],
    ...Array.from({ length: 4 }, () => ['QP4002', 'qube name `ports.json` cannot be written safely into a launcher path']),
  ]);
});

test('check: added listeners on a Tor gateway that is not a Whonix-Gateway are QP4001', (t) => {
  const ds = whonixTarget.check(mutated((m) => ({ qubes: m.qubes.map((q) => (q.name === 'sys-whonix' ? { ...q, whonixRole: undefined } : q)) })));
  t.deepEqual(ds.map((d) => d.code), ['QP4001']);
  t.regex(ds[0].message, /not a Whonix-Gateway/);
});
