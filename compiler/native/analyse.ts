/**
 * The analyses `qpc lint` runs over native policy files once they are read
 * (compiler/native/read.ts), over the rules in the order dom0 evaluates
 * them, with the same analysis code as `check` (compiler/qrexec/):
 *
 *   QP6101  a rule of a file that is not stock that never decides: one
 *           earlier rule, in any file, matches every request it matches
 *   QP6102  stock rules that a rule of another file makes unreachable
 *   QP6103  a call allowed or asked between a qube tagged `anon-vm` and a
 *           qube without the tag (Whonix's own calls between a workstation
 *           and a gateway apart)
 *   QP6104  a grant of a dangerous service (the danger table of QP3032)
 *   QP6105  the qubes were guessed from the rules (no `--system-info`):
 *           what depends on their properties is not known
 *
 * "Every request" and the channels are judged over the qubes of the system
 * information. Two anonymous qubes are not told apart: native files carry no
 * identities, so a call between two qubes tagged `anon-vm` is not reported.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { findChannels, type Channel } from '../qrexec/channels.js';
import { dangerous } from '../qrexec/check-danger.js';
import { coveringRules } from '../qrexec/check-shadowed.js';
import { isKeyword, ruleTokens, takesQube, type Token } from '../qrexec/token.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from '../qrexec/types.js';

/** A native policy as dom0 would evaluate it. */
export interface NativePolicy {
  /** Every rule, in the order dom0 reads them (files sorted, includes spliced in place). */
  readonly rules: readonly QrexecRule[];
  /** The qubes: from `--system-info`, else inferred from the names the rules use (see `inferredSystemInfo`). */
  readonly info: SystemInfo;
  readonly release: QubesRelease;
  /** True when `info` was inferred rather than given with `--system-info`: decisions that depend on qube properties are then guesses. */
  readonly infoInferred?: boolean;
}

/** The tag Whonix gives its workstations: the qubes whose calls must not reach the rest. */
export const ANON_TAG = 'anon-vm';

/** The tags of Whonix gateways, whose own services with workstations are no channel. */
const GATEWAY_TAGS = ['anon-gateway', 'sdwdate-gui-server'];

/** Services Whonix itself runs between a workstation and its gateway (80-whonix.policy). */
const WHONIX_SERVICES = /^(whonix\.|sdwdate\.|sdwdate-gui\.)/;

/** A rule as its line reads in a policy file. */
export function nativeRuleText(r: QrexecRule): string {
  const params = [
    r.redirect !== undefined ? `target=${r.redirect}` : '',
    r.defaultTarget !== undefined ? `default_target=${r.defaultTarget}` : '',
    r.user !== undefined ? `user=${r.user}` : '',
    r.notify !== undefined ? `notify=${r.notify ? 'yes' : 'no'}` : '',
    r.autostart !== undefined ? `autostart=${r.autostart ? 'yes' : 'no'}` : '',
  ].filter((p) => p !== '');
  return [r.service, r.argument, r.source, r.target, r.action, ...params].join(' ');
}

/** Where a rule is, for a note: `NAME.policy line N`. */
function where(r: QrexecRule): string {
  return `\`${r.origin.policyFile}.policy\` line ${r.origin.span.line}`;
}

/** QP6101, QP6102: rules that never decide, and stock rules another file's rule makes unreachable. */
function reportDead(p: NativePolicy, ctx: Reporter): void {
  const { rules } = p;
  const covering = coveringRules(rules, p.info, p.release, (t) => !isKeyword(t));
  const victims = new Map<number, number[]>();
  for (let j = 0; j < rules.length; j++) {
    const by = covering[j];
    if (by < 0) continue;
    const r = rules[j];
    const cover = rules[by];
    if (!r.origin.stock) {
      const same = cover.origin.policyFile === r.origin.policyFile;
      ctx.report(
        diag('QP6101', r.origin.span, { rule: nativeRuleText(r) }, {
          label: 'never decides',
          related: [{ span: cover.origin.span, message: `\`${nativeRuleText(cover)}\` ${same ? 'earlier in this file' : `in ${where(cover)}`} matches every request first` }],
          help: same ? 'remove the rule, or move it before the one that covers it' : `remove the rule, or move it to a file dom0 reads before \`${cover.origin.policyFile}.policy\``,
        }),
      );
    } else if (!cover.origin.stock) {
      const list = victims.get(by) ?? [];
      list.push(j);
      victims.set(by, list);
    }
  }
  for (const [by, list] of victims) {
    const cover = rules[by];
    const first = rules[list[0]];
    ctx.report(
      diag('QP6102', cover.origin.span, { kind: list.length === 1 ? 'one' : 'many', count: list.length, stock: nativeRuleText(first), file: `${first.origin.policyFile}.policy` }, {
        related: list.slice(0, 5).map((j) => ({ span: rules[j].origin.span, message: `\`${nativeRuleText(rules[j])}\` never applies` })),
        ...(list.length > 5 ? { notes: [`and ${list.length - 5} more stock rules`] } : {}),
        help: 'if that is intended, nothing is wrong; else narrow the rule',
      }),
    );
  }
}

const tagged = (d: DomainInfo | undefined, tag: string) => d !== undefined && d.tags.includes(tag);

