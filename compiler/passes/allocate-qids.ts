/**
 * Stable qube numbers (the base of each qube's address, reference xen.md
 * §1.2), recorded in the lock file beside the SOCKS ports. Reports nothing:
 * the lock's numbers were checked before (check-lock.ts).
 */
import type { PolicyGraph } from '../graph/policy-graph.js';

/** The largest qid whose address `10.137.x.y` Qubes can form (`vmid_to_ipv4`, reference xen.md §1.2). */
export const MAX_QID = 254 * 254 - 1;

/**
 * Every qube's number: dom0 is 0; a qube keeps the number the lock gives
 * it; new qubes take the lowest free numbers in name order, so adding or
 * removing one qube never renumbers another.
 */
export function allocateQids(g: PolicyGraph, previous: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  const taken = new Set<number>([0]);
  const names = g.allFacts().map((f) => f.decl.name).sort();
  const fresh: string[] = [];
  for (const name of names) {
    const d = g.facts(name)!.decl;
    if (d.form === 'adminvm') {
      out[name] = 0;
      continue;
    }
    const q = previous[name];
    if (q !== undefined && q > 0 && !taken.has(q)) {
      out[name] = q;
      taken.add(q);
    } else fresh.push(name);
  }
  let next = 1;
  for (const name of fresh) {
    while (taken.has(next)) next++;
    out[name] = next;
    taken.add(next);
  }
  return out;
}
