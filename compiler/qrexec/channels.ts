/**
 * Channel analysis: which qrexec calls the complete policy lets one qube make
 * to another (DESIGN §4.3). Not a brute force over every qube pair, service
 * and rule: qubes that no rule names and that share type, tags and default
 * disposable are interchangeable for qrexec, so each such class is evaluated
 * once; and for one service and one source class, a single pass over the
 * rules (indexed by service) decides every target class at once, in first-
 * match order. `@default` and `@dispvm` requests go through the evaluator.
 */
import { evaluateOrdered, type AskLister } from './evaluate.js';
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
  /**
   * The qubes that can be relevant targets for calls from any of these
   * interchangeable sources (a superset of every `t` with `relevant(s, t)`);
   * undefined: any qube. Lets the analysis skip what cannot matter.
   */
  readonly focus?: (sources: readonly string[]) => ReadonlySet<string> | undefined;
  /**
   * Qubes with the same key are interchangeable to the caller (`relevant`
   * treats them alike): a channel then lists one source and one target per
   * key instead of all of them. Undefined: every qube is its own key.
   */
  readonly key?: (qube: string) => string;
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

/** Classes a column token names: `all`, or a list (possibly empty). */
type ClassSet = 'all' | readonly number[];

const NONE: readonly number[] = [];

/**
 * Every allowed or asked call between relevant qubes, found class by class.
 *
 * For one service, argument and source class, the rules whose service,
 * argument and source match (found through an index by source token) are
 * read once, in order, to decide every target class; the same rules, read as
 * Qubes reads them for an ask dialog, give the class's ask list once. Only
 * the target classes in the source's focus (the qubes that can be relevant
 * to it) are looked at. `@default` and `@dispvm` requests go through the
 * evaluator over the same rules, with the ask list supplied.
 */
