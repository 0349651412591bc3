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
import { allowTarget, disposableTemplateOf, dispvmOf, isKeyword, ruleTokens, singledOut, type Token } from './token.js';
import type { Channel, Decision, DomainInfo, QrexecRule, QubesRelease, RuleTokens, SystemInfo } from './types.js';

export type { Channel };

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

/** Names that rules single out: plain names in any column, and the Q of `@dispvm:Q`. */
export function namedQubes(rules: readonly QrexecRule[], release: QubesRelease): Set<string> {
  const named = new Set<string>();
  const add = (t: Token | undefined) => {
    const name = t === undefined ? undefined : singledOut(t);
    if (name !== undefined) named.add(name);
  };
  for (const r of rules) {
    const t = ruleTokens(r, release);
    add(t.source);
    add(t.target);
    add(t.redirect);
    add(t.defaultTarget);
  }
  return named;
}

/** What rules can tell qubes apart by, other than a name: type, tags, default disposable, disposable-template flag, power state, `internal`. */
export function classKey(d: DomainInfo): string {
  return `${d.type}|${d.tags.join(',')}|${d.defaultDispvm ?? ''}|${d.templateForDispvms}|${d.running === true}|${Boolean(d.internal)}`;
}

/** The qubes a policy can call (dom0's calls bypass the policy; calls to it are Qubes' own), by name, each with its class key. */
function callers(info: SystemInfo): { readonly domain: DomainInfo; readonly key: string }[] {
  return [...info.domains.values()]
    .filter((d) => d.type !== 'AdminVM')
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((d) => ({ domain: d, key: classKey(d) }));
}

