/**
 * The lock file is input like the policy: checks every entry against what
 * the allocator (allocate-socks.ts, allocate-qids.ts) could have written,
 * and keeps only those. Emits QP3026, at the entry.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph } from '../graph/policy-graph.js';
import { isJsonMap, lockEntrySpans, type Lock, type RawLock } from '../lock-file.js';
import { qubeNameSyntax } from '../qubes-values.js';
import type { SourceFile } from '../source.js';
import { MAX_QID } from './allocate-qids.js';
import { isolateFlags } from './check-items.js';
import { dedicatedPort, FREE_PORTS_TEXT, freePort, isPort, portTables, portUse } from './socks-ports.js';

/**
 * Checks the entries of a lock file against what the allocator could have
 * written, and returns the lock of the entries that pass. A port outside the
 * gateway's custom groups and the ports Whonix leaves free, one of Whonix's
 * own listeners, a flag qpc does not know, a port two apps of a qube share,
 * a qube number twice or dom0's are each an error at the entry (QP3026), and
 * the entry is never used: a lock that moved an app to port 22 would
 * otherwise declare `+SocksPort …:22` on the gateway and open the port in its
 * firewall. `source` is the lock file, for the spans.
 */
export function checkLock(g: PolicyGraph, raw: RawLock, source: SourceFile | undefined, ctx: Reporter): Lock {
  let spans: ReturnType<typeof lockEntrySpans> | undefined;
  const report = (path: readonly string[], on: 'key' | 'value', entry: string, problem: string, help: string) => {
    spans ??= source ? lockEntrySpans(source.text) : new Map();
    const at = spans.get(path.join('\0'))?.[on];
    ctx.report(diag('QP3026', at && source ? source.span(at[0], at[1]) : undefined, { entry, problem }, { label: 'qpc never writes this', help }));
  };
  const table = portTables(g);
  const torGateways = g.allFacts().map((f) => f.decl.name).filter((n) => g.isTor(n));
  const anew = 'remove the entry to let qpc allocate it anew, or restore the lock file from version control';
  const portsHelp = `qpc gives dedicated apps a port of the gateway's pre-bound custom groups, or one Whonix leaves free (${FREE_PORTS_TEXT}); ${anew}`;

  const apps: Record<string, number> = {};
  const byQube = new Map<string, Map<number, string>>();
  for (const [key, v] of Object.entries(raw.apps)) {
    const entry = `\`${key}\` of \`apps\``;
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) >= 0 || !qubeNameSyntax.test(key.slice(0, slash))) {
      report(['apps', key], 'key', entry, 'the key is not `qube/app`', anew);
      continue;
    }
    if (!isPort(v)) {
      report(['apps', key], 'value', entry, `\`${JSON.stringify(v)}\` is not a port`, portsHelp);
      continue;
    }
    const qube = key.slice(0, slash);
    const f = g.facts(qube);
    const dedicated = f?.apps.find((a) => a.name.text === key.slice(slash + 1))?.socks?.mode === 'dedicated';
    const gw = dedicated && f?.netvm && g.isTor(f.netvm) ? f.netvm : undefined;
    // An entry of an app that is gone (or no longer dedicated) is dropped from the new lock, but must still be one qpc could have written.
    const could = gw !== undefined ? dedicatedPort(table(gw), v) : torGateways.length === 0 ? freePort(new Map(), v) : torGateways.some((x) => dedicatedPort(table(x), v));
    if (!could) {
      report(['apps', key], 'value', entry, gw !== undefined ? portUse(table(gw), v, gw, `allocates on \`${gw}\``) : `port ${v} is not a port qpc allocates`, portsHelp);
      continue;
    }
    let ports = byQube.get(qube);
    if (!ports) byQube.set(qube, (ports = new Map()));
    const first = ports.get(v);
    if (first !== undefined) {
      report(['apps', key], 'value', entry, `port ${v} is also \`${first}\`'s, and qpc never gives two apps of a qube one port`, anew);
      continue;
    }
    ports.set(v, key);
    apps[key] = v;
  }

  const listeners: Record<string, Record<string, string[]>> = {};
  for (const [gw, ports] of Object.entries(raw.listeners)) {
    if (!qubeNameSyntax.test(gw)) {
      report(['listeners', gw], 'key', `\`${gw}\` of \`listeners\``, 'the key is not a gateway name', anew);
      continue;
    }
    if (!isJsonMap(ports)) {
      report(['listeners', gw], 'value', `\`${gw}\` of \`listeners\``, 'the value is not a map of ports to isolation flags', anew);
      continue;
    }
    const tor = g.isTor(gw);
    for (const [p, flags] of Object.entries(ports)) {
      const entry = `\`${p}\` of \`listeners\` › \`${gw}\``;
      const port = Number(p);
      if (!isPort(port) || String(port) !== p) {
        report(['listeners', gw, p], 'key', entry, `\`${p}\` is not a port`, portsHelp);
        continue;
      }
      if (!(tor ? freePort(table(gw), port) : freePort(new Map(), port))) {
        report(['listeners', gw, p], 'key', entry, tor ? portUse(table(gw), port, gw, `adds a listener on`) : `port ${port} is not a port qpc adds a listener on`, `qpc adds listeners only on ports Whonix leaves free (${FREE_PORTS_TEXT}); ${anew}`);
        continue;
      }
      if (!Array.isArray(flags) || !flags.every((x) => typeof x === 'string' && isolateFlags.includes(x))) {
        report(['listeners', gw, p], 'value', entry, 'the value is not a list of isolation flags', `qpc writes the flags of \`isolate\` (${isolateFlags.join(', ')}); ${anew}`);
        continue;
      }
      (listeners[gw] ??= {})[p] = flags as string[];
    }
  }

  const qubes: Record<string, number> = {};
  const owner = new Map<number, string>();
  for (const [name, q] of Object.entries(raw.qubes)) {
    const entry = `\`${name}\` of \`qubes\``;
    if (!qubeNameSyntax.test(name)) {
      report(['qubes', name], 'key', entry, 'the key is not a qube name', anew);
      continue;
    }
    const dom0 = g.facts(name)?.decl.form === 'adminvm' || (g.facts(name) === undefined && name === 'dom0');
    const problem =
      typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > MAX_QID
        ? `\`${JSON.stringify(q)}\` is not a qube number from 0 to ${MAX_QID}`
        : dom0 !== (q === 0)
          ? dom0
            ? 'dom0\'s number is 0'
            : '0 is dom0\'s number'
          : owner.has(q)
            ? `${q} is also \`${owner.get(q)}\`'s number`
            : undefined;
    if (problem !== undefined) {
      report(['qubes', name], 'value', entry, problem, `qpc numbers qubes from 1, each once; ${anew}`);
      continue;
    }
    if (q !== 0) owner.set(q as number, name);
    qubes[name] = q as number;
  }
  return { apps, listeners, qubes };
}
