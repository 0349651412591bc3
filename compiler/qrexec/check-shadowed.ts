/**
 * Rules that never decide (DESIGN §4.5): a rule of the user's that one
 * earlier rule matches every request of first (QP3033), and stock rules a
 * rule of the user's makes unreachable (QP3034). "Every request" is judged
 * over the declared qubes.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import type { ClosedPolicy } from './close-identities.js';
import { disposableTemplateOf, dispvmOf, isKeyword, ruleTokens, tagToken, takesQube, typeToken, type Token } from './token.js';
import { ruleText, ruleWhere } from './query.js';
import type { QrexecRule, QubesRelease, SystemInfo } from './types.js';
import type { Context } from './identities.js';

/** Stands for every new disposable in a column's set (what `*` and `@anyvm` take). */
const ANY_DISPOSABLE = dispvmOf('*');

/** The requests a column can receive, as names (qubes plus the request tokens). */
function columnSet(tok: Token, info: SystemInfo, column: 'source' | 'target', tagged: () => ReadonlyMap<string, readonly string[]>): Set<string> | 'all' {
  if (tok.kind === 'any') return 'all';
  // A qube's name matches that qube only (dom0's aliases go the general way).
  if (tok.kind === 'name' && !tok.dom0) {
    const d = info.domains.get(tok.text);
    return new Set(d !== undefined && takesQube(tok, d, column) ? [tok.text] : []);
  }
  // A tag or a type: its qubes, in the order of the system's qubes.
  if (tok.kind === 'tag' || tok.kind === 'type') return new Set(tagged().get(tok.kind === 'tag' ? tagToken(tok.value) : typeToken(tok.value)) ?? []);
  const out = new Set<string>();
  for (const d of info.domains.values()) if (takesQube(tok, d, column)) out.add(d.name);
  if (column === 'target') {
    if (tok.kind === 'anyvm') ['@default', '@dispvm', ANY_DISPOSABLE].forEach((x) => out.add(x));
    if (tok.kind === 'default' || tok.kind === 'dispvm' || tok.kind === 'dispvm-of' || tok.kind === 'dispvm-tag') out.add(tok.text);
    if (tok.dom0) ['@adminvm', 'dom0'].forEach((x) => out.add(x));
  }
  return out;
}

/** Above this many qubes, a rule's source is not indexed qube by qube. */
const MANY = 64;

function covers(a: Set<string> | 'all', b: Set<string> | 'all'): boolean {
  // Sets are made once per token: the same token is the same set.
  if (a === 'all' || a === b) return true;
  if (b === 'all' || b.size > a.size + (a.has(ANY_DISPOSABLE) ? b.size : 0)) return false;
  for (const x of b) {
    if (a.has(x)) continue;
    if (disposableTemplateOf(x) !== undefined && a.has(ANY_DISPOSABLE)) continue;
    return false;
  }
  return true;
}

/**
 * For each rule, the earliest rule before it that matches every request it
 * matches (one rule alone: a rule that only a union of earlier rules covers
 * is not found), or -1. "Every request" is judged over the qubes of `info`;
 * a rule that matches none of them is inapplicable here, not covered.
 * `plain(token)`: the token names one qube (a rule of plain names in both
 * columns covers only its own duplicates, so it is not indexed as a cover).
 */
