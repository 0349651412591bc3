/**
 * Channel analysis: which qrexec calls the complete policy lets one qube make
 * to another (DESIGN §4.3). Not a brute force over every qube pair, service
 * and rule: qubes that no rule names and that share type, tags and default
 * disposable are interchangeable for qrexec, so each such class is evaluated
 * once; and for one service and one source class, a single pass over the
 * rules (indexed by service) decides every target class at once, in first-
 * match order. `@default` and `@dispvm` requests go through the evaluator.
 */
import { evaluateIndexed, indexRules } from './evaluate.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from './types.js';

/**
 * Calls the policy allows or asks for: every qube of `sources` may make them
 * to every qube of `targets` (one entry per pair of interchangeable classes).
 */
export interface Channel {
  readonly service: string;
  /** `+ARG` of a request that shows the channel (`+` for none; ANY_ARGUMENT for an argument no rule names). */
  readonly argument: string;
  readonly sources: readonly string[];
  /** The qubes the call reaches (a redirect or a disposable's template resolved). */
  readonly targets: readonly string[];
  /** What the caller asked for: a target's name, `@default` or `@dispvm`. */
  readonly requested: string;
  readonly action: 'allow' | 'ask';
  /** Index of the deciding rule. */
  readonly rule: number;
  /** True when the targets are new disposables of these disposable templates. */
  readonly disposable?: boolean;
}

export interface ChannelQuery {
  readonly rules: readonly QrexecRule[];
  readonly info: SystemInfo;
  readonly release: QubesRelease;
  /** Whether calls between these two qubes matter (both are real, non-dom0 names). */
  readonly relevant: (source: string, target: string) => boolean;
  /** Analyse only these services (default: every service the rules name, and any other). */
  readonly services?: ReadonlySet<string>;
}

/** An argument no rule names; stands for all of them when `+` (the empty argument) is named. */
export const ANY_ARGUMENT = '+qpc-any-argument';

/** A service name that no rule names: stands for every such service (only `*` rules match it). */
export const OTHER_SERVICE = 'qpc.AnyOtherService';

interface Klass {
  readonly members: readonly string[];
  readonly info: DomainInfo;
}

/** Names that rules single out: plain names in any column, and `@dispvm:NAME`. */
function namedQubes(rules: readonly QrexecRule[]): Set<string> {
  const named = new Set<string>();
  const add = (t: string | undefined) => {
    if (t === undefined || t === '*') return;
    if (!t.startsWith('@')) named.add(t);
    else if (t.startsWith('@dispvm:') && !t.startsWith('@dispvm:@')) named.add(t.slice(8));
  };
  for (const r of rules) {
    add(r.source);
    add(r.target);
    add(r.redirect);
    add(r.defaultTarget);
  }
  return named;
}

/** Interchangeable qubes: same type, tags and default disposable, and named by no rule. */
export function qubeClasses(rules: readonly QrexecRule[], info: SystemInfo): Klass[] {
  const named = namedQubes(rules);
  const byKey = new Map<string, { members: string[]; info: DomainInfo }>();
  for (const d of [...info.domains.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (d.type === 'AdminVM') continue; // dom0's calls bypass the policy; calls to it are Qubes' own
    const key = named.has(d.name) ? `=${d.name}` : `${d.type}|${d.tags.join(',')}|${d.defaultDispvm ?? ''}|${d.templateForDispvms}`;
    const k = byKey.get(key);
    if (k) k.members.push(d.name);
    else byKey.set(key, { members: [d.name], info: d });
  }
  return [...byKey.values()];
}

/**
 * Whether a source or target column names a qube (not the request tokens
 * `@default`/`@dispvm…`, which never name one). `@anyvm` excludes dom0; `*`
 * includes it.
 */
export function columnMatches(token: string, d: DomainInfo): boolean {
  if (token === '*') return true;
  if (token === '@anyvm') return d.type !== 'AdminVM';
  if (token === '@adminvm' || token === 'dom0') return d.type === 'AdminVM';
  if (token.startsWith('@tag:')) return d.tags.includes(token.slice(5));
  if (token.startsWith('@type:')) return d.type === token.slice(6);
  return !token.startsWith('@') && token === d.name;
}

function argumentMatches(rule: string, arg: string): boolean {
  return rule === '*' || rule === arg;
}

/** Services to analyse, each with the arguments rules distinguish. */
function servicesOf(rules: readonly QrexecRule[], extra: readonly string[]): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  const add = (s: string, a?: string) => {
    let set = out.get(s);
    if (!set) out.set(s, (set = new Set(['+'])));
    if (a !== undefined && a !== '*') set.add(a);
  };
  for (const s of extra) add(s);
  add(OTHER_SERVICE);
  for (const r of rules) if (r.service !== '*') add(r.service, r.argument);
  // `*`-service rules with an argument cannot exist (qrexec refuses them).
  return new Map([...out].map(([s, a]) => [s, [...a].sort()]));
}

