/**
 * The channels of the complete policy (DESIGN §4.3, §4.5): every call that
 * crosses between a Tor identity and another identity or the rest of the
 * system (QP3030, QP3031 for a new disposable), and every `require` a
 * channel or a shared gateway or disposable template breaks (QP3036).
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { QubeFacts } from '../graph/policy-graph.js';
import { substitute } from '../whonix.js';
import type { Span } from '../source.js';
import { findChannels, type Channel } from './channels.js';
import type { ClosedPolicy } from './close-identities.js';
import { disposableTemplateOf, dispvmOf, isKeyword } from './token.js';
import { ruleText, ruleWhere } from './query.js';
import type { QrexecRule } from './types.js';
import { exempt, exemptPair, name, sideOf, subjectOf, torRelevant, who, WHONIX_SERVICES, type Context } from './identities.js';

/**
 * The calls of the complete policy between a Tor identity and anything
 * outside it, and between the two sides of each `require`, one channel per
 * pair of sides ({@link Context.key}).
 */
export function policyChannels(closed: ClosedPolicy): Channel[] {
  const { cx, policy } = closed;
  return findChannels({ rules: policy.rules, info: cx.world.info, release: policy.release, relevant: (s, t) => torRelevant(cx, s, t) || cx.inRequire(s, t), focus: cx.focus(true), key: cx.key });
}

/** `a`, `a and b`, `a, b and c`, `a, b, c, d and 3 more`. */
function listed(items: readonly string[]): string {
  const shown = items.length > 5 ? items.slice(0, 4) : items;
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** 1 when a channel is decided by a rule the user did not write (a stock or a generated one), else 0. */
function theirs(rules: readonly QrexecRule[], c: Channel): number {
  return Number(rules[c.rule].origin.stock || rules[c.rule].origin.generated !== undefined);
}

function reportChannels(cx: Context, rules: readonly QrexecRule[], channels: readonly Channel[], ctx: Reporter): void {
  const seen = new Set<string>();
  // Named requests first: an ask list for `@default` repeats the targets that
  // rules for named requests put there, and those rules are the ones to blame.
  // Then grants before dialogs: a dialog can list a qube that an allow of its own reaches, and the allow is the one to report.
  const ordered = [...channels].sort((a, b) => theirs(rules, a) - theirs(rules, b) || Number(a.action === 'ask') - Number(b.action === 'ask') || Number(isKeyword(a.requested)) - Number(isKeyword(b.requested)));
  // One finding per asking rule and caller: the targets its dialogs offer outside the identity, together.
  const dialogs = new Map<string, { c: Channel; s: string; targets: string[] }>();
  const out: { c: Channel; s: string; targets: string[] }[] = [];
  for (const c of ordered) {
    if (exempt(cx, c)) continue;
    // Of interchangeable callers, one whose call is a channel (a gateway's call to its own workstation is not).
    const whonix = WHONIX_SERVICES.test(c.service);
    const s = whonix ? c.sources.find((x) => c.targets.some((t) => !exemptPair(cx, x, t)))! : c.sources[0];
    const dispvm = c.disposable === true && c.action === 'allow' && cx.isTorIdentity(cx.identityOf(s));
    // Each side a call reaches is reported once per service and caller's side; an ask names one qube of each.
    const fresh: string[] = [];
    for (const t of c.action === 'ask' && !dispvm ? c.targets : c.targets.slice(0, 1)) {
      if (!torRelevant(cx, s, t) || (whonix && exemptPair(cx, s, t))) continue;
      const pair = `${c.service}|${sideOf(cx, s)}|${sideOf(cx, t)}|${c.disposable ? 'd' : ''}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
      fresh.push(t);
    }
    if (fresh.length === 0) continue;
    if (c.action === 'ask' && !dispvm) {
      const key = `${c.service}|${sideOf(cx, s)}|${c.rule}`;
      const g = dialogs.get(key);
      if (g) {
        g.targets.push(...fresh);
        continue;
      }
      const entry = { c, s, targets: fresh };
      dialogs.set(key, entry);
      out.push(entry);
    } else out.push({ c, s, targets: fresh });
  }
  const reported = new Set<string>();
  for (const { c, s, targets } of out) {
    const r = rules[c.rule];
    const t = targets[0];
    const ours = !r.origin.stock && !r.origin.generated;
    const torId = cx.isTorIdentity(cx.identityOf(s)) ? cx.identityOf(s)! : cx.identityOf(t)!;
    const at: Span = ours ? r.origin.span : cx.program.decls.get(torId)!.node.name.span;
    const related = ours ? [] : [{ span: r.origin.span, message: `decided by \`${ruleText(r)}\` in ${ruleWhere(r)}` }];
    const dispvm = c.disposable === true && c.action === 'allow' && cx.isTorIdentity(cx.identityOf(s));
    const d = dispvm
      ? diag(
          'QP3031',
          at,
          {
            requested: cx.world.standIns.has(disposableTemplateOf(c.requested) ?? '') ? dispvmOf('…') : c.requested,
            source: name(cx, s),
            identity: cx.identityOf(s)!,
            target: name(cx, t),
            ...(cx.identityOf(t) !== undefined ? { kind: 'other-identity' as const, other: cx.identityOf(t)! } : { kind: 'no-identity' as const }),
          },
          { related, subject: subjectOf(cx, s, t) },
        )
      : diag('QP3030', at, { kind: c.action, service: c.service, source: who(cx, s), target: listed([...new Set(targets.map((x) => who(cx, x)))]) }, {
          related,
          help: ours ? 'remove the rule, or say why the channel is wanted with `because "…"`' : 'this channel comes from a rule qpc did not write; a rule of yours before it can deny it',
          subject: subjectOf(cx, s, t),
        });
    // Two channels can read the same (a named request and the dialog it opens): said once.
    const text = `${d.code}|${d.span?.file}:${d.span?.start}|${d.message}`;
    if (reported.has(text)) continue;
    reported.add(text);
    // A `because` on the rule is weighed with the other waivers (QP3030 and QP3031 need `--allow-waived`).
    ctx.report(ours && r.origin.because !== undefined ? { ...d, because: r.origin.because } : d);
  }
}

