/**
 * Tor configuration helpers for the whonix target tests: Whonix-Gateway's
 * own listeners rendered the way its torrc declares them, and the
 * duplicate-listener check that `tor --verify-config` does not make
 * (whonix-and-tor.md §7: verify mode binds nothing, so two listeners on one
 * address and port pass and Tor fails only when it starts).
 */
import type { ModelListener, ModelTorGateway } from '../../../../compiler/model.js';
import { torIsolationFlags, torListenerOptions, whonixGatewayAddress } from '../../../../targets/whonix/torrc.js';

/** Gateway-local and workstation-facing addresses of Whonix-Gateway (§2). */
const LOCAL = ['127.0.0.1', '[::1]'];
const WORKSTATION = [whonixGatewayAddress, '[fd19:c33d:88bc::10]'];

const OPTION = { socks: 'SocksPort', 'http-tunnel': 'HTTPTunnelPort', trans: 'TransPort', dns: 'DNSPort', control: 'ControlPort' } as const;

/**
 * Where Whonix binds a listener of its table (§2.1, §2.2): named SocksPorts
 * and the HTTP tunnels on both loopback and the workstation-facing address,
 * the custom SocksPort groups and the catch-all TransPort/DnsPort on the
 * workstation-facing address only, `local` ones on loopback only.
 */
function addressesOf(l: ModelListener): readonly string[] {
  if (l.options.includes('local')) return LOCAL;
  if (l.kind === 'socks' && l.options.includes('custom')) return WORKSTATION;
  if (l.kind === 'trans' || l.kind === 'dns') return WORKSTATION;
  return [...LOCAL, ...WORKSTATION];
}

function flagsOf(l: ModelListener): string[] {
  const out: string[] = [];
  for (const o of l.options) {
    const f = torListenerOptions[o];
    if (f) out.push(f);
  }
  for (const i of l.isolate) out.push(torIsolationFlags[i]);
  return out;
}

/**
 * The listener lines of Whonix's own torrc for a gateway's `whonixListeners`.
 * Port 9051 facing workstations is onion-grater, not Tor: it is returned as a
 * binding other than Tor's, for the duplicate check.
 */
export function whonixListenerLines(gw: ModelTorGateway): { lines: string[]; otherBindings: string[] } {
  const lines: string[] = [];
  const otherBindings: string[] = [];
  for (const l of gw.whonixListeners) {
    const option = OPTION[l.kind as keyof typeof OPTION];
    if (!option) throw new Error(`unknown listener kind ${l.kind}`);
    if (l.kind === 'control' && !l.options.includes('local')) {
      for (const a of WORKSTATION) otherBindings.push(`${a}:${l.port}`);
      continue;
    }
    for (const a of addressesOf(l)) lines.push([`${option} ${a}:${l.port}`, ...(l.kind === 'control' ? [] : flagsOf(l))].join(' '));
  }
  return { lines, otherBindings };
}

const LISTENER = /^\s*[+/]?(SocksPort|TransPort|DNSPort|NATDPort|HTTPTunnelPort|ControlPort)\s+(\S+)/i;

/** `ADDR:PORT` of a listener value, or undefined for unix sockets, `auto` and `0`. */
export function bindingOf(value: string): string | undefined {
  if (/^unix:/i.test(value) || /^auto$/i.test(value) || value === '0') return undefined;
  if (/^\d+$/.test(value)) return `127.0.0.1:${value}`; // a bare port binds loopback only (§7)
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:]+):(\d+|auto)$/.exec(value);
  if (!m) throw new Error(`cannot read listener address ${value}`);
  if (m[2] === 'auto') return undefined;
  const host = m[1].toLowerCase() === 'localhost' ? '127.0.0.1' : m[1].toLowerCase();
  return `${host}:${Number(m[2])}`;
}

/**
 * Every pair of listeners that would want the same address and port, as
 * `ADDR:PORT` (a wildcard address clashes with every address of its family).
 * Listener kinds share one namespace: stricter than Tor needs for DNSPort
 * (UDP), and never a problem for Whonix's own table.
 */
export function duplicateListeners(torrcTexts: readonly string[], otherBindings: readonly string[] = []): string[] {
  const bound: string[] = [...otherBindings];
  for (const text of torrcTexts) {
    for (const line of text.split('\n')) {
      const m = LISTENER.exec(line);
      if (!m) continue;
      const b = bindingOf(m[2]);
      if (b) bound.push(b);
    }
  }
  const split = (b: string) => {
    const i = b.lastIndexOf(':');
    return { host: b.slice(0, i), port: b.slice(i + 1) };
  };
  const wild = (h: string) => h === '0.0.0.0' || h === '[::]';
  const v6 = (h: string) => h.startsWith('[');
  const dups: string[] = [];
  for (let i = 0; i < bound.length; i++) {
    for (let j = i + 1; j < bound.length; j++) {
      const a = split(bound[i]);
      const b = split(bound[j]);
      if (a.port !== b.port || v6(a.host) !== v6(b.host)) continue;
      if ((a.host === b.host || wild(a.host) || wild(b.host)) && !dups.includes(bound[j])) dups.push(bound[j]);
    }
  }
  return dups;
}

/** Lines of tor's output that are warnings or errors, except that of running as root. */
export function torComplaints(output: string): string[] {
  return output.split('\n').filter((l) => /\[(warn|err)\]/.test(l) && !/You are running Tor as root/.test(l));
}
