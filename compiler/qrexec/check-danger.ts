/**
 * Dangerous grants (DESIGN §4.5, QP3032): a rule of the user's that allows or
 * asks for a service that gives the caller control of the target, the Admin
 * API, the clock of a Tor identity, input events or devices.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { ClosedPolicy } from './close-identities.js';
import { ruleTokens, takesQube, type Token } from './token.js';
import type { QrexecRule } from './types.js';
import type { Context } from './identities.js';

/** Danger levels of services (documented with QP3032). */
export const dangerous: readonly { readonly pattern: RegExp; readonly level: 'critical' | 'high'; readonly why: string; readonly toDisposableOk?: boolean; readonly torOnly?: boolean }[] = [
  { pattern: /^qubes\.(VMShell|VMRootShell|VMExec|VMExecGUI)$/, level: 'critical', why: 'runs any command in the target: full control of it', toDisposableOk: true },
  { pattern: /^admin\./, level: 'critical', why: 'is the Admin API: the caller manages qubes (and can take over the system)' },
  { pattern: /^qubes\.(GetDate|SetDateTime|SyncNtpClock)$/, level: 'high', why: 'gives the caller the clock, which lets an observer correlate the Tor identity with the host', torOnly: true },
  { pattern: /^qubes\.(InputMouse|InputKeyboard|InputTablet)$/, level: 'critical', why: 'injects input events into the target (and so controls it)' },
  // qubes.USB is called by the qube that takes the device, on the qube that has it (sys-usb).
  { pattern: /^qubes\.USB$/, level: 'high', why: 'hands a USB device of the target to the caller' },
  { pattern: /^(qubes\.USB.|u2f\.)/, level: 'high', why: 'hands a device or its secrets to the target' },
];

function reportDanger(cx: Context, rules: readonly QrexecRule[], ctx: Reporter): void {
  for (const r of rules) {
    if (r.origin.stock || r.origin.generated || r.action === 'deny') continue;
    for (const d of dangerous) {
      // A grant of `*` includes every dangerous service.
      if (r.service !== '*' && !d.pattern.test(r.service)) continue;
      const tokens = ruleTokens(r, cx.program.settings.qubes);
      const target = tokens.redirect ?? tokens.target;
      if (d.toDisposableOk && ownDisposable(cx, tokens.source, target)) continue;
      if (d.torOnly && !torSource(cx, tokens.source)) continue;
      const diagnostic = diag('QP3032', r.origin.span, { level: d.level, service: r.service === '*' ? '* (every service)' : r.service, why: d.why }, { subject: r.source, help: 'remove the grant, narrow it to a disposable, or say why with `because "…"`' });
      ctx.report(r.origin.because !== undefined ? { ...diagnostic, because: r.origin.because } : diagnostic);
      break;
    }
  }
}

/**
 * Whether a grant's target is a new disposable of the caller's own identity,
 * whoever the source column matches: `@dispvm` (the caller's default
 * disposable, which QP3016 keeps inside its identity), or `@dispvm:Q` for a
 * template Q of the identity every qube of the source belongs to. A
 * disposable of another identity (or of a tag) is no exemption: a shell
 * there runs on that identity's network with its data.
 */
function ownDisposable(cx: Context, source: Token, target: Token): boolean {
  if (target.kind === 'dispvm') return true;
  if (target.kind !== 'dispvm-of') return false;
  const id = cx.identityOf(target.value);
  if (id === undefined) return false;
  let any = false;
  for (const d of cx.world.info.domains.values()) {
    if (d.type === 'AdminVM' || !takesQube(source, d, 'source')) continue;
    any = true;
    if (cx.identityOf(d.name) !== id) return false;
  }
  return any;
}

/** Whether a source column can match a qube of a Tor identity. */
function torSource(cx: Context, source: Token): boolean {
  for (const d of cx.world.info.domains.values()) if (cx.isTorIdentity(cx.identityOf(d.name)) && takesQube(source, d, 'source')) return true;
  return false;
}

/** QP3032 over the complete policy. */
export function checkDanger(closed: ClosedPolicy, ctx: Reporter): void {
  reportDanger(closed.cx, closed.policy.rules, ctx);
}