function reportRequires(cx: Context, rules: readonly QrexecRule[], channels: readonly Channel[], ctx: Reporter): void {
  if (cx.program.requires.length === 0) return;
  // A qube is on the side of its own name and of its identity's: each (channel, source) is
  // listed under both, in channel order, so a requirement reads only the channels of its sides.
  const bySide = new Map<string, { c: number; s: number }[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  const sidesOf = (qube: string): string[] => {
    const id = cx.identityOf(qube);
    return id === undefined || id === qube ? [qube] : [qube, id];
  };
  channels.forEach((c, ci) => c.sources.forEach((src, si) => sidesOf(src).forEach((k) => push(bySide, k, { c: ci, s: si }))));
  // Shared gateways (other than Tor) and default disposables per side, in the order of the qubes,
  // each with the qube that has it and where that qube gets it.
  type Link = { readonly shared: string; readonly facts: QubeFacts };
  let shared: { hops: Map<string, Link[]>; disposables: Map<string, Link[]> } | undefined;
  const sharedBySide = () => {
    if (shared) return shared;
    shared = { hops: new Map(), disposables: new Map() };
    for (const f of cx.graph.allFacts()) {
      for (const k of sidesOf(f.decl.name)) {
        if (f.netvm !== null && !cx.graph.isTor(f.netvm)) push(shared.hops, k, { shared: f.netvm, facts: f });
        if (f.defaultDisposable) push(shared.disposables, k, { shared: f.defaultDisposable, facts: f });
      }
    }
    return shared;
  };
  // The channel a finding names: one a rule of the user's opens (that rule is the mistake), a
  // grant before a dialog, a named request before `@default` and `@dispvm`; else the first.
  const weight = (c: Channel) => 4 * theirs(rules, c) + 2 * Number(c.action === 'ask') + Number(isKeyword(c.requested));
  const none: readonly { c: number; s: number }[] = [];
  for (const q of cx.program.requires) {
    const a = substitute(q.subject.text, cx.program.settings.whonix);
    const b = substitute(q.object.text, cx.program.settings.whonix);
    const inSide = (side: string, qube: string) => qube === side || cx.identityOf(qube) === side;
    const both = q.relation === 'isolated-from';
    let found: { c: Channel; s: string; t: string } | undefined;
    // The (channel, source) pairs on either side, in channel and source order.
    const fromA = bySide.get(a) ?? none;
    const fromB = both && b !== a ? (bySide.get(b) ?? none) : none;
    for (let x = 0, y = 0; (!found || weight(found.c) > 0) && (x < fromA.length || y < fromB.length); ) {
      const useA = y >= fromB.length || (x < fromA.length && (fromA[x].c < fromB[y].c || (fromA[x].c === fromB[y].c && fromA[x].s <= fromB[y].s)));
      const e = useA ? fromA[x++] : fromB[y++];
      const c = channels[e.c];
      if (found && weight(c) >= weight(found.c)) continue;
      const src = c.sources[e.s];
      const other = inSide(a, src) ? b : a;
      const t = c.targets.find((x) => inSide(other, x));
      if (t !== undefined) found = { c, s: src, t };
    }
    const requirement = `${a} ${q.relation} ${b}`;
    const required = { span: q.span, message: `\`require ${requirement}\` is declared here` };
    if (found) {
      const { c, s, t } = found;
      const r = rules[c.rule];
      const ours = theirs(rules, c) === 0;
      const kind = c.disposable ? (c.action === 'allow' ? 'allow-disposable' : 'ask-disposable') : c.action;
      // A rule of the user's that opens the channel is where to fix it; else the requirement, with the rule that decides as a note.
      const extras = ours
        ? { label: 'opens the channel', related: [required], subject: a }
        : { label: 'does not hold', related: [{ span: r.origin.span, message: `decided by \`${ruleText(r)}\` in ${ruleWhere(r)}` }], subject: a };
      ctx.report(diag('QP3036', ours ? r.origin.span : q.span, { kind, requirement, service: c.service, source: name(cx, s), target: name(cx, t) }, extras));
      continue;
    }
    if (both) {
      const { hops, disposables } = sharedBySide();
      /** The first link of side a whose gateway or template a qube of side b (another qube) shares, with that one. */
      const common = (links: Map<string, Link[]>): [Link, Link] | undefined => {
        const ofB = new Map<string, Link[]>();
        for (const l of links.get(b) ?? []) push(ofB, l.shared, l);
        for (const x of links.get(a) ?? []) {
          const y = ofB.get(x.shared)?.find((l) => l.facts !== x.facts);
          if (y) return [x, y];
        }
        return undefined;
      };
      const gw = common(hops);
      const dv = gw ? undefined : common(disposables);
      const pair = gw ?? dv;
      if (pair) {
        const [x, y] = pair;
        const at = (l: Link) =>
          gw
            ? { span: l.facts.netvmOrigin, message: `\`${l.facts.decl.name}\` has the netvm \`${l.shared}\`${l.facts.netvmExplicit ? '' : ', from its identity'}` }
            : { span: l.facts.defaultDisposableOrigin ?? l.facts.decl.node.name.span, message: `\`${l.facts.decl.name}\` starts its disposables from \`${l.shared}\`` };
        const args = { requirement, first: a, second: b, shared: x.shared, firstQube: x.facts.decl.name, secondQube: y.facts.decl.name };
        ctx.report(diag('QP3036', q.span, gw ? { kind: 'shared-gateway', ...args } : { kind: 'shared-disposable', ...args }, { label: 'does not hold', related: [at(x), at(y)], subject: a }));
      }
    }
  }
}

/** QP3030, QP3031: the channels that cross a Tor identity's side. */
export function checkChannels(closed: ClosedPolicy, channels: readonly Channel[], ctx: Reporter): void {
  const { cx, policy } = closed;
  reportChannels(cx, policy.rules, channels.filter((c) => c.targets.some((t) => torRelevant(cx, c.sources[0], t))), ctx);
}

/** QP3036: the `require`s a channel, a shared gateway or a shared disposable template breaks. */
export function checkRequires(closed: ClosedPolicy, channels: readonly Channel[], ctx: Reporter): void {
  reportRequires(closed.cx, closed.policy.rules, channels, ctx);
}
