/**
 * Properties of the topology checks and SOCKS allocation over random
 * policies: the Tor invariant the checker claims really holds (and every
 * violation is reported), and allocation is stable under edits.
 */
import test from 'ava';
import fc from 'fast-check';
import { check } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';

interface Gw {
  readonly name: string;
  readonly tor: boolean;
  readonly uplink: boolean;
  /** Index of the netvm among the gateways, -1 for none. */
  readonly netvm: number;
}
interface Identity {
  readonly name: string;
  readonly mode: 'tor' | 'clearnet' | 'none';
  readonly via: number;
}
interface Qube {
  readonly name: string;
  readonly identity: number;
  /** undefined: the identity's; -1: none; else a gateway index. */
  readonly netvm?: number;
}

const topology = fc
  .record({
    gateways: fc.array(fc.record({ tor: fc.boolean(), uplink: fc.boolean(), netvm: fc.integer({ min: -1, max: 5 }) }), { minLength: 1, maxLength: 6 }),
    identities: fc.array(fc.record({ mode: fc.constantFrom('tor', 'clearnet', 'none'), via: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 4 }),
    qubes: fc.array(fc.record({ identity: fc.integer({ min: 0, max: 3 }), netvm: fc.option(fc.integer({ min: -1, max: 5 }), { nil: undefined }) }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ gateways, identities, qubes }) => {
    const gws: Gw[] = gateways.map((g, i) => ({ name: `gw${i}`, tor: g.tor, uplink: g.uplink, netvm: g.netvm < gateways.length ? g.netvm : -1 }));
    const ids: Identity[] = identities.map((x, i) => ({ name: `id${i}`, mode: x.mode as Identity['mode'], via: x.via % gws.length }));
    const qs: Qube[] = qubes.map((q, i) => ({ name: `q${i}`, identity: q.identity % ids.length, ...(q.netvm !== undefined ? { netvm: q.netvm < gws.length ? q.netvm : -1 } : {}) }));
    return { gws, ids, qs };
  });

function policy(t: { gws: Gw[]; ids: Identity[]; qs: Qube[] }): string {
  const lines = ['use "qubes"', 'use "whonix"', 'template deb { tag whonix-updatevm }'];
  for (const g of t.gws) {
    const items = [g.tor ? 'tor; template whonix-gateway-18' : 'template deb', g.uplink ? 'uplink' : g.netvm >= 0 ? `netvm ${t.gws[g.netvm].name}` : ''];
    lines.push(`gateway ${g.name} { ${items.filter(Boolean).join('; ')} }`);
  }
  for (const i of t.ids) lines.push(`identity ${i.name} { network ${i.mode}${i.mode === 'none' ? '' : ` via ${t.gws[i.via].name}`} }`);
  for (const q of t.qs) {
    const id = t.ids[q.identity];
    const tpl = id.mode === 'tor' ? 'whonix-workstation-18' : 'deb';
    const net = q.netvm === undefined ? '' : q.netvm < 0 ? '; netvm none' : `; netvm ${t.gws[q.netvm].name}`;
    lines.push(`qube ${q.name} in ${id.name} { template ${tpl}${net} }`);
  }
  return lines.join('\n') + '\n';
}

/** The netvm chain of a qube, computed independently of the checker. */
function chain(t: { gws: Gw[]; ids: Identity[] }, q: Qube): { gateways: number[]; reachesNetwork: boolean } {
  const id = t.ids[q.identity];
  let cur = q.netvm !== undefined ? q.netvm : id.mode === 'none' ? -1 : id.via;
  const seen: number[] = [];
  while (cur >= 0 && !seen.includes(cur)) {
    seen.push(cur);
    if (t.gws[cur].uplink) return { gateways: seen, reachesNetwork: true };
    cur = t.gws[cur].netvm;
  }
  return { gateways: seen, reachesNetwork: false };
}

test('every Tor-identity qube of an accepted policy reaches the network only through its own Tor gateway; every violation is an error', (t) => {
  fc.assert(
    fc.property(topology, (topo) => {
      const r = check('t.qpol', { host: overlayHost(new Map([['t.qpol', policy(topo)]]), nodeHost) });
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      for (const q of topo.qs) {
        const id = topo.ids[q.identity];
        if (id.mode !== 'tor') continue;
        const c = chain(topo, q);
        if (!c.reachesNetwork) continue;
        const leaks = !topo.gws[id.via].tor || !c.gateways.includes(id.via);
        // The qube is accepted when no error names it, its identity or a gateway on its route.
        const about = new Set([q.name, id.name, ...c.gateways.map((g) => topo.gws[g].name)]);
        const accepted = !errors.some((d) => d.subject !== undefined && about.has(d.subject));
        if (leaks && accepted) return false;
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('a leaking qube is named by an error on its own declaration', (t) => {
  fc.assert(
    fc.property(topology, (topo) => {
      const text = policy(topo);
      const r = check('t.qpol', { host: overlayHost(new Map([['t.qpol', text]]), nodeHost) });
      for (const q of topo.qs) {
        const id = topo.ids[q.identity];
        if (id.mode !== 'tor' || q.netvm === undefined || q.netvm < 0) continue;
        const c = chain(topo, q);
        if (!c.reachesNetwork) continue;
        if (topo.gws[id.via].tor && !c.gateways.some((g) => topo.gws[g].tor)) {
          // An explicit netvm that leaves Tor out: QP3004 on that qube's line.
          const line = text.split('\n').findIndex((l) => l.startsWith(`qube ${q.name} `)) + 1;
          if (!r.diagnostics.some((d) => d.code === 'QP3004' && d.span?.line === line)) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

const appSet = fc.uniqueArray(
  fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), flags: fc.constantFrom('', ' isolate dest-addr', ' isolate dest-port dest-addr', ' isolate client-protocol', ' isolate client-protocol dest-port') }),
  { selector: (x) => x.name, maxLength: 8 },
);

function socksPolicy(qubes: readonly (readonly { name: string; flags: string }[])[]): string {
  const lines = ['use "qubes"', 'use "whonix"', 'identity anon { network tor via sys-whonix; disposable anon-dvm }', 'disposable anon-dvm in anon { template whonix-workstation-18 }'];
  qubes.forEach((apps, i) => {
    lines.push(`qube q${i} in anon {`, '  template whonix-workstation-18', ...apps.map((a) => `  app ${a.name} { socks dedicated${a.flags} }`), '}');
  });
  return lines.join('\n') + '\n';
}

function allocate(text: string, lock?: string) {
  const files = new Map([['s.qpol', text]]);
  if (lock !== undefined) files.set('s.qpol.lock', lock);
  const r = check('s.qpol', { host: overlayHost(files, nodeHost) });
  return { r, ports: new Map((r.allocation?.apps ?? []).map((a) => [`${a.qube}/${a.app}`, a.port])) };
}

test('allocation is stable: after random additions and removals, every surviving app keeps its port', (t) => {
  fc.assert(
    fc.property(fc.array(appSet, { minLength: 1, maxLength: 3 }), fc.array(appSet, { minLength: 1, maxLength: 3 }), (before, after) => {
      const first = allocate(socksPolicy(before));
      if (first.r.diagnostics.some((d) => d.severity === 'error')) return true;
      const second = allocate(socksPolicy(after), first.r.lock!.text);
      if (second.r.diagnostics.some((d) => d.severity === 'error')) return true;
      for (const [key, port] of second.ports) {
        const old = first.ports.get(key);
        const [q, app] = key.split('/');
        const i = Number(q.slice(1));
        const flagsBefore = before[i]?.find((a) => a.name === app)?.flags;
        const flagsAfter = after[i]?.find((a) => a.name === app)?.flags;
        if (old !== undefined && flagsBefore === flagsAfter && old !== port) return false;
      }
      // Ports stay unique within each qube.
      const perQube = new Map<string, Set<number>>();
      for (const [key, port] of second.ports) {
        const q = key.split('/')[0];
        const s = perQube.get(q) ?? new Set();
        if (s.has(port)) return false;
        s.add(port);
        perQube.set(q, s);
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('allocation does not depend on the order apps are declared in', (t) => {
  fc.assert(
    fc.property(appSet, (apps) => {
      const a = allocate(socksPolicy([apps]));
      const b = allocate(socksPolicy([[...apps].reverse()]));
      return a.r.lock?.text === b.r.lock?.text;
    }),
    { numRuns: 200 },
  );
  t.pass();
});