/** Interchangeable qubes: same type, tags, default disposable and power state, and named by no rule. */
function qubeClasses(rules: readonly QrexecRule[], all: ReturnType<typeof callers>, release: QubesRelease): Klass[] {
  const named = namedQubes(rules, release);
  const byKey = new Map<string, { members: string[]; info: DomainInfo }>();
  for (const { domain: d, key: shared } of all) {
    const key = named.has(d.name) ? `=${d.name}` : shared;
    const k = byKey.get(key);
    if (k) k.members.push(d.name);
    else byKey.set(key, { members: [d.name], info: d });
  }
  return [...byKey.values()];
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
  | { readonly kind: 'qubes'; readonly cover: Cover }
  | { readonly kind: 'fails' };

const NONE: readonly number[] = [];

/** What a target column covers: every class, a tag's or a type's classes (kept whole), or some classes. */
type Cover =
  | { readonly kind: 'all' }
  | { readonly kind: 'tag' | 'type'; readonly id: number }
  | { readonly kind: 'classes'; readonly classes: readonly number[] };

const ALL: Cover = { kind: 'all' };

/**
 * The first rule (lowest index) that names each class, tag and type, for one
 * source class at a time: entries count only when stamped with the current
 * round, so nothing is cleared between rounds, and the classes marked in the
 * round are listed.
 */
class Marks {
  private readonly classAt: Int32Array;
  private readonly classBy: Int32Array;
  private readonly tagAt: Int32Array;
  private readonly tagBy: Int32Array;
  private readonly typeAt: Int32Array;
  private readonly typeBy: Int32Array;
  private round = 0;
  /** Classes marked in this round, in the order marked. */
  readonly marked: number[] = [];

  constructor(classes: number, tags: number, types: number) {
    this.classAt = new Int32Array(classes);
    this.classBy = new Int32Array(classes);
    this.tagAt = new Int32Array(tags);
    this.tagBy = new Int32Array(tags);
    this.typeAt = new Int32Array(types);
    this.typeBy = new Int32Array(types);
  }

  /** Starts a round (`round` above every earlier one). */
  start(round: number): void {
    this.round = round;
    this.marked.length = 0;
  }

  hasClass(d: number): boolean {
    return this.classAt[d] === this.round;
  }

  /** The rule that marked class `d` itself, if any. */
  own(d: number): number | undefined {
    return this.classAt[d] === this.round ? this.classBy[d] : undefined;
  }

  /** Marks class `d` with rule `i` unless an earlier rule did. */
  markClass(d: number, i: number): void {
    if (this.classAt[d] === this.round) return;
    this.classAt[d] = this.round;
    this.classBy[d] = i;
    this.marked.push(d);
  }

  /** Marks what a column covers (not `all`, which the caller keeps as the rule for the rest). */
  mark(cv: Cover, i: number): void {
    if (cv.kind === 'tag') {
      if (this.tagAt[cv.id] !== this.round) {
        this.tagAt[cv.id] = this.round;
        this.tagBy[cv.id] = i;
      }
    } else if (cv.kind === 'type') {
      if (this.typeAt[cv.id] !== this.round) {
        this.typeAt[cv.id] = this.round;
        this.typeBy[cv.id] = i;
      }
    } else if (cv.kind === 'classes') for (const d of cv.classes) this.markClass(d, i);
  }

  hasTag(t: number): boolean {
    return this.tagAt[t] === this.round;
  }

  hasType(t: number): boolean {
    return this.typeAt[t] === this.round;
  }

  /** The first rule among these tags' and this type's marks; -1 if none. */
  group(tags: readonly number[], type: number): number {
    let best = this.typeAt[type] === this.round ? this.typeBy[type] : -1;
    for (const t of tags) if (this.tagAt[t] === this.round && (best < 0 || this.tagBy[t] < best)) best = this.tagBy[t];
    return best;
  }

  /** The first rule among the class's own mark and its tags' and type's; -1 if none. */
  first(d: number, tags: readonly number[], type: number): number {
    const g = this.group(tags, type);
    if (this.classAt[d] !== this.round) return g;
    const own = this.classBy[d];
    return g < 0 || own < g ? own : g;
  }
}

/**
 * One service's rules over the system's qubes, read once: its classes of
 * interchangeable qubes, their tags and types by number, and for each rule
 * what its columns cover. Everything the per-class work below reads.
 */
class ServiceIndex {
  readonly classes: readonly Klass[];
  readonly n: number;
  readonly classOfName = new Map<string, number>();
  private readonly tagId = new Map<string, number>();
  private readonly typeId = new Map<string, number>();
  /** Tags and types by number, with their classes (ascending), and each class's own. */
  readonly byTag: number[][] = [];
  readonly byType: number[][] = [];
  readonly tagsOf: number[][] = [];
  readonly typeOf: Int32Array;
  /** The disposable templates' classes, ascending. */
  readonly dispvmTemplates: number[] = [];
  /** Classes with the same type and tags share a number (a group, for rules naming tags and types). */
  readonly signatureOf: Int32Array;
  readonly signatures: number;
  /** Per rule, the classes its target column names (for requests naming a qube). */
  readonly targetCover = new Map<number, Cover>();
  /** Per rule, what its target (`target=` for allow/ask) adds to or removes from ask lists. */
  readonly listing = new Map<number, Listing>();
  /** Rules that can match a `@default`, a `@dispvm`, a `@dispvm:Q` and a dom0 request at all. */
  private readonly scansDefault = new Set<number>();
  private readonly scansDispvm = new Set<number>();
  private readonly scansDispvmNamed = new Set<number>();
  private readonly scansAdmin = new Set<number>();
  /** For each rule whose target is `@dispvm:Q` or `@dispvm:@tag:T`: the template classes it names. */
  private readonly dispvmTargets = new Map<number, readonly number[]>();
  /** The rules whose source matches a class, by source token. */
  private readonly anySource: number[] = [];
  private readonly bySourceName = new Map<string, number[]>();
  private readonly bySourceTag = new Map<string, number[]>();
  private readonly bySourceType = new Map<string, number[]>();
  private readonly matchingBySignature = new Map<string | number, number[]>();
  private readonly matchingOfClass = new Map<number, readonly number[]>();
  private readonly plans = new Map<readonly number[], Map<string, Plan>>();

  constructor(
    readonly rules: readonly QrexecRule[],
    /** The service's rules and the `*` rules, in file order. */
    readonly merged: readonly number[],
    all: ReturnType<typeof callers>,
    readonly info: SystemInfo,
    readonly release: QubesRelease,
  ) {
    // Classes per service: a qube named only by rules of other services is
    // interchangeable with its peers here (one service's requests read only its rules).
    const classes = qubeClasses(merged.map((i) => rules[i]), all, release);
    this.classes = classes;
    const n = (this.n = classes.length);
    this.typeOf = new Int32Array(n);
    const idOf = (ids: Map<string, number>, lists: number[][], key: string): number => {
      let id = ids.get(key);
      if (id === undefined) {
        ids.set(key, (id = lists.length));
        lists.push([]);
      }
      return id;
    };
    classes.forEach((k, i) => {
      k.members.forEach((m) => this.classOfName.set(m, i));
      this.tagsOf.push(k.info.tags.map((tag) => {
        const id = idOf(this.tagId, this.byTag, tag);
        this.byTag[id].push(i);
        return id;
      }));
      this.typeOf[i] = idOf(this.typeId, this.byType, k.info.type);
      this.byType[this.typeOf[i]].push(i);
      if (k.info.templateForDispvms) this.dispvmTemplates.push(i);
    });
    const signatureIds = new Map<string, number>();
    this.signatureOf = Int32Array.from(classes, (_k, i) => {
      const key = `${this.typeOf[i]}|${this.tagsOf[i].join(',')}`;
      let id = signatureIds.get(key);
      if (id === undefined) signatureIds.set(key, (id = signatureIds.size));
      return id;
    });
    this.signatures = signatureIds.size;
    for (const i of merged) this.readRule(i);
  }

  tokensOf(i: number): RuleTokens {
    return ruleTokens(this.rules[i], this.release);
  }

  /** One rule read once: its target cover, its ask-list listing, the requests it can match, its source bucket. */
  private readRule(i: number): void {
    const r = this.rules[i];
    const tokens = this.tokensOf(i);
    const t = tokens.target;
    this.targetCover.set(i, this.coverOf(t));
    const every = t.kind === 'any' || t.kind === 'anyvm';
    const disposable = t.kind === 'dispvm-of' || t.kind === 'dispvm-tag';
    if (every || t.kind === 'default') this.scansDefault.add(i);
    if (every || t.kind === 'dispvm' || disposable) this.scansDispvm.add(i);
    if (every || disposable) this.scansDispvmNamed.add(i);
    // `@anyvm` never takes dom0; R4.3 also names qubes by their UUIDs.
    if (t.kind === 'any' || t.dom0 || t.kind === 'uuid') this.scansAdmin.add(i);
    if (t.kind === 'dispvm-tag') this.dispvmTargets.set(i, this.templatesTagged(t.value));
    else if (t.kind === 'dispvm-of') {
      const d = this.classOfName.get(t.value);
      this.dispvmTargets.set(i, d === undefined ? NONE : [d]);
    }
    const tok = r.action !== 'deny' && tokens.redirect !== undefined ? tokens.redirect : t;
    let l: Listing;
    if (tok.kind === 'any' || tok.kind === 'anyvm') l = { kind: 'all' };
    else if (tok.kind === 'dispvm') l = { kind: 'dispvm' };
    else if (tok.kind === 'dispvm-tag') l = { kind: 'disposables', classes: this.templatesTagged(tok.value) };
    else if (tok.kind === 'dispvm-of') {
      const dom = this.info.domains.get(tok.value);
      const d = this.classOfName.get(tok.value);
      // Qubes fails on a `@dispvm:Q` naming no qube (`DispVMTemplate.expand`): the evaluator says how.
      if (dom === undefined) l = { kind: 'fails' };
      else l = { kind: 'disposables', classes: dom.templateForDispvms && d !== undefined ? [d] : NONE };
    } else l = { kind: 'qubes', cover: this.coverOf(tok) }; // dom0's tokens and `@default` list no qube of a class
    this.listing.set(i, l);
    const s = tokens.source;
    const push = (m: Map<string, number[]>, k: string) => {
      const list = m.get(k);
      if (list) list.push(i);
      else m.set(k, [i]);
    };
    if (s.kind === 'any' || s.kind === 'anyvm') this.anySource.push(i);
    else if (s.kind === 'name' && !s.dom0) push(this.bySourceName, s.text);
    else if (s.kind === 'tag') push(this.bySourceTag, s.value);
    else if (s.kind === 'type') push(this.bySourceType, s.value);
    // Other tokens (dom0's, UUIDs, `@dispvm…`) match no qube of a class.
  }

  private templatesTagged(tag: string): number[] {
    return this.dispvmTemplates.filter((d) => this.classes[d].info.tags.includes(tag));
  }

  /** The classes a source column, or a target column for a request naming a qube, matches. */
  classesOf(t: Token): ClassSet {
    switch (t.kind) {
      case 'any':
      case 'anyvm':
        return 'all';
      case 'name': {
        const d = this.classOfName.get(t.text);
        return d === undefined ? NONE : [d];
      }
      case 'tag': {
        const id = this.tagId.get(t.value);
        return id === undefined ? NONE : this.byTag[id];
      }
      case 'type': {
        const id = this.typeId.get(t.value);
        return id === undefined ? NONE : this.byType[id];
      }
      default:
        // dom0's tokens and UUIDs (dom0 is no class: its calls bypass the policy), `@default`, `@dispvm…`.
        return NONE;
    }
  }

  /** A target column as what it covers: a tag or a type is kept whole, marked once rather than class by class. */
  coverOf(t: Token): Cover {
    if (t.kind === 'any' || t.kind === 'anyvm') return ALL;
    if (t.kind === 'tag' || t.kind === 'type') {
      const id = (t.kind === 'tag' ? this.tagId : this.typeId).get(t.value);
      return id === undefined ? { kind: 'classes', classes: NONE } : { kind: t.kind, id };
    }
    const cs = this.classesOf(t);
    return { kind: 'classes', classes: cs === 'all' ? NONE : cs };
  }

  membersOf(cv: Cover): readonly number[] {
    return cv.kind === 'tag' ? this.byTag[cv.id] : cv.kind === 'type' ? this.byType[cv.id] : cv.kind === 'classes' ? cv.classes : NONE;
  }

  /**
   * Whether some allow or ask rule has a source among the qubes: without one
   * there is no channel. (A rule that can only reach dom0 opens nothing:
   * calls to dom0 are Qubes' own.)
   */
  opensAny(): boolean {
    const nonEmpty = (x: ClassSet) => (x === 'all' ? this.n > 0 : x.length > 0);
    return this.merged.some((i) => {
      const t = this.tokensOf(i);
      return this.rules[i].action !== 'deny' && !(t.redirect ?? t.target).dom0 && nonEmpty(this.classesOf(t.source));
    });
  }

  /**
   * The rules whose source matches class `c`, in file order. A rule is in one
   * bucket (its source token), so the buckets of a class are disjoint and
   * ascending: merged, they are its rules in file order. Classes without rules
   * of their own (same type and tags) share the result.
   */
  matching(c: number): readonly number[] {
    let m = this.matchingOfClass.get(c);
    if (!m) this.matchingOfClass.set(c, (m = this.matchingFor(c)));
    return m;
  }

  private matchingFor(c: number): readonly number[] {
    const rep = this.classes[c].info;
    const own = this.bySourceName.get(rep.name);
    const signature = own ? `=${rep.name}` : this.signatureOf[c];
    const known = this.matchingBySignature.get(signature);
    if (known) return known;
    const lists = [this.anySource, own, this.bySourceType.get(rep.type), ...rep.tags.map((tag) => this.bySourceTag.get(tag))].filter((l): l is number[] => l !== undefined && l.length > 0);
    let merged: number[] = lists.length === 0 ? [] : lists[0];
    for (let k = 1; k < lists.length; k++) merged = mergeSorted(merged, lists[k]);
    this.matchingBySignature.set(signature, merged);
    return merged;
  }

  /**
   * Arguments: `+` stands for every argument no rule names (or, when a rule
   * names `+` itself, ANY_ARGUMENT does); a named argument can only change
   * what happens to the source classes one of its own rules matches, so only
   * those are evaluated.
   */
  argumentRuns(args: readonly string[]): { readonly argument: string; readonly sources?: ReadonlySet<number> }[] {
    const runs: { argument: string; sources?: ReadonlySet<number> }[] = [{ argument: '+' }];
    if (args.includes('+') && this.merged.some((i) => this.rules[i].argument === '+')) runs.push({ argument: ANY_ARGUMENT });
    for (const a of args) {
      if (a === '+') continue;
      const set = new Set<number>();
      for (const i of this.merged) {
        if (this.rules[i].argument !== a) continue;
        const cs = this.classesOf(this.tokensOf(i).source);
        if (cs === 'all') for (let c = 0; c < this.n; c++) set.add(c);
        else for (const c of cs) set.add(c);
      }
      runs.push({ argument: a, sources: set });
    }
    return runs;
  }

  /** What the rules `m` (a class's matching rules) give each kind of request with `argument` ({@link Plan}). */
  planOf(m: readonly number[], argument: string): Plan {
    let byArgument = this.plans.get(m);
    if (!byArgument) this.plans.set(m, (byArgument = new Map()));
    let plan = byArgument.get(argument);
    if (plan) return plan;
    const rules = this.rules;
    const order = m.filter((i) => argumentMatches(rules[i].argument, argument));
    const scanNamed = order.filter((i) => this.scansDispvmNamed.has(i));
    // Rules before the first whose target is every qube (`*`, `@anyvm`) decide the templates
    // they name (`@dispvm:Q`, `@dispvm:@tag:T`) one by one; every other template meets that
    // rule first, with one outcome (a dialog lists the same qubes whatever was requested,
    // an allow reaches the requested template's disposable): one request stands for them.
    const g = scanNamed.findIndex((i) => this.tokensOf(i).target.kind === 'any' || this.tokensOf(i).target.kind === 'anyvm');
    // Only the templates those rules name are kept (the others take `g`): a plan per class
    // must not cost a pass over every class.
    const named = new Map<number, number>();
    for (let k = 0; k < (g < 0 ? scanNamed.length : g); k++) for (const d of this.dispvmTargets.get(scanNamed[k]) ?? NONE) if (!named.has(d)) named.set(d, k);
    const decidedBy = (d: number) => named.get(d) ?? g;
    plan = {
      order,
      scanDefault: order.filter((i) => this.scansDefault.has(i)),
      scanDispvm: order.filter((i) => this.scansDispvm.has(i)),
      scanAdmin: order.filter((i) => this.scansAdmin.has(i)),
      scanNamed,
      elsewhere: scanNamed.some((i) => rules[i].action === 'ask' || (rules[i].action === 'allow' && rules[i].redirect !== undefined)),
      decidedBy,
    };
    byArgument.set(argument, plan);
    return plan;
  }
}

/**
 * What a source class's rules (shared by every class of one signature) give
 * each kind of request, per argument: the rules in order, the parts that can
 * match `@default`, `@dispvm`, dom0 and `@dispvm:Q` requests, and for the
 * last, the template classes decided one by one.
 */
interface Plan {
  readonly order: readonly number[];
  readonly scanDefault: readonly number[];
  readonly scanDispvm: readonly number[];
  readonly scanAdmin: readonly number[];
  readonly scanNamed: readonly number[];
  /** Whether a dialog or a redirect can decide a `@dispvm:Q` request. */
  readonly elsewhere: boolean;
  /** Per template class, the position in `scanNamed` of the rule that decides its `@dispvm:Q` request; -1: none (denied). */
  readonly decidedBy: (templateClass: number) => number;
}

/** The target classes that can matter to a source class. */
interface Focus {
  /** The classes in focus, ascending; undefined: all. */
  readonly list: readonly number[] | undefined;
  /** 1 for a class in focus. */
  readonly flags: Uint8Array;
  /**
   * The classes in focus by type and tags (each group ascending): a rule naming a tag or a
   * type decides for a whole group, so what a rule for every qube leaves is found group by group.
   */
  readonly groups: readonly { readonly tags: readonly number[]; readonly type: number; readonly classes: readonly number[] }[];
  /** The disposable templates in focus, ascending. */
  readonly templates: readonly number[];
}

/**
 * The focus of each source class, from the query's `focus`: the same set of
 * names (a focus is usually shared by many sources) maps to the same classes.
 */
class Foci {
  /** Groups by signature: the group's place in the list being built, plus one; reset after each use. */
  private readonly groupAt: Int32Array;
  private everywhereFocus: Focus | undefined;
  private readonly bySet = new Map<ReadonlySet<string>, Focus>();
  private readonly byClass = new Map<number, Focus>();

  constructor(
    private readonly ix: ServiceIndex,
    private readonly focus: ChannelQuery['focus'],
  ) {
    this.groupAt = new Int32Array(ix.signatures);
  }

  of(c: number): Focus {
    let f = this.byClass.get(c);
    if (!f) this.byClass.set(c, (f = this.compute(c)));
    return f;
  }

  private compute(c: number): Focus {
    const ix = this.ix;
    const f = this.focus?.(ix.classes[c].members);
    if (f === undefined) return (this.everywhereFocus ??= this.with(undefined, new Uint8Array(ix.n).fill(1)));
    let known = this.bySet.get(f);
    if (!known) {
      const flags = new Uint8Array(ix.n);
      const list: number[] = [];
      for (const name of f) {
        const d = ix.classOfName.get(name);
        if (d !== undefined && !flags[d]) {
          flags[d] = 1;
          list.push(d);
        }
      }
      list.sort((a, b) => a - b);
      this.bySet.set(f, (known = this.with(list, flags)));
    }
    return known;
  }

  private with(list: readonly number[] | undefined, flags: Uint8Array): Focus {
    const { ix, groupAt } = this;
    const groups: { tags: readonly number[]; type: number; classes: number[] }[] = [];
    const templates: number[] = [];
    const add = (d: number) => {
      const sig = ix.signatureOf[d];
      if (groupAt[sig] === 0) groupAt[sig] = groups.push({ tags: ix.tagsOf[d], type: ix.typeOf[d], classes: [d] });
      else groups[groupAt[sig] - 1].classes.push(d);
      if (ix.classes[d].info.templateForDispvms) templates.push(d);
    };
    if (list === undefined) for (let d = 0; d < ix.n; d++) add(d);
    else for (const d of list) add(d);
    for (const g of groups) groupAt[ix.signatureOf[g.classes[0]]] = 0;
    return { list, flags, groups, templates };
  }
}

/**
 * The classes in focus (but `skip`) whose rule (their first mark, else
 * `rest`) `accept`s, ascending. Read group by group: a group a tag or type
 * rule decides is passed over whole.
 */
function decidedIn(ix: ServiceIndex, f: Focus, m: Marks, rest: number, accept: (rule: number) => boolean, skip: number, two?: { readonly keyOf: (g: FocusGroup) => number; readonly keep: number }): number[] {
  const out: number[] = [];
  for (const g of f.groups) {
    const first = m.group(g.tags, g.type);
    if (!accept(first >= 0 ? first : rest)) continue;
    // `two`: of a group of one key, `keep` (the caller's own class, which holds the member the
    // list leaves out) and the first two other classes are enough: those give the key its two.
    let room = two !== undefined && two.keyOf(g) >= 0 ? 2 : Infinity;
    for (const d of g.classes) {
      if (d === skip || m.hasClass(d)) continue;
      if (d === two?.keep) out.push(d);
      else if (room > 0) {
        out.push(d);
        room--;
      } else if (two!.keep < d) break;
    }
  }
  for (const d of m.marked) {
    if (d === skip || !f.flags[d]) continue;
    const first = m.first(d, ix.tagsOf[d], ix.typeOf[d]);
    if (accept(first >= 0 ? first : rest)) out.push(d);
  }
  return out.sort((a, b) => a - b);
}

type FocusGroup = Focus['groups'][number];

const groupKeys = new WeakMap<Keyed, WeakMap<FocusGroup, number>>();

/** The key every member of every class of a focus group has, or -1 when they differ. */
function groupKey(keyed: Keyed, ix: ServiceIndex, g: FocusGroup): number {
  let byGroup = groupKeys.get(keyed);
  if (!byGroup) groupKeys.set(keyed, (byGroup = new WeakMap()));
  let k = byGroup.get(g);
  if (k === undefined) {
    k = keyed.of(ix.classes[g.classes[0]].members[0]);
    for (const d of g.classes) for (const x of ix.classes[d].members) if (keyed.of(x) !== k) k = -1;
    byGroup.set(g, k);
  }
  return k;
}

/** One source class's run for one argument: what the parts below share. */
interface Run {
  readonly q: ChannelQuery;
  readonly ix: ServiceIndex;
  readonly keyed: Keyed | undefined;
  readonly service: string;
  readonly argument: string;
  readonly c: number;
  readonly members: readonly string[];
  /** The class's representative, which the evaluator is asked for. */
  readonly rep: string;
  readonly plan: Plan;
  readonly f: Focus;
  /** Per-round marks (stamped with a new round). */
  readonly decision: Marks;
  readonly listingMarks: Marks;
  readonly disposableMarks: Marks;
  readonly out: Channel[];
}

/**
 * A named argument's run differs from the run of arguments no rule names
 * (`+`, or ANY_ARGUMENT when rules name `+`) only by the argument's own
 * rules. When those only deny, or allow named qubes outside the focus,
 * everything they add cannot matter: they decide no request in focus, no
 * `@default`/`@dispvm` request, list nothing in focus. (On R4.2 an allow can
 * also offer an ask rule's default target, which decides whether that dialog
 * opens at all: with such a rule, an allow is never harmless.)
 */
function harmless(ix: ServiceIndex, plan: Plan, f: Focus, argument: string): boolean {
  const rules = ix.rules;
  const own = plan.order.filter((i) => rules[i].argument === argument);
  const defaultAsk = ix.release === '4.2' && plan.order.some((i) => rules[i].action === 'ask' && rules[i].defaultTarget !== undefined);
  return own.every((i) => {
    const r = rules[i];
    if (r.action === 'deny') return true;
    if (r.action !== 'allow' || r.redirect !== undefined || defaultAsk) return false;
    // Only a column naming qubes (a name, a tag, a type) can miss the focus.
    const k = ix.tokensOf(i).target.kind;
    if (k !== 'name' && k !== 'uuid' && k !== 'tag' && k !== 'type') return false;
    const cv = ix.targetCover.get(i)!;
    return cv.kind !== 'all' && ix.membersOf(cv).every((d) => !f.flags[d]);
  });
}

/**
 * Named requests: the first rule whose target column matches decides each
 * target class (marked in `run.decision`). Only plain allows are followed
 * class by class (they are what reaches the requested qube); other rules
 * mark their token. Elsewhere only one thing matters: whether a dialog or a
 * redirect decides some request (it can list or reach a qube in focus):
 * those are `dialogs`, each with a class it decides. `rest` is the rule
 * that decides every other class (its target is `@anyvm` or `*`), if any.
 */
function readNamedRequests(run: Run, loopback: number): { readonly dialogs: readonly { rule: number; target: number }[]; readonly rest: number } {
  const { ix, decision, f } = run;
  const rules = ix.rules;
  const decidedRule = (d: number) => decision.first(d, ix.tagsOf[d], ix.typeOf[d]);
  const dialogs: { rule: number; target: number }[] = [];
  for (const i of run.plan.order) {
    const r = rules[i];
    const cv = ix.targetCover.get(i)!;
    const opens = r.action === 'ask' || (r.action === 'allow' && r.redirect !== undefined);
    if (cv.kind === 'all') {
      if (opens) {
        let d = 0;
        while (d < ix.n && (d === loopback || decidedRule(d) >= 0)) d++;
        if (d < ix.n) dialogs.push({ rule: i, target: d });
      }
      return { dialogs, rest: i }; // every later rule is read for nothing
    }
    // A tag or type an earlier rule names is decided already, class by class.
    const whole = (cv.kind === 'tag' && decision.hasTag(cv.id)) || (cv.kind === 'type' && decision.hasType(cv.id));
    if (!whole && (opens || r.action === 'allow')) {
      let first = -1;
      for (const d of ix.membersOf(cv)) {
        if (d === loopback || decidedRule(d) >= 0) continue;
        if (first < 0) first = d;
        if (!opens && f.flags[d]) decision.markClass(d, i);
        if (opens) break;
      }
      if (opens && first >= 0) dialogs.push({ rule: i, target: first });
    }
    decision.mark(cv, i);
  }
  return { dialogs, rest: -1 };
}

/**
 * The ask list as Qubes builds it (`collect_targets_for_ask`), restricted to
 * the focus: the first rule (in file order) whose target (allow/ask: its
 * `target=`) expands to a qube decides whether the dialog lists it. Built on
 * first use, for the evaluator (an {@link AskLister}).
 */
class AskList {
  private list: string[] | undefined;
  /** The evaluator must build the whole list itself (Qubes fails on some rule, or the list depends on it). */
  private exact = false;
  /** Whether the whole ask list (not only the part in focus) offers a qube of this class. */
  private offers: ((d: number) => boolean) | undefined;

  constructor(private readonly run: Run) {}

  readonly lister: AskLister = (rule) => {
    if (this.list === undefined && !this.exact) this.build();
    if (this.exact) return undefined;
    const { ix } = this.run;
    // R4.2 denies an ask whose default target is not offered: for a qube, the list in
    // focus is given with that qube when the whole list has it. Other default targets
    // (dom0, disposables) need the whole list from the evaluator.
    const dt = ruleTokens(rule, ix.release).defaultTarget;
    if (ix.release === '4.2' && dt !== undefined) {
      const d = dt.kind === 'name' ? ix.classOfName.get(dt.text) : undefined;
      if (d === undefined) return undefined;
      return this.offers!(d) && !this.list!.includes(dt.text) ? [...this.list!, dt.text] : [...this.list!];
    }
    return [...this.list!];
  };

  private build(): void {
    const { ix, listingMarks, disposableMarks, f, c, rep, keyed, plan } = this.run;
    const rules = ix.rules;
    const src = ix.classes[c].info;
    let dispvm = 0;
    /** The rule listing every qube (`@anyvm`, `*`), if any: it decides every class no earlier rule marked. */
    let restRule = -1;
    for (const i of plan.order) {
      const l = ix.listing.get(i)!;
      if (l.kind === 'fails') {
        this.exact = true;
        return;
      }
      if (restRule >= 0) continue; // every qube is listed or not already; only a failing rule still matters
      const lists = rules[i].action !== 'deny';
      if (l.kind === 'all') {
        restRule = i;
        if (dispvm === 0) dispvm = lists ? 1 : 2;
      } else if (l.kind === 'dispvm') {
        if (dispvm === 0) dispvm = lists ? 1 : 2;
      } else if (l.kind === 'disposables') {
        for (const d of l.classes) disposableMarks.markClass(d, i);
      } else {
        listingMarks.mark(l.cover, i);
      }
    }
    const listsAt = (i: number) => i >= 0 && rules[i].action !== 'deny';
    const listedRule = (d: number) => {
      const e = listingMarks.first(d, ix.tagsOf[d], ix.typeOf[d]);
      return e >= 0 ? e : restRule;
    };
    const disposableRule = (d: number) => disposableMarks.own(d) ?? (ix.classes[d].info.templateForDispvms ? restRule : -1);
    this.offers = (d) => d !== c && listsAt(listedRule(d));
    const list: string[] = [];
    // With interchangeable qubes (`key`), two of a key are enough: one stays when the
    // caller is the other. Not with `autostart=no`, which tells running qubes apart.
    const perKey = keyed && !plan.order.some((i) => rules[i].autostart === false) ? new Map<number, number>() : undefined;
    const take = (x: string): boolean => {
      if (!perKey) return true;
      const k = keyed!.of(x);
      const seen = perKey.get(k) ?? 0;
      if (seen >= 2) return false;
      perKey.set(k, seen + 1);
      return true;
    };
    const visit = (d: number) => {
      if (listsAt(listedRule(d))) {
        // One other member of the caller's own class is kept whatever its key: it tells
        // `emit` that the class is listed, so that its other members reach the representative.
        let own = d === c;
        for (const x of ix.classes[d].members) {
          if (x === rep || !(take(x) || own)) continue;
          list.push(x);
          own = false;
        }
      }
      if (listsAt(disposableRule(d))) for (const x of ix.classes[d].members) list.push(dispvmOf(x));
    };
    // In class order, as `take` keeps the first two of a key: the classes in focus the
    // list offers, and those whose new disposables it offers.
    // With keys, a group whose qubes all have one key needs no more than its first two
    // classes (and the caller's own): `take` passes over the rest of that key anyway.
    const offered = decidedIn(ix, f, listingMarks, restRule, listsAt, -1, perKey ? { keyOf: (g) => groupKey(keyed!, ix, g), keep: c } : undefined);
    const disposables: number[] = [];
    if (listsAt(restRule)) for (const d of f.templates) if (!disposableMarks.hasClass(d)) disposables.push(d);
    for (const d of disposableMarks.marked) if (f.flags[d] && listsAt(disposableMarks.own(d)!)) disposables.push(d);
    const candidates = disposables.length === 0 ? offered : [...new Set([...offered, ...disposables])].sort((a, b) => a - b);
    for (const d of candidates) visit(d);
    if (dispvm === 1 && src.defaultDispvm !== null) {
      // R4.3+ fails on a default_dispvm that names no qube: let the evaluator say how.
      if (ix.release !== '4.2' && !ix.info.domains.has(src.defaultDispvm)) {
        this.exact = true;
        return;
      }
      const dd = dispvmOf(src.defaultDispvm);
      if (!list.includes(dd)) list.push(dd);
    }
    // Sorted once here; the evaluator's own sort of each copy then finds it in order.
    this.list = list.sort();
  }
}

/**
 * Emits, per source member, the listed targets it may reach; members with
 * equal lists share a channel. The list was computed for the representative,
 * which qrexec leaves out of its own list; the other members are
 * interchangeable with it, so they list it too.
 */
function emit(run: Run, listedTargets: readonly string[], requested: string, action: 'allow' | 'ask', rule: number, disposable: boolean): void {
  const { ix, keyed, q, rep, c, members } = run;
  const withRep = !disposable && listedTargets.some((t) => t !== rep && ix.classOfName.get(t) === c) ? [...listedTargets, rep] : listedTargets;
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
    const channel: Channel = { service: run.service, argument: run.argument, sources: g.sources, targets: g.targets, requested, action, rule, ...(disposable ? { disposable: true } : {}) };
    run.out.push(channel);
    q.onChannel?.(channel);
  }
}