/** `a`, `a and b`, `a, b and c`, `a, b, c, d and 3 more`. */
function listed(items: readonly string[]): string {
  const shown = items.length > 5 ? items.slice(0, 4) : items;
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/**
 * QP6103: the calls between a qube tagged `anon-vm` and a qube without the
 * tag that the policy allows or asks for, one finding per deciding rule,
 * service and direction, naming the qubes on each side.
 */
function reportChannels(p: NativePolicy, ctx: Reporter): void {
  const { info, rules } = p;
  const anon = new Set([...info.domains.values()].filter((d) => tagged(d, ANON_TAG)).map((d) => d.name));
  if (anon.size === 0) return;
  const isAdmin = (q: string) => info.domains.get(q)?.type === 'AdminVM';
  const gateway = (q: string) => GATEWAY_TAGS.some((t) => tagged(info.domains.get(q), t));
  const relevant = (s: string, t: string) => !isAdmin(s) && !isAdmin(t) && anon.has(s) !== anon.has(t);
  const exempt = (c: Channel, s: string, t: string) => WHONIX_SERVICES.test(c.service) && (gateway(s) || gateway(t));
  const found = findChannels({ rules, info, release: p.release, relevant, focus: (sources) => (sources.some((s) => anon.has(s)) ? undefined : anon) });
  /** Per deciding rule, service, action and kind of target: the qubes on each side, each way. */
  interface Group {
    readonly rule: number;
    readonly service: string;
    readonly action: 'allow' | 'ask';
    /** From `anon-vm` qubes (`out`) and into them (`in`): callers and callees (new disposables as `a new disposable of …`), as shown. */
    readonly out: { readonly sources: Set<string>; readonly targets: Set<string> };
    readonly in: { readonly sources: Set<string>; readonly targets: Set<string> };
  }
  const groups = new Map<string, Group>();
  for (const c of found) {
    for (const s of c.sources) {
      const targets = c.targets.filter((t) => !exempt(c, s, t));
      if (targets.length === 0) continue;
      const key = `${c.rule}|${c.service}|${c.action}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { rule: c.rule, service: c.service, action: c.action, out: { sources: new Set(), targets: new Set() }, in: { sources: new Set(), targets: new Set() } }));
      const way = anon.has(s) ? g.out : g.in;
      way.sources.add(`\`${s}\``);
      for (const t of targets) way.targets.add(c.disposable === true ? `a new disposable of \`${t}\`` : `\`${t}\``);
    }
  }
  const names = (xs: Iterable<string>) => listed([...xs].sort());
  for (const g of [...groups.values()].sort((a, b) => a.rule - b.rule || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))) {
    const r = rules[g.rule];
    const service = g.service === '*' ? '* (every service)' : g.service;
    const both = g.out.sources.size > 0 && g.in.sources.size > 0;
    const way = g.out.sources.size > 0 ? g.out : g.in;
    const args = both
      ? { kind: `${g.action}-both` as const, service, sources: names(new Set([...g.out.sources, ...g.in.targets])), targets: names(new Set([...g.out.targets, ...g.in.sources])) }
      : { kind: g.action, service, sources: names(way.sources), targets: names(way.targets) };
    const help = both
      ? `deny the service from \`@tag:${ANON_TAG}\` to the other qubes and from them to \`@tag:${ANON_TAG}\` before this rule`
      : way === g.out
        ? `deny the service from \`@tag:${ANON_TAG}\` to the other qubes before this rule`
        : `deny the service to \`@tag:${ANON_TAG}\` from the other qubes before this rule`;
    ctx.report(
      diag('QP6103', r.origin.span, args, {
        label: g.action === 'ask' ? 'asks' : 'allows',
        ...(r.origin.stock ? { notes: [`a stock rule of \`${r.origin.policyFile}.policy\` decides; a rule in a file dom0 reads before it can deny the call`] } : {}),
        help,
      }),
    );
  }
}

/** QP6104: grants of dangerous services in files that are not stock. */
function reportDanger(p: NativePolicy, ctx: Reporter): void {
  const anonSource = (tok: Token) => [...p.info.domains.values()].some((d) => tagged(d, ANON_TAG) && takesQube(tok, d, 'source'));
  for (const r of p.rules) {
    if (r.origin.stock || r.action === 'deny') continue;
    for (const d of dangerous) {
      if (r.service !== '*' && !d.pattern.test(r.service)) continue;
      const tokens = ruleTokens(r, p.release);
      const target = tokens.redirect ?? tokens.target;
      const disposable = target.kind === 'dispvm' || target.kind === 'dispvm-of' || target.kind === 'dispvm-tag';
      if (d.toDisposableOk && disposable) continue;
      if (d.torOnly && !anonSource(tokens.source)) continue;
      ctx.report(diag('QP6104', r.origin.span, { level: d.level, service: r.service === '*' ? '* (every service)' : r.service, why: d.why }, { label: r.action === 'ask' ? 'asks for it' : 'grants it' }));
      break;
    }
  }
}

export function analyseNative(policy: NativePolicy, ctx: Reporter): void {
  if (policy.infoInferred) {
    ctx.report(diag('QP6105', undefined, {}, { help: 'give `--system-info` a directory that `qpc snapshot` recorded, or the JSON of `internal.GetSystemInfo` that `qrexec-policy-graph --system-info` reads' }));
  }
  reportDead(policy, ctx);
  reportChannels(policy, ctx);
  reportDanger(policy, ctx);
}
