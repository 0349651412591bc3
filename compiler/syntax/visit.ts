/**
 * Generic traversal of the syntax tree: calls `fn` on every node, parents
 * before children, in source order of fields.
 */
import type { Node } from './ast.js';

const SKIP = new Set(['span', 'keySpan', 'modeSpan', 'actionSpan', 'relationSpan', 'decisionSpan']);

export function walk(node: Node, fn: (n: Node) => void): void {
  fn(node);
  const fields = node as unknown as Record<string, unknown>;
  for (const k in fields) {
    const v = fields[k];
    if (v === null || typeof v !== 'object' || SKIP.has(k)) continue;
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c === 'object' && 'kind' in c) walk(c as Node, fn);
    } else if ('kind' in v) {
      walk(v as Node, fn);
    }
  }
}