/** The qubes and the disposable templates (of new disposables) among a decision's targets. */
function split(info: SystemInfo, targets: readonly string[]): { named: string[]; disposables: string[] } {
  // One pass: lists are long, and keywords (`@dispvm:Q` among them) are few.
  const named: string[] = [];
  const disposables: string[] = [];
  for (const t of targets) {
    if (!isKeyword(t)) {
      if (info.domains.has(t)) named.push(t);
      continue;
    }
    const q = disposableTemplateOf(t);
    if (q !== undefined && info.domains.get(q)?.templateForDispvms === true) disposables.push(q);
  }
  return { named, disposables };
}

/** Emits the channels of one decision of the evaluator: its listed or reached qubes, and its new disposables. */
function emitDecision(run: Run, requested: string, decision: Decision): void {
  if (decision.action === 'deny' || decision.rule === undefined) return;
  const lists = split(run.ix.info, decision.action === 'ask' ? (decision.targets ?? []) : decision.target !== undefined ? [decision.target] : []);
  if (lists.named.length) emit(run, lists.named, requested, decision.action, decision.rule, false);
  if (lists.disposables.length) emit(run, lists.disposables, requested, decision.action, decision.rule, true);
}

/**
 * Requests that name no qube, which go through the evaluator (ask lists,
 * disposables): `@default`, `@dispvm`, dom0 (`@adminvm`; its calls are
 * Qubes' own, but a redirect or a dialog can send them elsewhere), and a new
 * disposable of each disposable template in focus (`@dispvm:Q`; Q stands
 * for its class, whose members a rule does not tell apart). `templates`:
 * the disposable template classes the request stands for (`@dispvm:Q`, Q
 * the first's representative).
 */
