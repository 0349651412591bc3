/**
 * Network topology checks over the policy graph (DESIGN §4.1): netvm loops,
 * offline identities, routes that bypass an identity's gateway, the Tor
 * invariant, clearnet behind Tor, shared Tor gateways, templates of Tor
 * identities, devices, disposables of other identities.
 * Emits QP3001–QP3014, QP3016 and QP3017; the updates of Tor identities'
 * templates (QP3015) are decided on the policy, in qrexec/check-updates.ts.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { NETWORK, showPath, type PolicyGraph, type QubeFacts } from '../graph/policy-graph.js';
import { lastItem, type Decl } from '../program.js';
import { whonixRole, whonixTagsOff } from '../whonix.js';
import { substitute } from './names.js';

function checkLoops(g: PolicyGraph, ctx: Reporter): void {
  for (const cycle of g.netvmCycles()) {
    const first = g.facts(cycle[0])!;
    ctx.report(
      diag('QP3001', first.netvmOrigin, { path: showPath([...cycle, cycle[0]]) }, {
        label: 'this netvm closes the loop',
        related: cycle.slice(1).map((n) => ({ span: g.facts(n)!.netvmOrigin, message: `\`${n}\` continues the loop here` })),
        help: 'end the chain at a gateway marked `uplink` (sys-net) or at a gateway behind it',
        subject: cycle[0],
      }),
    );
  }
}

function checkRoute(g: PolicyGraph, f: QubeFacts, ctx: Reporter): void {
  if (!f.identity || f.netvm === null) return;
  const name = f.decl.name;
  const identity = f.identity.name;
  if (f.mode === 'none') {
    if (f.netvmExplicit) ctx.report(diag('QP3002', f.netvmOrigin, { name, identity, netvm: f.netvm }, { help: 'remove the netvm, or move the qube to an identity with a network', subject: name }));
    return;
  }
  const route = g.route(name);
  if (route.loops) return; // reported as QP3001
  const torOnRoute = route.path.slice(1).filter((n) => n !== NETWORK && g.isTor(n));
  const related = f.netvmExplicit ? [] : [{ span: f.netvmOrigin, message: `the identity's network is declared here` }];
  if (f.mode === 'tor') {
    if (!route.reachesNetwork) return; // offline: nothing leaks
    if (!f.netvmExplicit && f.via && !g.isTor(f.via.name)) return; // the identity's gateway is wrong: QP3006
    if (torOnRoute.length === 0) {
      ctx.report(
        diag('QP3004', f.netvmOrigin, { name, identity, path: showPath(route.path) }, {
          label: f.netvmExplicit ? 'this netvm leaves Tor out' : 'this route leaves Tor out',
          related,
          help: f.via ? `let the qube use its identity's gateway: remove \`netvm\` (the identity goes via \`${f.via.name}\`)` : 'route it through a Tor gateway',
          subject: name,
        }),
      );
    } else if (f.via && g.isTor(f.via.name) && !torOnRoute.includes(f.via.name)) {
      ctx.report(
        diag('QP3005', f.netvmOrigin, { name, identity, actual: torOnRoute[0], gateway: f.via.name, path: showPath(route.path) }, {
          related: [...related, { span: f.via.node.name.span, message: `\`${f.via.name}\` is declared here` }],
          help: `remove the netvm so that the qube uses \`${f.via.name}\``,
          subject: name,
        }),
      );
    }
    return;
  }
  // clearnet
  if (f.netvmExplicit && torOnRoute.length > 0) {
    ctx.report(diag('QP3007', f.netvmOrigin, { what: 'qube', name, gateway: torOnRoute[0] }, { help: 'clearnet qubes go through the identity\'s clearnet gateway', subject: name }));
    return;
  }
  if (f.netvmExplicit && f.via && !route.path.includes(f.via.name)) {
    ctx.report(
      diag('QP3003', f.netvmOrigin, { name, gateway: f.via.name, identity }, {
        label: `route: ${showPath(route.path)}`,
        related: [{ span: f.via.node.name.span, message: `\`${f.via.name}\` is declared here` }],
        help: `remove the netvm, or choose one whose route passes \`${f.via.name}\``,
        subject: name,
      }),
    );
  }
}

function checkIdentities(g: PolicyGraph, ctx: Reporter): void {
  for (const d of g.program.decls.values()) {
    if (d.form !== 'identity') continue;
    const net = lastItem(d, 'NetworkItem');
    if (!net?.via) continue;
    const via = g.facts(substitute(net.via.text, g.program.settings.whonix));
    if (!via || via.decl.form !== 'gateway') continue;
    const viaRoute = g.route(via.decl.name);
    if (net.mode.text === 'tor' && !g.isTor(via.decl.name)) {
      ctx.report(diag('QP3006', net.via.span, { identity: d.name, gateway: via.decl.name }, { help: 'name a gateway marked `tor` (sys-whonix, or one of your own on a Whonix gateway template)', related: [{ span: via.decl.node.name.span, message: `\`${via.decl.name}\` is declared here` }], subject: d.name }));
    }
    if (net.mode.text === 'clearnet') {
      const tor = viaRoute.path.find((n) => n !== NETWORK && g.isTor(n));
      if (tor) ctx.report(diag('QP3007', net.via.span, { what: 'identity', name: d.name, gateway: tor }, { help: 'send a clearnet identity through a clearnet gateway such as sys-firewall, or make the identity `network tor`', subject: d.name }));
    }
  }
}

/** A first-hop client of a Tor gateway: the Tor identities it sends there, as their own qube or for qubes behind it. */
interface TorClient {
  readonly identities: Set<string>;
  readonly own: Set<string>;
  readonly carried: Set<string>;
}

