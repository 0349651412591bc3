/**
 * The lock file's format (DESIGN §4.7, §5): `POLICY.qpol.lock` beside the
 * policy, JSON of version 1 with the SOCKS ports of `socks dedicated` apps,
 * the listeners qpc adds to Tor gateways and each qube's number. This module
 * knows the text only: where the file is, how it is parsed and printed and
 * where an entry is in it. Whether an entry is one qpc could have written is
 * decided against the policy (passes/check-lock.ts); the file is read in the
 * load stage (passes/read-lock.ts).
 */

/** The lock file's content: `qube/app` → port, the extra listeners per gateway, and each qube's number. */
export interface Lock {
  readonly apps: Readonly<Record<string, number>>;
  readonly listeners: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** qube → qid (the base of its address); older lock files have none. */
  readonly qubes: Readonly<Record<string, number>>;
}

export const emptyLock: Lock = { apps: {}, listeners: {}, qubes: {} };

/**
 * A lock file as read, before passes/check-lock.ts: the three maps, their
 * entries not yet checked.
 */
export interface RawLock {
  readonly apps: Readonly<Record<string, unknown>>;
  readonly listeners: Readonly<Record<string, unknown>>;
  readonly qubes: Readonly<Record<string, unknown>>;
}

/** The lock file of a policy: `POLICY.qpol.lock` beside it. */
export function lockPath(entry: string): string {
  return `${entry}.lock`;
}

/** Whether a JSON value is an object (not an array, not null). */
export const isJsonMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Serializes a lock canonically: sorted keys, two-space JSON, final newline. */
export function lockText(lock: Lock): string {
  const apps = Object.fromEntries(Object.entries(lock.apps).sort(([a], [b]) => (a < b ? -1 : 1)));
  const listeners = Object.fromEntries(
    Object.entries(lock.listeners)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([g, ports]) => [g, Object.fromEntries(Object.entries(ports).sort(([a], [b]) => Number(a) - Number(b)))]),
  );
  const qubes = Object.fromEntries(Object.entries(lock.qubes).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ version: 1, apps, listeners, qubes }, null, 2) + '\n';
}

/**
 * Parses a lock file; returns an error message instead when it is not one
 * (not JSON, not version 1, a section that is not a map). Its entries are
 * checked by passes/check-lock.ts.
 */
export function parseLock(text: string): RawLock | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (!isJsonMap(v) || v.version !== 1) return 'not a version 1 qpc lock file';
  if (!isJsonMap(v.apps)) return '`apps` must map `qube/app` to a port';
  if (!isJsonMap(v.listeners)) return '`listeners` must map gateways to ports';
  if (v.qubes !== undefined && !isJsonMap(v.qubes)) return '`qubes` must map qube names to numbers';
  // Lock files written before qube numbers were recorded have no `qubes`.
  return { apps: v.apps, listeners: v.listeners, qubes: v.qubes ?? {} };
}

/** Where an entry is in the text: its key and its value, as offsets `[start, end)`. */
export interface EntrySpans {
  readonly key: readonly [number, number];
  readonly value: readonly [number, number];
}

/**
 * The span of every key and value of a lock file, by its path of keys joined
 * with NUL (`apps\0chat/ssh`; array elements by index). The text is valid
 * JSON (it parsed); as with `JSON.parse`, the last of duplicate keys counts.
 */
export function lockEntrySpans(text: string): Map<string, EntrySpans> {
  const out = new Map<string, EntrySpans>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string[]): void => {
    ws();
    if (text[i] === '{' || text[i] === '[') {
      const object = text[i++] === '{';
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === '}' || text[i] === ']') break;
        if (n > 0) {
          i++; // ','
          ws();
        }
        let key = String(n);
        const keyStart = i;
        if (object) {
          key = str();
        }
        const keyEnd = i;
        if (object) {
          ws();
          i++; // ':'
          ws();
        }
        const valueStart = i;
        const inner = [...path, key];
        value(inner);
        out.set(inner.join('\0'), { key: [keyStart, object ? keyEnd : i], value: [valueStart, i] });
      }
      i++;
      return;
    }
    if (text[i] === '"') str();
    else while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
  };
  value([]);
  return out;
}