function unnamedRequests(run: Run): { requested: string; scan: readonly number[]; templates?: readonly number[] }[] {
  const { ix, plan, f } = run;
  const requests: { requested: string; scan: readonly number[]; templates?: readonly number[] }[] = [
    { requested: '@default', scan: plan.scanDefault },
    { requested: '@dispvm', scan: plan.scanDispvm },
    { requested: '@adminvm', scan: plan.scanAdmin },
  ];
  if (ix.dispvmTemplates.length > 0 && plan.scanNamed.length > 0) {
    // Templates whose requests one rule decides have one outcome: one request stands for
    // them. A deny decides nothing to report; a template outside the focus matters only
    // through a dialog or a redirect, which can reach a qube in focus whatever was requested.
    const byRule = new Map<number, number[]>();
    for (const d of plan.elsewhere ? ix.dispvmTemplates : f.templates) {
      const k = plan.decidedBy(d);
      if (k < 0 || ix.rules[plan.scanNamed[k]].action === 'deny') continue;
      const l = byRule.get(k);
      if (l) l.push(d);
      else byRule.set(k, [d]);
    }
    for (const ts of byRule.values()) requests.push({ requested: dispvmOf(ix.classes[ts[0]].members[0]), scan: plan.scanNamed, templates: ts });
  }
  return requests.filter((r) => r.scan.length > 0);
}