/**
 * Where the traffic of Tor identities enters Tor: for each Tor gateway, its
 * first-hop clients (the qubes whose netvm it is) and the Tor identities
 * whose qubes reach it through each of them as the first Tor gateway of
 * their route. A client is the identity's qube itself, or a gateway between
 * the qube and Tor, which all qubes behind it share as their source address.
 */
function torClients(g: PolicyGraph): Map<string, Map<string, TorClient>> {
  const out = new Map<string, Map<string, TorClient>>();
  for (const f of g.allFacts()) {
    if (f.mode !== 'tor' || !f.identity) continue;
    const path = g.route(f.decl.name).path;
    const at = path.findIndex((n, i) => i > 0 && n !== NETWORK && g.isTor(n));
    if (at < 0) continue;
    let byClient = out.get(path[at]);
    if (!byClient) out.set(path[at], (byClient = new Map()));
    const client = byClient.get(path[at - 1]) ?? { identities: new Set<string>(), own: new Set<string>(), carried: new Set<string>() };
    client.identities.add(f.identity.name);
    (at > 1 ? client.carried : client.own).add(f.identity.name);
    byClient.set(path[at - 1], client);
  }
  return out;
}

/**
 * QP3008: a Tor gateway that is the first Tor gateway of several Tor
 * identities. When one client carries several of them (a VPN or firewall
 * qube in front of the Tor gateway), Tor sees them as one client address,
 * and `IsolateClientAddr` cannot keep their streams apart: the related span
 * names that client. Identities that arrive from different qubes share the
 * gateway, not an address.
 */
function checkSharedTorGateway(g: PolicyGraph, d: Decl, byClient: ReadonlyMap<string, TorClient> | undefined, ctx: Reporter): void {
  if (!byClient) return;
  const identities = [...new Set([...byClient.values()].flatMap((c) => [...c.identities]))].sort();
  if (identities.length < 2) return;
  const through = (i: string) => [...byClient].filter(([, c]) => c.carried.has(i)).map(([name]) => `\`${name}\``).sort();
  const shared = [...byClient].filter(([, c]) => c.identities.size > 1).sort(([a], [b]) => (a < b ? -1 : 1));
  ctx.report(
    diag('QP3008', d.node.name.span, { gateway: d.name, count: identities.length, identities: identities.map((i) => `\`${i}\``).join(', ') }, {
      related: [
        ...identities.map((i) => {
          const via = through(i);
          const direct = [...byClient.values()].some((c) => c.own.has(i));
          const how = via.length === 0 ? '' : `${direct ? ' directly and' : ''} through ${via.join(', ')}`;
          return { span: g.program.decls.get(i)!.node.name.span, message: `\`${i}\` uses \`${d.name}\`${how}` };
        }),
        ...shared.map(([c, { identities: ids }]) => ({
          span: g.facts(c)!.decl.node.name.span,
          message: `\`${c}\` carries ${[...ids].sort().map((i) => `\`${i}\``).join(', ')} into \`${d.name}\`: Tor sees them as one client address, so \`IsolateClientAddr\` cannot keep their streams apart`,
        })),
      ],
      help: `give each identity its own Tor gateway, or \`waive QP3008 on ${d.name} because "…"\``,
      subject: d.name,
    }),
  );
}

function checkGateways(g: PolicyGraph, ctx: Reporter): void {
  const clients = torClients(g);
  for (const f of g.allFacts()) {
    const d = f.decl;
    if (d.form !== 'gateway') continue;
    const uplink = d.items.find((i) => i.kind === 'FlagItem' && i.flag === 'uplink');
    if (uplink && f.netvm !== null) ctx.report(diag('QP3017', f.netvmOrigin, { name: d.name, netvm: f.netvm }, { subject: d.name }));
    if (!uplink && f.netvm === null) ctx.report(diag('QP3011', d.node.name.span, { name: d.name }, { help: 'add `netvm sys-firewall` (or another gateway), or `uplink` if it holds the network card', subject: d.name }));
    const tor = d.items.find((i) => i.kind === 'FlagItem' && i.flag === 'tor');
    if (tor && whonixRole(f.template) !== 'gateway') {
      ctx.report(
        diag('QP3012', tor.span, { name: d.name }, {
          ...(f.template ? { related: [{ span: f.templateOrigin!, message: `based on \`${f.template.name}\`, which is not declared \`whonix gateway\`` }] } : {}),
          help: 'base it on the Whonix gateway template (`template whonix-gateway-$whonix` from `use "whonix"`)',
          subject: d.name,
        }),
      );
    }
    if (tor) checkSharedTorGateway(g, d, clients.get(d.name), ctx);
  }
}


