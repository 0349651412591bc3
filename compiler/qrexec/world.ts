/**
 * The machine the proof reasons about (DESIGN §4.2–4.3): not only the qubes a
 * policy declares, but every qube a real dom0 may have while the policy is in
 * force. qrexec decides by type, tags and power state as much as by name, so
 * a rule whose other side is a tag, a type or `@anyvm` reaches qubes nobody
 * declared. The analysis therefore runs over the declared qubes plus stand-ins:
 *
 * - **running disposables** of every declared disposable template: type
 *   DispVM, the template's tags (qubes-core-admin copies them) and its
 *   `default_dispvm` when it is set on the template (Qubes copies only set
 *   values), else the template itself (a DispVM's own default);
 *   they belong to the template's identity;
 * - **qubes outside the policy**: for each type a rule can tell apart
 *   (AppVM, and every `@type:` a rule names), one without tags and one per
 *   tag a rule names (other than qpc's own `identity-*` tags, which
 *   provisioning gives only to declared qubes), and disposable templates of
 *   their own with those tags. They belong to no identity. Their default
 *   disposable is none of the policy's: no policy rule can tell a caller by
 *   its `default_dispvm`, so a qube outside the policy that opened its
 *   disposables in a Tor identity's template would be a channel qpc cannot
 *   close; provisioning refuses such a machine instead (README, "What the
 *   proof assumes").
 *
 * And every qube counts as running: a call with `no-autostart` succeeds when
 * its target runs, and a channel exists if a call succeeds in any power state.
 *
 * One tag per stand-in is enough for any single first-match decision: the
 * first rule that matches a qube with tags S matches through one tag of S
 * (or none), and a qube with only that tag meets the same rule first. What a
 * combination of tags on one outside qube could add to an ask dialog that
 * the qube opens itself is not covered; the README says so.
 */
import type { DomainInfo, QrexecRule, SystemInfo } from './types.js';
import { tokenShape } from './token.js';

/** What a stand-in qube stands for. */
export type StandIn =
  | { readonly kind: 'disposable'; readonly template: string }
  | { readonly kind: 'outside'; readonly type: string; readonly tag?: string; readonly dispvmTemplate?: boolean };

export interface World {
  /** Declared qubes (all running) and stand-ins. */
  readonly info: SystemInfo;
  /** The stand-ins by name; a name no declared qube can have. */
  readonly standIns: ReadonlyMap<string, StandIn>;
}

/** Stand-in names start with a character no qube name has, so they never meet a declared name or a token. */
const MARK = '~';

export function isStandIn(name: string): boolean {
  return name.startsWith(MARK);
}

/** Types a qube outside the policy may have (dom0 is the only AdminVM). */
const TYPES = ['AppVM', 'DispVM', 'StandaloneVM', 'TemplateVM'] as const;

/** Tags qpc reserves for the qubes of an identity (see lower.ts `identityTag`). */
function reserved(tag: string): boolean {
  return tag.startsWith('identity-');
}

/** Tags and types the rules name, in any column. */
function named(rules: readonly QrexecRule[]): { tags: Set<string>; types: Set<string> } {
  const tags = new Set<string>();
  const types = new Set<string>();
  const add = (t: string | undefined) => {
    if (t === undefined) return;
    const shape = tokenShape(t);
    if (shape.kind === 'dispvm-tag' || shape.kind === 'tag') tags.add(shape.value);
    else if (shape.kind === 'type') types.add(shape.value);
  };
  for (const r of rules) {
    add(r.source);
    add(r.target);
    add(r.redirect);
    add(r.defaultTarget);
  }
  return { tags, types };
}

const running = new WeakMap<SystemInfo, SystemInfo>();

/** The same qubes, every one running (memoized per system). */
export function allRunning(info: SystemInfo): SystemInfo {
  let r = running.get(info);
  if (!r) {
    r = { domains: new Map([...info.domains].map(([n, d]) => [n, d.running === true ? d : { ...d, running: true }])) };
    running.set(info, r);
  }
  return r;
}

/**
 * The world of a policy: `declared` (the system info provisioning makes
 * true) with every qube running, plus the stand-ins for what else a dom0 may
 * hold.
 */
export function worldOf(declared: SystemInfo, rules: readonly QrexecRule[]): World {
  const domains = new Map<string, DomainInfo>(allRunning(declared).domains);
  const standIns = new Map<string, StandIn>();
  const put = (name: string, d: Omit<DomainInfo, 'name' | 'running'>, s: StandIn) => {
    domains.set(name, { name, ...d, running: true });
    standIns.set(name, s);
  };
  const templates = [...declared.domains.values()].filter((d) => d.templateForDispvms).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const t of templates) {
    // Qubes copies the template's features to its disposables (`internal` among them).
    // Its default disposable: the template's, when set on it; else Qubes' DispVM default, the template.
    const dd = t.defaultDispvmIsDefault ? t.name : t.defaultDispvm;
    put(`${MARK}disposable of ${t.name}`, { type: 'DispVM', tags: t.tags, defaultDispvm: dd, templateForDispvms: false, ...(t.internal !== undefined ? { internal: t.internal } : {}) }, { kind: 'disposable', template: t.name });
  }
  const { tags, types } = named(rules);
  const kinds = TYPES.filter((t) => t === 'AppVM' || types.has(t));
  const tagList = [...tags].filter((t) => !reserved(t)).sort();
  for (const type of kinds) {
    put(`${MARK}${type} outside the policy`, { type, tags: [], defaultDispvm: null, templateForDispvms: false }, { kind: 'outside', type });
    for (const tag of tagList) put(`${MARK}${type} outside the policy tagged ${tag}`, { type, tags: [tag], defaultDispvm: null, templateForDispvms: false }, { kind: 'outside', type, tag });
  }
  // Disposable templates outside the policy (Whonix's own workstation one, say), with each tag.
  put(`${MARK}disposable template outside the policy`, { type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: true }, { kind: 'outside', type: 'AppVM', dispvmTemplate: true });
  for (const tag of tagList) {
    put(`${MARK}disposable template outside the policy tagged ${tag}`, { type: 'AppVM', tags: [tag], defaultDispvm: null, templateForDispvms: true }, { kind: 'outside', type: 'AppVM', tag, dispvmTemplate: true });
  }
  return { info: { domains }, standIns };
}

/** How a stand-in reads in a message: `a running disposable of \`anon-dvm\``, `any qube outside the policy tagged \`personal\``. */
export function describeStandIn(s: StandIn): string {
  if (s.kind === 'disposable') return `a running disposable of \`${s.template}\``;
  const what = s.dispvmTemplate ? 'a disposable template' : s.type === 'AppVM' ? 'a qube' : `a ${s.type}`;
  return `${what} outside the policy${s.tag !== undefined ? ` tagged \`${s.tag}\`` : ''}`;
}