/**
 * Every channel of one source class for one argument. Per source class,
 * what rules decide is recorded per token: a class, a tag, a type, and the
 * rule for every other class (`@anyvm`/`*`), stamped with the iteration
 * instead of cleared. The work per source then follows its rules, not the
 * number of qubes: a rule naming a tag marks the tag once, and a class's
 * decision is the earliest rule among its own mark, its tags' and its type's.
 */
function channelsOfClass(run: Run): void {
  const { ix, plan, members, rep, c, decision } = run;
  const rules = ix.rules;
  const loopback = members.length < 2 ? c : -1; // a request to the only member is a loopback
  const { dialogs, rest } = readNamedRequests(run, loopback);
  const asks = new AskList(run);
  const evaluate = (target: string, scan?: readonly number[]) => evaluateOrdered(rules, plan.order, ix.info, { service: run.service, argument: run.argument, source: rep, target }, ix.release, asks.lister, scan);
  const representativeOf = (d: number) => (d === c ? members[1] : ix.classes[d].members[0]);
  // Dialogs and redirects, once per rule and source class: what they offer or reach
  // does not depend on the requested qube.
  for (const { rule: i, target: d } of dialogs) {
    const r = rules[i];
    const requested = representativeOf(d);
    if (r.action === 'ask') {
      const decision = evaluate(requested);
      const lists = decision.action === 'ask' ? split(ix.info, decision.targets ?? []) : { named: [], disposables: [] };
      if (lists.named.length) emit(run, lists.named, requested, 'ask', i, false);
      if (lists.disposables.length) emit(run, lists.disposables, requested, 'ask', i, true);
      continue;
    }
    const resolved = resolveAllow(r, requested, rep, ix.info, ix.release);
    if (resolved !== undefined) emit(run, [resolved.name], requested, 'allow', i, resolved.disposable);
  }
  // Plain allows reach the requested qube only: the classes in focus, in class order (the channels' order).
  const plainAllow = (i: number) => i >= 0 && rules[i].action === 'allow' && rules[i].redirect === undefined;
  for (const d of decidedIn(ix, run.f, decision, rest, plainAllow, loopback)) {
    const e = decision.first(d, ix.tagsOf[d], ix.typeOf[d]);
    const i = e >= 0 ? e : rest;
    const requested = representativeOf(d);
    const resolved = resolveAllow(rules[i], requested, rep, ix.info, ix.release);
    if (resolved === undefined) continue;
    if (resolved.disposable) emit(run, [resolved.name], requested, 'allow', i, true);
    else emit(run, ix.classes[d].members, requested, 'allow', i, false);
  }
  for (const { requested, scan, templates } of unnamedRequests(run)) {
    const decision = evaluate(requested, scan);
    if (templates !== undefined && decision.action === 'allow' && decision.rule !== undefined && rules[decision.rule].redirect === undefined) {
      // A new disposable of the requested template: of every member of the classes it stands for.
      emit(run, templates.flatMap((d) => ix.classes[d].members), requested, 'allow', decision.rule, true);
      continue;
    }
    emitDecision(run, requested, decision);
  }
}

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
  const { rules, info, release } = q;
  const keyed = q.key ? keyedRelevance(q.key, q.relevant, info) : undefined;
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
  const all = callers(info);
  for (const [service, args] of servicesOf(rules, extraServices)) {
    if (q.services && !q.services.has(service)) continue;
    const ix = new ServiceIndex(rules, mergeSorted(byService.get(service) ?? [], wildcard), all, info, release);
    if (!ix.opensAny()) continue;
    const foci = new Foci(ix, q.focus);
    const marks = () => new Marks(ix.n, ix.byTag.length, ix.byType.length);
    const decision = marks();
    const listingMarks = marks();
    const disposableMarks = new Marks(ix.n, 0, 0);
    let round = 0;
    runs: for (const { argument, sources } of ix.argumentRuns(args)) {
      const alike = keyed ? new AlikeCallers(ix, keyed) : undefined;
      for (let c = 0; c < ix.n; c++) {
        if (q.enough?.(service)) break runs;
        if (sources && !sources.has(c)) continue;
        const plan = ix.planOf(ix.matching(c), argument);
        if (plan.order.length === 0) continue; // no rule matches: every request is denied
        const f = foci.of(c);
        if (f.list !== undefined && f.list.length === 0) continue;
        if (sources && f.list !== undefined && harmless(ix, plan, f, argument)) continue;
        const stamp = ++round;
        decision.start(stamp);
        listingMarks.start(stamp);
        disposableMarks.start(stamp);
        const members = ix.classes[c].members;
        const alikeKey = alike?.key(c, plan, f);
        if (alikeKey !== undefined && alike!.copy(alikeKey, members[0], out, q.onChannel)) continue;
        const before = out.length;
        channelsOfClass({ q, ix, keyed, service, argument, c, members, rep: members[0], plan, f, decision, listingMarks, disposableMarks, out });
        if (alikeKey !== undefined) alike!.found(alikeKey, members[0], before, out.length);
      }
    }
  }
  return out;
}