export function coveringRules(rules: readonly QrexecRule[], info: SystemInfo, release: QubesRelease, plain: (token: string) => boolean): Int32Array {
  const memo = new Map<string, Set<string> | 'all'>();
  let byTagOrType: Map<string, string[]> | undefined;
  const tagged = () => {
    if (byTagOrType) return byTagOrType;
    const m = (byTagOrType = new Map<string, string[]>());
    const add = (k: string, name: string) => {
      const l = m.get(k);
      if (l) l.push(name);
      else m.set(k, [name]);
    };
    for (const d of info.domains.values()) {
      add(typeToken(d.type), d.name);
      for (const t of d.tags) add(tagToken(t), d.name);
    }
    return m;
  };
  const set = (tok: Token, column: 'source' | 'target') => {
    const key = `${column}|${tok.text}`;
    let v = memo.get(key);
    if (v === undefined) memo.set(key, (v = columnSet(tok, info, column, tagged)));
    return v;
  };
  const sets = rules.map((r) => {
    const t = ruleTokens(r, release);
    return { src: set(t.source, 'source'), tgt: set(t.target, 'target') };
  });
  // Earlier rules that match more than one exact request, indexed by the qubes their source
  // matches: a rule can only be covered by one whose source includes its own first qube.
  const broadBySource = new Map<string, number[]>();
  /** Those whose source is every qube or many, by service (`*` apart). */
  const broadAnySource = new Map<string, number[]>();
  const exact = new Map<string, number>();
  const out = new Int32Array(rules.length).fill(-1);
  for (let j = 0; j < rules.length; j++) {
    const r = rules[j];
    let by: number | undefined;
    const key = `${r.service}|${r.argument}|${r.source}|${r.target}`;
    const e = exact.get(key);
    if (e !== undefined) by = e;
    else {
      const own = sets[j].src;
      const tgt = sets[j].tgt;
      const empty = (own !== 'all' && own.size === 0) || (tgt !== 'all' && tgt.size === 0);
      if (!empty) {
        const a = own === 'all' ? undefined : broadBySource.get(own.values().next().value as string);
        const b = broadAnySource.get(r.service);
        const c = r.service === '*' ? undefined : broadAnySource.get('*');
        // Each list ascends: the first cover in each is its earliest, and the earliest of those wins.
        for (const list of [a, b, c]) {
          if (list === undefined) continue;
          for (const i of list) {
            if (by !== undefined && i >= by) break;
            const p = rules[i];
            if (p.service !== '*' && p.service !== r.service) continue;
            if (p.argument !== '*' && p.argument !== r.argument) continue;
            if (covers(sets[i].src, own) && covers(sets[i].tgt, tgt)) {
              by = i;
              break;
            }
          }
        }
      }
    }
    if (by !== undefined) out[j] = by;
    if (!exact.has(key)) exact.set(key, j);
    if (!(plain(r.source) && plain(r.target))) {
      const src = sets[j].src;
      // A source of many qubes is listed with those of every qube (one list, not one per qube).
      if (src === 'all' || src.size > MANY) {
        const l = broadAnySource.get(r.service);
        if (l) l.push(j);
        else broadAnySource.set(r.service, [j]);
      } else
        for (const q of src) {
          const l = broadBySource.get(q);
          if (l) l.push(j);
          else broadBySource.set(q, [j]);
        }
    }
  }
  return out;
}

/**
 * Rules that can never fire because one earlier rule matches every request
 * they match (QP3033), and stock rules one of ours makes unreachable (QP3034).
 * "Every request" is judged over the declared qubes.
 */
function reportShadowed(cx: Context, rules: readonly QrexecRule[], ctx: Reporter): void {
  const plain = (t: string) => !isKeyword(t) && cx.program.decls.get(t)?.form !== 'identity';
  const covering = coveringRules(rules, cx.info, cx.program.settings.qubes, plain);
  /** Stock rules each of our rules makes unreachable. */
  const victims = new Map<number, number[]>();
  for (let j = 0; j < rules.length; j++) {
    const by = covering[j];
    if (by < 0) continue;
    const r = rules[j];
    const p = rules[by];
    if (!r.origin.stock && !r.origin.generated) {
      const help = p.origin.generated === undefined ? 'remove the rule, or move it before the one that covers it' : `qpc generated that rule (it ${p.origin.generated}); move yours to a file dom0 reads before ${p.origin.policyFile}.policy`;
      ctx.report(diag('QP3033', r.origin.span, { rule: ruleText(r) }, { related: [{ span: p.origin.span, message: `\`${ruleText(p)}\` in ${ruleWhere(p)} matches every request first` }], help }));
    } else if (r.origin.stock && !p.origin.stock && !p.origin.generated && p.origin.because === undefined) {
      const list = victims.get(by) ?? [];
      list.push(j);
      victims.set(by, list);
    }
  }
  for (const [by, list] of victims) {
    const p = rules[by];
    const first = rules[list[0]];
    ctx.report(
      diag('QP3034', p.origin.span, { kind: list.length === 1 ? 'one' : 'many', count: list.length, stock: ruleText(first), file: `${first.origin.policyFile}.policy` }, {
        related: list.slice(0, 5).map((j) => ({ span: rules[j].origin.span, message: `\`${ruleText(rules[j])}\` of ${rules[j].origin.policyFile}.policy never applies` })),
        ...(list.length > 5 ? { notes: [`and ${list.length - 5} more stock rules`] } : {}),
        help: 'if that is intended, say so with `because "…"` on your rule',
      }),
    );
  }
}

/** QP3033, QP3034 over the complete policy. */
export function checkShadowed(closed: ClosedPolicy, ctx: Reporter): void {
  reportShadowed(closed.cx, closed.policy.rules, ctx);
}
