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
  /** Called with each channel as it is found. */
  readonly onChannel?: (c: Channel) => void;
  /**
   * Whether the caller has learnt all it needs about a service: the rest of
   * its requests are skipped (the result then lacks their channels).
   */
  readonly enough?: (service: string) => boolean;
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

/**
 * What a rule's target does to an ask list (`collect_targets_for_ask`): every
 * qube and disposable template, the caller's `@dispvm`, disposables of some
 * disposable templates, some qubes; or Qubes fails on it.
 */
type Listing =
  | { readonly kind: 'all' }
  | { readonly kind: 'dispvm' }
  | { readonly kind: 'disposables'; readonly classes: readonly number[] }
  | { readonly kind: 'qubes'; readonly classes: readonly number[] }
  | { readonly kind: 'fails' };

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
  const keyed = q.key ? keyedRelevance(q.key, q.relevant, info) : undefined;
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

    // Each rule of the service read once: the classes its target column names (for requests
    // naming a qube), what its target (`target=` for allow/ask) adds to or removes from ask
    // lists, and whether it can match a `@default` or a `@dispvm` request at all.
    const targetOf = new Map<number, ClassSet>();
    const listing = new Map<number, Listing>();
    const scansDefault = new Set<number>();
    const scansDispvm = new Set<number>();
    for (const i of merged) {
      const r = rules[i];
      targetOf.set(i, classesOf(r.target));
      const t = r.target;
      if (t === '*' || t === '@anyvm' || t === '@default') scansDefault.add(i);
      if (t === '*' || t === '@anyvm' || t === '@dispvm' || t.startsWith('@dispvm:')) scansDispvm.add(i);
      const tok = r.action !== 'deny' && r.redirect !== undefined ? r.redirect : r.target;
      let l: Listing;
      if (tok === '*' || tok === '@anyvm') l = { kind: 'all' };
      else if (tok === '@dispvm') l = { kind: 'dispvm' };
      else if (tok.startsWith('@dispvm:@tag:')) {
        const tag = tok.slice(13);
        l = { kind: 'disposables', classes: dispvmTemplates.filter((d) => classes[d].info.tags.includes(tag)) };
      } else if (tok.startsWith('@dispvm:')) {
        const name = tok.slice(8);
        const dom = name.startsWith('@') ? undefined : info.domains.get(name);
        const d = classOfName.get(name);
        // Qubes fails on a `@dispvm:Q` naming no qube (`DispVMTemplate.expand`): the evaluator says how.
        if (!name.startsWith('@') && dom === undefined) l = { kind: 'fails' };
        else l = { kind: 'disposables', classes: dom?.templateForDispvms && d !== undefined ? [d] : NONE };
      } else if (tok.startsWith('@tag:') || tok.startsWith('@type:') || !tok.startsWith('@')) {
        const cs = classesOf(tok);
        l = { kind: 'qubes', classes: cs === 'all' ? NONE : cs };
      } else l = { kind: 'qubes', classes: NONE }; // `@adminvm`, `dom0` and `@default` list no qube of a class
      listing.set(i, l);
    }

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
    // A rule is in one bucket (its source token), so the buckets of a class are disjoint and
    // ascending: merged, they are its rules in file order. Classes without rules of their own
    // (same type and tags) share the result.
    const matchingByBuckets = new Map<string, number[]>();
    const matching = (c: number): number[] => {
      const rep = classes[c].info;
      const own = bySourceName.get(rep.name);
      const signature = `${own ? rep.name : ''}|${rep.type}|${rep.tags.join(',')}`;
      const known = matchingByBuckets.get(signature);
      if (known) return known;
      const lists = [anySource, own, bySourceType.get(rep.type), ...rep.tags.map((tag) => bySourceTag.get(tag))].filter((l): l is number[] => l !== undefined && l.length > 0);
      let merged: number[] = lists.length === 0 ? [] : lists[0];
      for (let k = 1; k < lists.length; k++) merged = mergeSorted(merged, lists[k]);
      matchingByBuckets.set(signature, merged);
      return merged;
    };

    // Focus: the target classes that can matter to a source class.
    // The same set of names (a focus is usually shared by many sources) maps to the same classes.
    const focusClasses = new Map<ReadonlySet<string>, readonly number[]>();
    const focusOf = (c: number): readonly number[] | undefined => {
      const f = q.focus?.(classes[c].members);
      if (f === undefined) return undefined;
      let list = focusClasses.get(f);
      if (!list) {
        const set = new Set<number>();
        for (const name of f) {
          const d = classOfName.get(name);
          if (d !== undefined) set.add(d);
        }
        focusClasses.set(f, (list = [...set].sort((a, b) => a - b)));
      }
      return list;
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
    const covered = new Uint8Array(n);
    const inFocus = new Uint8Array(n);
    const listed = new Int8Array(n);
    const listedDisposable = new Int8Array(n);
    const matchCache = new Map<number, number[]>();
    const focusCache = new Map<number, readonly number[] | undefined>();
    runs: for (const { argument, sources } of runs) {
      for (let c = 0; c < n; c++) {
        if (q.enough?.(service)) break runs;
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
        // A named argument's run differs from the run of arguments no rule names (`+`, or
        // ANY_ARGUMENT when rules name `+`) only by the argument's own rules. When those only
        // deny, or allow named qubes outside the focus, everything they add cannot matter:
        // they decide no request in focus, no `@default`/`@dispvm` request, list nothing in focus.
        if (sources && focus !== undefined) {
          const own = order.filter((i) => rules[i].argument === argument);
          const harmless = own.every((i) => {
            const r = rules[i];
            if (r.action === 'deny') return true;
            if (r.action !== 'allow' || r.redirect !== undefined) return false;
            const t = r.target;
            if (t === '*' || (t.startsWith('@') && !t.startsWith('@tag:') && !t.startsWith('@type:'))) return false;
            const cs = targetOf.get(i)!;
            return cs !== 'all' && cs.every((d) => !inFocus[d]);
          });
          if (harmless) continue;
        }

        // Named requests: the first rule whose target column matches decides each target class.
        // Classes in focus are decided one by one. Elsewhere only one thing matters: whether
        // a dialog or a redirect decides some request (it can list or reach a qube in focus),
        // so the rules are read once, keeping the classes earlier rules already decide.
        decidedBy.fill(-1);
        const loopback = members.length < 2 ? c : -1; // a request to the only member is a loopback
        const dialogs: { rule: number; target: number }[] = [];
        const touched: number[] = [];
        for (const i of order) {
          const r = rules[i];
          const cs = targetOf.get(i)!;
          const opens = r.action === 'ask' || (r.action === 'allow' && r.redirect !== undefined);
          if (cs === 'all') {
            if (opens) {
              let d = 0;
              while (d < n && (covered[d] || d === loopback)) d++;
              if (d < n) dialogs.push({ rule: i, target: d });
            }
            if (focus === undefined) {
              for (let d = 0; d < n; d++) if (decidedBy[d] === -1 && d !== loopback) decidedBy[d] = i;
            } else for (const d of focus) if (decidedBy[d] === -1 && d !== loopback) decidedBy[d] = i;
            break; // every later rule is read for nothing
          }
          let first = -1;
          for (const d of cs) {
            if (d === loopback) continue;
            if (!covered[d]) {
              if (first < 0) first = d;
              covered[d] = 1;
              touched.push(d);
            }
            if (decidedBy[d] === -1 && inFocus[d]) decidedBy[d] = i;
          }
          if (opens && first >= 0) dialogs.push({ rule: i, target: first });
        }
        for (const d of touched) covered[d] = 0;

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
            const v = rules[i].action === 'deny' ? 2 : 1;
            const l = listing.get(i)!;
            if (l.kind === 'all') {
              const all = (d: number) => {
                mark(listed, d, v);
                if (classes[d].info.templateForDispvms) mark(listedDisposable, d, v);
              };
              if (focus === undefined) for (let d = 0; d < n; d++) all(d);
              else for (const d of focus) all(d);
              if (dispvm === 0) dispvm = v;
            } else if (l.kind === 'dispvm') {
              if (dispvm === 0) dispvm = v;
            } else if (l.kind === 'disposables') {
              for (const d of l.classes) mark(listedDisposable, d, v);
            } else if (l.kind === 'qubes') {
              for (const d of l.classes) mark(listed, d, v);
            } else {
              exact = true;
              return;
            }
          }
          const list: string[] = [];
          // With interchangeable qubes (`key`), two of a key are enough: one stays when the
          // caller is the other. Not with `autostart=no`, which tells running qubes apart.
          const perKey = keyed && !order.some((i) => rules[i].autostart === false) ? new Map<number, number>() : undefined;
          const take = (x: string): boolean => {
            if (!perKey) return true;
            const k = keyed!.of(x);
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
        const evaluate = (target: string, scan?: readonly number[]) => evaluateOrdered(rules, order, info, { service, argument, source: rep, target }, q.release, lister, scan);

        /** Emits, per source member, the listed targets it may reach; members with equal lists share a channel. */
        const emit = (listedTargets: readonly string[], requested: string, action: 'allow' | 'ask', rule: number, disposable: boolean) => {
          // The list was computed for the representative, which qrexec leaves out of its own
          // list; the other members are interchangeable with it, so they list it too.
          const withRep = !disposable && listedTargets.some((t) => t !== rep && classOfName.get(t) === c) ? [...listedTargets, rep] : listedTargets;
          const groups = new Map<string, { sources: string[]; targets: string[] }>();
          const seenSources = keyed ? new Set<number>() : undefined;
          for (const mem of members) {
            let targets: string[];
            if (keyed) {
              const ks = keyed.of(mem);
              if (seenSources!.has(ks)) continue;
              const stamp = ++keyed.generation;
              targets = [];
              // A member that is not among the targets reaches every key its peers of the same
              // key reach; one that is (it cannot call itself) may miss one, so its peers follow.
              let self = false;
              for (const t of withRep) {
                if (t === mem) {
                  self = true;
                  continue;
                }
                const kt = keyed.of(t);
                if (keyed.seen[kt] === stamp) continue;
                keyed.seen[kt] = stamp;
                if (keyed.relevant(ks, kt, mem, t)) targets.push(t);
              }
              if (!self) seenSources!.add(ks);
            } else targets = withRep.filter((t) => t !== mem && q.relevant(mem, t));
            if (targets.length === 0) continue;
            const key = targets.join(' ');
            const g = groups.get(key);
            if (g) g.sources.push(mem);
            else groups.set(key, { sources: [mem], targets });
          }
          for (const g of groups.values()) {
            const channel: Channel = { service, argument, sources: g.sources, targets: g.targets, requested, action, rule, ...(disposable ? { disposable: true } : {}) };
            out.push(channel);
            q.onChannel?.(channel);
          }
        };
        const split = (targets: readonly string[]) => ({
          named: targets.filter((t) => !t.startsWith('@') && info.domains.has(t)),
          disposables: targets.filter((t) => t.startsWith('@dispvm:') && info.domains.get(t.slice(8))?.templateForDispvms === true).map((t) => t.slice(8)),
        });
        /** Rules whose outcome does not depend on the requested qube (a dialog, a redirect), done once per source class. */
        // Dialogs and redirects, once per rule and source class: what they offer or reach
        // does not depend on the requested qube.
        for (const { rule: i, target: d } of dialogs) {
          const r = rules[i];
          const requested = d === c ? members[1] : classes[d].members[0];
          if (r.action === 'ask') {
            const decision = evaluate(requested);
            const lists = decision.action === 'ask' ? split(decision.targets ?? []) : { named: [], disposables: [] };
            if (lists.named.length) emit(lists.named, requested, 'ask', i, false);
            if (lists.disposables.length) emit(lists.disposables, requested, 'ask', i, true);
            continue;
          }
          const resolved = resolveAllow(r, requested, src, info);
          if (resolved === undefined) continue;
          emit([resolved.name], requested, 'allow', i, resolved.disposable);
        }
        // Plain allows reach the requested qube only: the classes in focus.
        const visitAllow = (d: number) => {
          const i = decidedBy[d];
          if (i < 0) return;
          const r = rules[i];
          if (r.action !== 'allow' || r.redirect !== undefined) return;
          const requested = d === c ? members[1] : classes[d].members[0];
          const resolved = resolveAllow(r, requested, src, info);
          if (resolved === undefined) return;
          if (resolved.disposable) emit([resolved.name], requested, 'allow', i, true);
          else emit(classes[d].members, requested, 'allow', i, false);
        };
        if (focus === undefined) for (let d = 0; d < n; d++) visitAllow(d);
        else for (const d of focus) visitAllow(d);
        // Requests that name no qube go through the evaluator (ask lists, disposables).
        for (const requested of ['@default', '@dispvm']) {
          const scans = requested === '@default' ? scansDefault : scansDispvm;
          const decision = evaluate(requested, order.filter((i) => scans.has(i)));
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
 * Keys as numbers, and `relevant` asked once per pair of keys (the caller
 * promises that it treats the qubes of a key alike).
 */
function keyedRelevance(key: (qube: string) => string, relevant: (s: string, t: string) => boolean, info: SystemInfo) {
  const ids = new Map<string, number>();
  const of = new Map<string, number>();
  for (const name of info.domains.keys()) {
    const k = key(name);
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    of.set(name, id);
  }
  const n = ids.size;
  const answers = new Int8Array(n * n);
  return {
    of: (qube: string): number => of.get(qube) ?? -1,
    /** For "seen" marks without clearing: a mark equal to the current generation is set. */
    seen: new Int32Array(n),
    generation: 0,
    relevant: (ks: number, kt: number, s: string, t: string): boolean => {
      if (ks < 0 || kt < 0) return relevant(s, t);
      const at = ks * n + kt;
      if (answers[at] === 0) answers[at] = relevant(s, t) ? 1 : 2;
      return answers[at] === 1;
    },
  };
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