/**
 * Callers that get the same channels. With keys, two classes of one qube
 * each, of one key, with the same type and default disposable and in the
 * same focus, whose plans differ only by `allow` and `deny` rules naming a
 * qube neither may reach relevantly (no redirect, no default target), make
 * the same relevant calls: such a rule decides only the call to the qube it
 * names, and adds only that qube to an ask list, where `emit` leaves it out.
 * The first class is analysed; each next one gets its channels with its own
 * qube as the caller, unless calls between two qubes of their key matter
 * (the first one's channels may then reach the next, which cannot call
 * itself). A plan that Qubes' evaluator must list in full
 * (`fails`), or with `autostart=no` or a default target, or a kept rule
 * naming the caller itself, is analysed on its own.
 */
class AlikeCallers {
  private readonly seen = new Map<string, { caller: string; from: number; to: number }>();
  private readonly focusIds = new Map<Focus, number>();

  constructor(
    private readonly ix: ServiceIndex,
    private readonly keyed: Keyed,
  ) {}

  /** The key of class `c`'s channels, or undefined when they are found on their own. */
  key(c: number, plan: { readonly order: readonly number[] }, f: Focus): string | undefined {
    const { ix, keyed } = this;
    const cls = ix.classes[c];
    if (cls.members.length !== 1) return undefined;
    const rep = cls.members[0];
    const ks = keyed.of(rep);
    if (ks < 0) return undefined;
    const kept: number[] = [];
    for (const i of plan.order) {
      const r = ix.rules[i];
      if (r.defaultTarget !== undefined || r.autostart === false || ix.listing.get(i)?.kind === 'fails') return undefined;
      // (Relevance is never asked of a qube and itself: `keyed` remembers each answer for the pair of keys.)
      if (r.target === rep || r.redirect === rep) return undefined;
      const named = !r.target.startsWith('@') && r.target !== '*';
      if (named && r.action !== 'ask' && r.redirect === undefined) {
        const kt = keyed.of(r.target);
        if (kt >= 0 && !keyed.relevant(ks, kt, rep, r.target)) continue;
      }
      kept.push(i);
    }
    let fid = this.focusIds.get(f);
    if (fid === undefined) this.focusIds.set(f, (fid = this.focusIds.size));
    const info = cls.info;
    return `${ks}|${fid}|${info.type}|${info.defaultDispvm ?? ''}|${info.templateForDispvms ? 1 : 0}|${kept.join(',')}`;
  }

