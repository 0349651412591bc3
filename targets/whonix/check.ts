/**
 * What the whonix target refuses before it writes anything: values that
 * could break out of a file name, a shell word or a torrc line (QP4002), and
 * what Tor, Whonix or a qube cannot carry (QP4001). Every finding points at
 * the source line that asked for it.
 */
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { qubeNamed, type PolicyModel } from '../../compiler/model.js';
import type { Span } from '../../compiler/source.js';
import { APP_NAME, launcherName, SOURCE_PATH } from './names.js';
import { qubeNameSyntax } from '../../compiler/qubes-values.js';
import { torIsolationFlags, torListenerOptions } from './torrc.js';

const TARGET = 'whonix';
const MODES = new Set(['dedicated', 'port', 'auth']);

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** The checks of the whonix target. Pure. */
export function checkWhonix(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];

  if (!SOURCE_PATH.test(model.source)) {
    out.push(diag('QP4002', undefined, { what: 'source path', value: model.source, artifact: 'the header comment of the Whonix files' }, { help: 'name the policy with a path of printable ASCII characters' }));
  }

  const badQube = (name: string, span: Span | undefined, artifact: string): boolean => {
    if (qubeNameSyntax.test(name) && name !== 'ports.json') return false;
    out.push(diag('QP4002', span, { what: 'qube name', value: name, artifact }, { help: 'qube names used by the whonix target start with a letter and use letters, digits, `_`, `.` and `-` (not `ports.json`)', subject: name }));
    return true;
  };

  // Workstation side: one launcher per app.
  const launchers = new Map<string, string>();
  for (const a of model.socks) {
    const q = qubeNamed(model, a.qube);
    badQube(a.qube, a.span, 'a launcher path');
    if (!APP_NAME.test(a.app)) {
      out.push(diag('QP4002', a.span, { what: 'app name', value: a.app, artifact: 'a launcher file name and shell script' }, { help: 'app names start with a letter or digit and use letters, digits, `_`, `.`, `+` and `-`, at most 64 characters', subject: a.qube }));
      continue;
    }
    if (!MODES.has(a.mode)) {
      out.push(diag('QP4001', a.span, { target: TARGET, what: `the SOCKS binding mode \`${a.mode}\`` }, { subject: a.qube }));
    }
    if (!validPort(a.port)) {
      out.push(diag('QP4002', a.span, { what: 'port', value: String(a.port), artifact: 'a launcher' }, { subject: a.qube }));
    }
    for (const f of a.isolate) {
      if (torIsolationFlags[f] === undefined) {
        out.push(diag('QP4001', a.span, { target: TARGET, what: `the isolation flag \`${f}\`, which has no Tor SocksPort equivalent` }, { help: `Tor offers ${Object.keys(torIsolationFlags).map((k) => `\`${k}\``).join(', ')}`, subject: a.qube }));
      }
    }
    if (q?.klass === 'DispVM') {
      out.push(diag('QP4001', a.span, { target: TARGET, what: `a launcher in the named disposable \`${a.qube}\`, whose /usr/local/bin does not survive a restart` }, { help: 'declare the app on its disposable template instead', subject: a.qube }));
    }
    const key = `${a.qube}/${launcherName(a.app)}`;
    const first = launchers.get(key);
    if (first !== undefined) {
      out.push(diag('QP4001', a.span, { target: TARGET, what: `two launchers named \`${launcherName(a.app)}\` in \`${a.qube}\` (\`${first}\` and \`${a.app}\`)` }, { subject: a.qube }));
    } else launchers.set(key, a.app);
  }

  // Gateway side: the listeners qpc adds.
  for (const gw of model.torGateways) {
    const q = qubeNamed(model, gw.name);
    const gwSpan = q?.span;
    if (badQube(gw.name, gwSpan, 'the Whonix-Gateway file paths')) continue;
    // A listener has no span of its own: point at the first app that uses it.
    const spanOf = (port: number): Span | undefined => model.socks.find((a) => a.gateway === gw.name && a.port === port)?.span ?? gwSpan;
    if (gw.extraListeners.length > 0 && q?.whonixRole !== 'gateway') {
      out.push(diag('QP4001', spanOf(gw.extraListeners[0].port), { target: TARGET, what: `Tor listeners on \`${gw.name}\`, which is not a Whonix-Gateway (only Whonix reads /usr/local/etc/torrc.d and whonix_firewall.d)` }, { subject: gw.name }));
      continue;
    }
    if (gw.extraListeners.length > 0 && q?.klass === 'DispVM') {
      out.push(diag('QP4001', spanOf(gw.extraListeners[0].port), { target: TARGET, what: `Tor listeners on the named disposable \`${gw.name}\`, whose /usr/local does not survive a restart` }, { subject: gw.name }));
    }
    const whonixPorts = new Set(gw.whonixListeners.map((l) => l.port));
    const seen = new Set<number>();
    for (const l of gw.extraListeners) {
      const span = spanOf(l.port);
      if (l.kind !== 'socks') {
        out.push(diag('QP4001', span, { target: TARGET, what: `an added \`${l.kind}\` listener (it adds SocksPorts only)` }, { subject: gw.name }));
      }
      if (!validPort(l.port)) {
        out.push(diag('QP4002', span, { what: 'port', value: String(l.port), artifact: 'the gateway torrc' }, { subject: gw.name }));
        continue;
      }
      if (whonixPorts.has(l.port) || seen.has(l.port)) {
        out.push(diag('QP4001', span, { target: TARGET, what: `a second listener on port ${l.port} of \`${gw.name}\` (Tor would not start)` }, { subject: gw.name }));
      }
      seen.add(l.port);
      for (const f of l.isolate) {
        if (torIsolationFlags[f] === undefined) {
          out.push(diag('QP4001', span, { target: TARGET, what: `the isolation flag \`${f}\`, which has no Tor SocksPort equivalent` }, { subject: gw.name }));
        }
      }
      for (const o of l.options) {
        if (torListenerOptions[o] === undefined) {
          out.push(diag('QP4001', span, { target: TARGET, what: `the listener option \`${o}\`, which has no Tor SocksPort equivalent` }, { subject: gw.name }));
        }
      }
    }
  }
  return out;
}