function checkQube(g: PolicyGraph, f: QubeFacts, ctx: Reporter, globalReported: Set<string>): void {
  const d = f.decl;
  const tor = f.mode === 'tor';
  const role = whonixRole(f.template);
  if (f.identity && tor && f.template && role !== 'workstation' && (d.form === 'qube' || d.form === 'disposable' || d.form === 'standalone')) {
    ctx.report(diag('QP3009', f.templateOrigin!, { name: d.name, identity: f.identity.name, template: f.template.name }, { help: `base it on \`whonix-workstation-${g.program.settings.whonix}\`, or waive the finding if the template is prepared for anonymity`, subject: d.name }));
  }
  if (f.identity && tor && (d.form === 'qube' || d.form === 'disposable' || d.form === 'named-disposable' || d.form === 'standalone') && whonixTagsOff(g, d)) {
    const at = lastItem(d, 'ValueItem', 'whonix-tags')?.span ?? d.node.name.span;
    const consequence =
      'the stock policy gives it the clock of dom0 (`qubes.GetDate`), which it denies anonymous qubes' +
      (role === 'workstation' ? ", and Whonix's own calls between it and its gateway (time sync status, gateway commands) are denied" : ", and no Whonix call reaches it from a gateway");
    ctx.report(diag('QP3037', at, { name: d.name, consequence }, { help: 'remove `whonix-tags off` to keep Whonix\'s tags, or waive the finding with the reason the deployment needs it', subject: d.name }));
  }
  if (f.identity && !tor && role === 'workstation') {
    ctx.report(diag('QP3010', f.templateOrigin!, { name: d.name, template: f.template!.name }, { help: 'base it on a template that is not Whonix-Workstation', subject: d.name }));
  }
  if (f.identity && tor) {
    for (const dev of f.devices) ctx.report(diag('QP3013', dev.span, { class: dev.deviceClass.text, name: d.name, identity: f.identity.name }, { help: 'remove the device; handle hardware in a qube of another identity', subject: d.name }));
  }
  if (f.virtMode?.value === 'pvh' && f.devices.some((x) => x.deviceClass.text === 'pci')) {
    ctx.report(diag('QP3014', f.virtMode.span, { name: d.name }, { help: 'write `virt-mode hvm`, or remove `virt-mode` so that Qubes chooses it', subject: d.name }));
  }
  // Default disposables of another identity.
  if (f.identity && f.defaultDisposable) {
    const disp = g.facts(f.defaultDisposable);
    const other = disp?.identity;
    if (other && other.name !== f.identity.name) {
      const explicit = lastItem(d, 'RefItem', 'default-disposable');
      if (explicit) {
        ctx.report(diag('QP3016', explicit.span, { kind: 'default-disposable', disposable: f.defaultDisposable, name: d.name, other: other.name, identity: f.identity.name }, { subject: d.name }));
      } else if (!f.defaultDisposableOrigin && !globalReported.has(f.identity.name)) {
        // Qubes' global default applies to every qube of the identity: reported once, on the identity.
        // (An identity's own `disposable` item is checked in checkIdentityDisposables.)
        globalReported.add(f.identity.name);
        ctx.report(
          diag('QP3016', f.identity.node.name.span, { kind: 'global-default', disposable: f.defaultDisposable, other: other.name, identity: f.identity.name }, {
            help: `give identity \`${f.identity.name}\` a disposable template of its own (\`disposable NAME\`)`,
            subject: f.identity.name,
          }),
        );
      }
    }
  }
  if (d.form === 'named-disposable' && f.identity && f.template) {
    const other = g.facts(f.template.name)?.identity;
    if (other && other.name !== f.identity.name) ctx.report(diag('QP3016', f.templateOrigin!, { kind: 'named-disposable', disposable: f.template.name, name: d.name, other: other.name, identity: f.identity.name }, { subject: d.name }));
  }
}

function checkIdentityDisposables(g: PolicyGraph, ctx: Reporter): void {
  for (const d of g.program.decls.values()) {
    if (d.form !== 'identity') continue;
    const item = lastItem(d, 'RefItem', 'disposable');
    if (!item?.target) continue;
    const disp = g.facts(substitute(item.target.text, g.program.settings.whonix));
    const other = disp?.identity;
    if (disp && other && other.name !== d.name) {
      ctx.report(diag('QP3016', item.target.span, { kind: 'identity-disposable', disposable: disp.decl.name, other: other.name, identity: d.name }, { help: `declare a disposable template in \`${d.name}\`: \`disposable ${d.name}-dvm in ${d.name} { … }\``, subject: d.name }));
    }
  }
}

/** Runs every topology check. */
export function checkNetwork(g: PolicyGraph, ctx: Reporter): void {
  checkLoops(g, ctx);
  checkIdentities(g, ctx);
  checkGateways(g, ctx);
  checkIdentityDisposables(g, ctx);
  const globalReported = new Set<string>();
  for (const f of g.allFacts()) {
    checkRoute(g, f, ctx);
    checkQube(g, f, ctx, globalReported);
  }
}

