/**
 * Deep freezing for tests of code that must treat its input as read-only:
 * every object and array reachable from the value is frozen, and every Map
 * and Set gets mutators that throw, so a write anywhere fails loudly.
 */

function refuse(what: string): () => never {
  return () => {
    throw new TypeError(`${what} of a deep-frozen value`);
  };
}

/** Freezes `value` and everything reachable from it, in place; returns it. */
export function deepFreeze<T>(value: T, seen: Set<unknown> = new Set()): T {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return value;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k, seen);
      deepFreeze(v, seen);
    }
    Object.defineProperties(value, { set: { value: refuse('Map.set') }, delete: { value: refuse('Map.delete') }, clear: { value: refuse('Map.clear') } });
  } else if (value instanceof Set) {
    for (const v of value) deepFreeze(v, seen);
    Object.defineProperties(value, { add: { value: refuse('Set.add') }, delete: { value: refuse('Set.delete') }, clear: { value: refuse('Set.clear') } });
  }
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key);
    if (d && 'value' in d) deepFreeze(d.value, seen);
  }
  return Object.freeze(value);
}