/** Every allowed or asked call between relevant qubes, found class by class. */
export function findChannels(q: ChannelQuery, extraServices: readonly string[] = []): Channel[] {
  const { rules, info } = q;
  const byService = new Map<string, number[]>();
  const wildcard: number[] = [];
  rules.forEach((r, i) => {
    if (r.service === '*') wildcard.push(i);
    else {
      const l = byService.get(r.service) ?? [];
      l.push(i);
      byService.set(r.service, l);
    }
  });
  const out: Channel[] = [];
  const index = indexRules(rules);
  const evaluate = (request: { service: string; argument: string; source: string; target: string }) => evaluateIndexed(index, info, request, q.release);
  for (const [service, args] of servicesOf(rules, extraServices)) {
    if (q.services && !q.services.has(service)) continue;
    const own = byService.get(service) ?? [];
    const merged = mergeSorted(own, wildcard);
    // Classes per service: a qube named only by rules of other services is
    // interchangeable with its peers here (one service's requests read only its rules).
    const classes = qubeClasses(merged.map((i) => rules[i]), info);
    const classOfName = new Map<string, number>();
    const byTag = new Map<string, number[]>();
    const byType = new Map<string, number[]>();
    classes.forEach((k, i) => {
      k.members.forEach((m) => classOfName.set(m, i));
      for (const tag of k.info.tags) byTag.set(tag, [...(byTag.get(tag) ?? []), i]);
      byType.set(k.info.type, [...(byType.get(k.info.type) ?? []), i]);
    });
    const decidedBy = new Int32Array(classes.length);
    // No channel without an allow or ask rule whose source is one of the qubes.
    // (A rule that can only reach dom0 opens nothing: calls to dom0 are Qubes' own.)
    const toDom0 = (t: string) => t === 'dom0' || t === '@adminvm';
    const opens = merged.some((i) => rules[i].action !== 'deny' && !toDom0(rules[i].redirect ?? rules[i].target) && classes.some((k) => columnMatches(rules[i].source, k.info)));
    if (!opens) continue;
    // Arguments: `+` stands for every argument no rule names (or, when a rule names `+`
    // itself, ANY_ARGUMENT does); a named argument can only change what happens to
    // the source classes one of its own rules matches, so only those are evaluated.
    const runs: { argument: string; sources: (c: number) => boolean }[] = [{ argument: '+', sources: () => true }];
    if (args.includes('+') && merged.some((i) => rules[i].argument === '+')) runs.push({ argument: ANY_ARGUMENT, sources: () => true });
    for (const a of args) {
      if (a === '+') continue;
      const own = merged.filter((i) => rules[i].argument === a);
      runs.push({ argument: a, sources: (c) => own.some((i) => columnMatches(rules[i].source, classes[c].info)) });
    }
    for (const { argument, sources } of runs) {
      const candidates = merged.filter((i) => argumentMatches(rules[i].argument, argument));
      for (let c = 0; c < classes.length; c++) {
        if (!sources(c)) continue;
        const src = classes[c].info;
        decidedBy.fill(-1);
        let remaining = classes.length - (classes[c].members.length < 2 ? 1 : 0);
        if (classes[c].members.length < 2) decidedBy[c] = -2; // the only member would be a loopback
        for (const i of candidates) {
          if (remaining === 0) break;
          const r = rules[i];
          if (!columnMatches(r.source, src)) continue;
          // The target column decides a known set of classes: one by name, those of a tag or type, or all.
          const t = r.target;
          const decide = (d: number) => {
            if (decidedBy[d] === -1) {
              decidedBy[d] = i;
              remaining--;
            }
          };
          if (t === '*' || t === '@anyvm') for (let d = 0; d < classes.length; d++) decide(d);
          else if (!t.startsWith('@')) {
            const d = classOfName.get(t);
            if (d !== undefined) decide(d);
          } else if (t.startsWith('@tag:')) for (const d of byTag.get(t.slice(5)) ?? []) decide(d);
          else if (t.startsWith('@type:')) for (const d of byType.get(t.slice(6)) ?? []) decide(d);
        }
        const members = classes[c].members;
        const rep = members[0];
        /** Emits, per source member, the listed targets it may reach; members with equal lists share a channel. */
        const emit = (listed: readonly string[], requested: string, action: 'allow' | 'ask', rule: number, disposable: boolean) => {
          // The list was computed for the representative, which qrexec leaves out of its own
          // list; the other members are interchangeable with it, so they list it too.
          const withRep = !disposable && listed.some((t) => t !== rep && classOfName.get(t) === c) ? [...listed, rep] : listed;
          const groups = new Map<string, { sources: string[]; targets: string[] }>();
          for (const m of members) {
            const targets = withRep.filter((t) => t !== m && q.relevant(m, t));
            if (targets.length === 0) continue;
            const key = targets.join(' ');
            const g = groups.get(key);
            if (g) g.sources.push(m);
            else groups.set(key, { sources: [m], targets });
          }
          for (const g of groups.values()) out.push({ service, argument, sources: g.sources, targets: g.targets, requested, action, rule, ...(disposable ? { disposable: true } : {}) });
        };
        const askCache = new Map<number, { named: string[]; disposables: string[] }>();
        const split = (listed: readonly string[]) => ({
          named: listed.filter((t) => !t.startsWith('@') && info.domains.has(t)),
          disposables: listed.filter((t) => t.startsWith('@dispvm:') && info.domains.get(t.slice(8))?.templateForDispvms === true).map((t) => t.slice(8)),
        });
        for (let d = 0; d < classes.length; d++) {
          const i = decidedBy[d];
          if (i < 0) continue;
          const r = rules[i];
          if (r.action === 'deny') continue;
          const requested = d === c ? members[1] : classes[d].members[0];
          if (r.action === 'ask') {
            // The dialog offers more than the requested qube: ask the evaluator once per rule.
            // The list depends only on the rule, so each rule's dialog is counted once per source class.
            if (askCache.has(i)) continue;
            const decision = evaluate({ service, argument, source: rep, target: requested });
            const lists = decision.action === 'ask' ? split(decision.targets ?? []) : { named: [], disposables: [] };
            askCache.set(i, lists);
            if (lists.named.length) emit(lists.named, requested, 'ask', i, false);
            if (lists.disposables.length) emit(lists.disposables, requested, 'ask', i, true);
            continue;
          }
          const resolved = resolveAllow(r, requested, src, info);
          if (resolved === undefined) continue;
          if (resolved.disposable) emit([resolved.name], requested, 'allow', i, true);
          else emit(r.redirect === undefined ? classes[d].members : [resolved.name], requested, 'allow', i, false);
        }
        // Requests that name no qube go through the evaluator (ask lists, disposables).
        for (const requested of ['@default', '@dispvm']) {
          const decision = evaluate({ service, argument, source: rep, target: requested });
          if (decision.action === 'deny' || decision.rule === undefined) continue;
          const lists = split(decision.action === 'ask' ? (decision.targets ?? []) : decision.target !== undefined ? [decision.target] : []);
          if (lists.named.length) emit(lists.named, requested, decision.action, decision.rule, false);
          if (lists.disposables.length) emit(lists.disposables, requested, decision.action, decision.rule, true);
        }
      }
    }
  }
  return out;
}

/**
 * Where a matched `allow` sends a named request (evaluate.ts has the same
 * rules): its redirect or the requested qube; `@dispvm` through the caller's
 * default disposable template; `@dispvm:Q` only for a disposable template;
 * none for dom0 or when `autostart=no` meets a halted qube.
 */
function resolveAllow(r: QrexecRule, requested: string, src: DomainInfo, info: SystemInfo): { name: string; disposable: boolean } | undefined {
  const t = r.redirect ?? requested;
  if (t === 'dom0' || t === '@adminvm') return undefined;
  if (t === '@dispvm' || t.startsWith('@dispvm:')) {
    const name = t === '@dispvm' ? src.defaultDispvm : t.slice(8);
    if (!name || !info.domains.has(name)) return undefined;
    // qubesd cannot start a disposable of a qube that is no disposable template: no call happens.
    if (info.domains.get(name)!.templateForDispvms !== true) return undefined;
    if (r.autostart === false) return undefined; // a new disposable is never running
    return { name, disposable: true };
  }
  const d = info.domains.get(t);
  if (!d) return undefined;
  if (r.autostart === false && d.running !== true) return undefined;
  return { name: t, disposable: false };
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