  /** Emits, with `caller` as the source, the channels of the class analysed under `key`; false when there is none yet. */
  copy(key: string, caller: string, out: Channel[], onChannel: ((c: Channel) => void) | undefined): boolean {
    const at = this.seen.get(key);
    if (!at) return false;
    // Calls between two qubes of the key that matter: the first caller's channels may reach the next one, which cannot call itself.
    const k0 = this.keyed.of(caller);
    if (this.keyed.relevant(k0, k0, at.caller, caller)) return false;
    for (let k = at.from; k < at.to; k++) {
      const channel: Channel = { ...out[k], sources: [caller] };
      out.push(channel);
      onChannel?.(channel);
    }
    return true;
  }

  /** The channels `out[from, to)` are those of `caller`'s class, analysed under `key`. */
  found(key: string, caller: string, from: number, to: number): void {
    if (!this.seen.has(key)) this.seen.set(key, { caller, from, to });
  }
}

/**
 * Keys as numbers, and `relevant` asked once per pair of keys (the caller
 * promises that it treats the qubes of a key alike).
 */
type Keyed = ReturnType<typeof keyedRelevance>;

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
 * Where a matched `allow` sends a request naming a qube, from a class of
 * callers (`caller` stands for them: only its `default_dispvm` matters):
 * token.ts's {@link allowTarget}, as the evaluator resolves it. No call
 * happens to dom0 (calls to it are Qubes' own), or to a new disposable of a
 * qube that is no disposable template (qubesd refuses to start one). The
 * loopback check is per caller: `emit` leaves each caller out of its own
 * targets.
 */
function resolveAllow(r: QrexecRule, requested: string, caller: string, info: SystemInfo, release: QubesRelease): { name: string; disposable: boolean } | undefined {
  const out = allowTarget(r, requested, caller, info, release);
  if ('refused' in out || out.target === 'dom0') return undefined;
  const template = disposableTemplateOf(out.target);
  if (template === undefined) return { name: out.target, disposable: false };
  return info.domains.get(template)?.templateForDispvms === true ? { name: template, disposable: true } : undefined;
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