export function findChannels(q: ChannelQuery, extraServices: readonly string[] = []): Channel[] {
  const { rules, info } = q;
  const keyOf = q.key;
  const r42 = q.release === '4.2';
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
  for (const [service, args] of servicesOf(rules, extraServices)) {
    if (q.services && !q.services.has(service)) continue;
    const own = byService.get(service) ?? [];
    const merged = mergeSorted(own, wildcard);
    // Classes per service: a qube named only by rules of other services is
    // interchangeable with its peers here (one service's requests read only its rules).
    const classes = qubeClasses(merged.map((i) => rules[i]), info);
    const n = classes.length;
    const classOfName = new Map<string, number>();
    const byTag = new Map<string, number[]>();
    const byType = new Map<string, number[]>();
    const dispvmTemplates: number[] = [];
    classes.forEach((k, i) => {
      k.members.forEach((m) => classOfName.set(m, i));
      for (const tag of k.info.tags) byTag.set(tag, [...(byTag.get(tag) ?? []), i]);
      byType.set(k.info.type, [...(byType.get(k.info.type) ?? []), i]);
      if (k.info.templateForDispvms) dispvmTemplates.push(i);
    });
    /** The classes a source column, or a target column for a request naming a qube, matches. */
    const classesOf = (t: string): ClassSet => {
      if (t === '*' || t === '@anyvm') return 'all';
      if (!t.startsWith('@')) {
        const d = classOfName.get(t);
        return d === undefined ? NONE : [d];
      }
      if (t.startsWith('@tag:')) return byTag.get(t.slice(5)) ?? NONE;
      if (t.startsWith('@type:')) return byType.get(t.slice(6)) ?? NONE;
      return NONE;
    };
    const nonEmpty = (x: ClassSet) => x === 'all' ? n > 0 : x.length > 0;
    // No channel without an allow or ask rule whose source is one of the qubes.
    // (A rule that can only reach dom0 opens nothing: calls to dom0 are Qubes' own.)
    const toDom0 = (t: string) => t === 'dom0' || t === '@adminvm';
    if (!merged.some((i) => rules[i].action !== 'deny' && !toDom0(rules[i].redirect ?? rules[i].target) && nonEmpty(classesOf(rules[i].source)))) continue;

    // The rules whose source matches a class, by source token.
    const anySource: number[] = [];
    const bySourceName = new Map<string, number[]>();
    const bySourceTag = new Map<string, number[]>();
    const bySourceType = new Map<string, number[]>();
    const push = (m: Map<string, number[]>, k: string, i: number) => {
      const l = m.get(k);
      if (l) l.push(i);
      else m.set(k, [i]);
    };
    for (const i of merged) {
      const t = rules[i].source;
      if (t === '*' || t === '@anyvm') anySource.push(i);
      else if (!t.startsWith('@')) push(bySourceName, t, i);
      else if (t.startsWith('@tag:')) push(bySourceTag, t.slice(5), i);
      else if (t.startsWith('@type:')) push(bySourceType, t.slice(6), i);
      // Other tokens (`@adminvm`, `dom0`, `@dispvm…`) match no qube of a class.
    }
    const matching = (c: number): number[] => {
      const rep = classes[c].info;
      const lists = [anySource, bySourceName.get(rep.name), bySourceType.get(rep.type), ...rep.tags.map((tag) => bySourceTag.get(tag))].filter((l): l is number[] => l !== undefined && l.length > 0);
      if (lists.length === 1) return lists[0];
      return [...new Set(lists.flat())].sort((a, b) => a - b);
    };

    // Focus: the target classes that can matter to a source class.
    const focusOf = (c: number): readonly number[] | undefined => {
      const f = q.focus?.(classes[c].members);
      if (f === undefined) return undefined;
      const set = new Set<number>();
      for (const name of f) {
        const d = classOfName.get(name);
        if (d !== undefined) set.add(d);
      }
      return [...set].sort((a, b) => a - b);
    };

    // Arguments: `+` stands for every argument no rule names (or, when a rule names `+`
    // itself, ANY_ARGUMENT does); a named argument can only change what happens to
    // the source classes one of its own rules matches, so only those are evaluated.
    const runs: { argument: string; sources?: ReadonlySet<number> }[] = [{ argument: '+' }];
    if (args.includes('+') && merged.some((i) => rules[i].argument === '+')) runs.push({ argument: ANY_ARGUMENT });
    for (const a of args) {
      if (a === '+') continue;
      const set = new Set<number>();
      for (const i of merged) {
        if (rules[i].argument !== a) continue;
        const cs = classesOf(rules[i].source);
        if (cs === 'all') for (let c = 0; c < n; c++) set.add(c);
        else for (const c of cs) set.add(c);
      }
      runs.push({ argument: a, sources: set });
    }

    const decidedBy = new Int32Array(n);
    const inFocus = new Uint8Array(n);
    const listed = new Int8Array(n);
    const listedDisposable = new Int8Array(n);
    const matchCache = new Map<number, number[]>();
    const focusCache = new Map<number, readonly number[] | undefined>();
    for (const { argument, sources } of runs) {
      for (let c = 0; c < n; c++) {
        if (sources && !sources.has(c)) continue;
        let m = matchCache.get(c);
        if (!m) matchCache.set(c, (m = matching(c)));
        const order = m.filter((i) => argumentMatches(rules[i].argument, argument));
        if (order.length === 0) continue; // no rule matches: every request is denied
        if (!focusCache.has(c)) focusCache.set(c, focusOf(c));
        const focus = focusCache.get(c);
        if (focus !== undefined && focus.length === 0) continue;
        const members = classes[c].members;
        const rep = members[0];
        const src = classes[c].info;
        inFocus.fill(focus === undefined ? 1 : 0);
        if (focus !== undefined) for (const d of focus) inFocus[d] = 1;

        // Named requests: the first rule whose target column matches decides each target class.
        // Every class is decided, not only those in focus: a request to a qube that does not
        // matter can still open a dialog that lists one that does, or be redirected to it.
        decidedBy.fill(-1);
        let remaining = n;
        if (members.length < 2) {
          decidedBy[c] = -2; // the only member would be a loopback
          remaining--;
        }
        for (const i of order) {
          if (remaining === 0) break;
          const cs = classesOf(rules[i].target);
          if (cs === 'all') {
            for (let d = 0; d < n; d++) {
              if (decidedBy[d] === -1) {
                decidedBy[d] = i;
                remaining--;
              }
            }
          } else {
            for (const d of cs) {
              if (decidedBy[d] === -1) {
                decidedBy[d] = i;
                remaining--;
              }
            }
          }
        }

        // The ask list as Qubes builds it (collect_targets_for_ask), restricted to the focus:
        // the first rule (in file order) whose target (allow/ask: its `target=`) expands to a
        // qube decides whether the dialog lists it. Built on first use.
        let askList: string[] | undefined;
        let exact = false;
        const buildAskList = (): void => {
          listed.fill(0);
          listedDisposable.fill(0);
          let dispvm = 0;
          const mark = (arr: Int8Array, d: number, v: number) => {
            if (arr[d] === 0 && inFocus[d]) arr[d] = v;
          };
          for (const i of order) {
            const r = rules[i];
            const v = r.action === 'deny' ? 2 : 1;
            const tok = r.action !== 'deny' && r.redirect !== undefined ? r.redirect : r.target;
            if (tok === '*' || tok === '@anyvm') {
              const all = (d: number) => {
                mark(listed, d, v);
                if (classes[d].info.templateForDispvms) mark(listedDisposable, d, v);
              };
              if (focus === undefined) for (let d = 0; d < n; d++) all(d);
              else for (const d of focus) all(d);
              if (dispvm === 0) dispvm = v;
            } else if (tok === '@dispvm') {
              if (dispvm === 0) dispvm = v;
            } else if (tok.startsWith('@dispvm:@tag:')) {
              const tag = tok.slice(13);
              for (const d of dispvmTemplates) if (classes[d].info.tags.includes(tag)) mark(listedDisposable, d, v);
            } else if (tok.startsWith('@dispvm:')) {
              const name = tok.slice(8);
              if (name.startsWith('@')) continue;
              const dom = info.domains.get(name);
              if (dom === undefined) {
                exact = true; // Qubes fails on it (`DispVMTemplate.expand`): let the evaluator say how
                return;
              }
              const d = classOfName.get(name);
              if (d !== undefined && dom.templateForDispvms) mark(listedDisposable, d, v);
            } else if (tok.startsWith('@tag:') || tok.startsWith('@type:') || !tok.startsWith('@')) {
              const cs = classesOf(tok);
              if (cs !== 'all') for (const d of cs) mark(listed, d, v);
            }
            // `@adminvm`, `dom0` and `@default` list no qube of a class.
          }
          const list: string[] = [];
          // With interchangeable qubes (`key`), two of a key are enough: one stays when the
          // caller is the other. Not with `autostart=no`, which tells running qubes apart.
          const perKey = keyOf && !order.some((i) => rules[i].autostart === false) ? new Map<string, number>() : undefined;
          const take = (x: string): boolean => {
            if (!perKey) return true;
            const k = keyOf!(x);
            const seen = perKey.get(k) ?? 0;
            if (seen >= 2) return false;
            perKey.set(k, seen + 1);
            return true;
          };
          const visit = (d: number) => {
            if (listed[d] === 1) for (const x of classes[d].members) if (x !== rep && take(x)) list.push(x);
            if (listedDisposable[d] === 1) for (const x of classes[d].members) list.push(`@dispvm:${x}`);
          };
          if (focus === undefined) for (let d = 0; d < n; d++) visit(d);
          else for (const d of focus) visit(d);
          if (dispvm === 1 && src.defaultDispvm !== null) {
            // R4.3+ fails on a default_dispvm that names no qube: let the evaluator say how.
            if (!r42 && !info.domains.has(src.defaultDispvm)) {
              exact = true;
              return;
            }
            const dd = `@dispvm:${src.defaultDispvm}`;
            if (!list.includes(dd)) list.push(dd);
          }
          // Sorted once here; the evaluator's own sort of each copy then finds it in order.
          askList = list.sort();
        };
        const lister: AskLister = (rule) => {
          // R4.2 denies an ask whose default target is not offered: that needs the whole list.
          if (r42 && rule.defaultTarget !== undefined) return undefined;
          if (askList === undefined && !exact) buildAskList();
          return exact ? undefined : [...askList!];
        };
        const evaluate = (target: string) => evaluateOrdered(rules, order, info, { service, argument, source: rep, target }, q.release, lister);

        /** Emits, per source member, the listed targets it may reach; members with equal lists share a channel. */
        const emit = (listedTargets: readonly string[], requested: string, action: 'allow' | 'ask', rule: number, disposable: boolean) => {
          // The list was computed for the representative, which qrexec leaves out of its own
          // list; the other members are interchangeable with it, so they list it too.
          const withRep = !disposable && listedTargets.some((t) => t !== rep && classOfName.get(t) === c) ? [...listedTargets, rep] : listedTargets;
          const groups = new Map<string, { sources: string[]; targets: string[] }>();
          const seenSources = keyOf ? new Set<string>() : undefined;
          for (const mem of members) {
            if (seenSources) {
              const k = keyOf!(mem);
              if (seenSources.has(k)) continue;
              seenSources.add(k);
            }
            let targets: string[];
            if (keyOf) {
              const seen = new Set<string>();
              targets = [];
              for (const t of withRep) {
                if (t === mem) continue;
                const k = keyOf(t);
                if (seen.has(k) || !q.relevant(mem, t)) continue;
                seen.add(k);
                targets.push(t);
              }
            } else targets = withRep.filter((t) => t !== mem && q.relevant(mem, t));
            if (targets.length === 0) continue;
            const key = targets.join(' ');
            const g = groups.get(key);
            if (g) g.sources.push(mem);
            else groups.set(key, { sources: [mem], targets });
          }
          for (const g of groups.values()) out.push({ service, argument, sources: g.sources, targets: g.targets, requested, action, rule, ...(disposable ? { disposable: true } : {}) });
        };
        const split = (targets: readonly string[]) => ({
          named: targets.filter((t) => !t.startsWith('@') && info.domains.has(t)),
          disposables: targets.filter((t) => t.startsWith('@dispvm:') && info.domains.get(t.slice(8))?.templateForDispvms === true).map((t) => t.slice(8)),
        });
        /** Rules whose outcome does not depend on the requested qube (a dialog, a redirect), done once per source class. */
        const once = new Set<number>();
        for (let d = 0; d < n; d++) {
          const i = decidedBy[d];
          if (i < 0) continue;
          const r = rules[i];
          if (r.action === 'deny') continue;
          // A plain allow reaches the requested qube only: nothing to see outside the focus.
          if (r.action === 'allow' && r.redirect === undefined && !inFocus[d]) continue;
          const requested = d === c ? members[1] : classes[d].members[0];
          if (r.action === 'ask') {
            // The dialog offers more than the requested qube; its list depends only on the
            // rule, so each rule's dialog is counted once per source class.
            if (once.has(i)) continue;
            once.add(i);
            const decision = evaluate(requested);
            const lists = decision.action === 'ask' ? split(decision.targets ?? []) : { named: [], disposables: [] };
            if (lists.named.length) emit(lists.named, requested, 'ask', i, false);
            if (lists.disposables.length) emit(lists.disposables, requested, 'ask', i, true);
            continue;
          }
          if (r.redirect !== undefined) {
            if (once.has(i)) continue;
            once.add(i);
          }
          const resolved = resolveAllow(r, requested, src, info);
          if (resolved === undefined) continue;
          if (resolved.disposable) emit([resolved.name], requested, 'allow', i, true);
          else emit(r.redirect === undefined ? classes[d].members : [resolved.name], requested, 'allow', i, false);
        }
        // Requests that name no qube go through the evaluator (ask lists, disposables).
        for (const requested of ['@default', '@dispvm']) {
          const decision = evaluate(requested);
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
