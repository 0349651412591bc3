/**
 * The lock file's format: canonical text, parsing that refuses what is not a
 * version 1 lock, and the span of every entry for the findings at it.
 */
import test from 'ava';
import { emptyLock, lockEntrySpans, lockPath, lockText, parseLock } from '../../../compiler/lock-file.js';

test('lock files round-trip in one canonical text and bad ones are refused', (t) => {
  const lock = { apps: { 'q/b': 9153, 'q/a': 9152 }, listeners: { gw: { '9231': ['client-protocol'], '9112': [] } }, qubes: { q: 2, gw: 1 } };
  const text = lockText(lock);
  t.deepEqual(parseLock(text), { apps: { 'q/a': 9152, 'q/b': 9153 }, listeners: { gw: { '9112': [], '9231': ['client-protocol'] } }, qubes: { gw: 1, q: 2 } });
  t.is(lockText(parseLock(text) as never), text);
  t.true(text.endsWith('}\n'));
  t.is(lockText(emptyLock), '{\n  "version": 1,\n  "apps": {},\n  "listeners": {},\n  "qubes": {}\n}\n');
  // Lock files written before qube numbers were recorded still read.
  t.deepEqual(parseLock('{"version": 1, "apps": {}, "listeners": {}}'), { apps: {}, listeners: {}, qubes: {} });
  t.regex(parseLock('{') as string, /not JSON/);
  t.regex(parseLock('{"version": 2}') as string, /version 1/);
  t.regex(parseLock('[]') as string, /version 1/);
  // A section that is not a map makes the file unusable; a bad entry is checked at the entry (passes/check-lock.ts).
  t.regex(parseLock('{"version": 1, "apps": [], "listeners": {}}') as string, /apps/);
  t.regex(parseLock('{"version": 1, "apps": {}, "listeners": null}') as string, /listeners/);
  t.regex(parseLock('{"version": 1, "apps": {}, "listeners": {}, "qubes": 3}') as string, /qubes/);
  t.deepEqual(parseLock('{"version": 1, "apps": {"a/b": 70000}, "listeners": {}}'), { apps: { 'a/b': 70000 }, listeners: {}, qubes: {} });
});

test("a policy's lock file is beside it", (t) => {
  t.is(lockPath('dir/p.qpol'), 'dir/p.qpol.lock');
});

test('every key and value has its span, the last of duplicate keys counting', (t) => {
  const text = '{ "version": 1,\n  "apps": { "q/a": 9152, "q/\\"b": 9153, "q/a": 22 },\n  "listeners": { "gw": { "9112": ["client-protocol", "dest-addr"] } } }';
  const spans = lockEntrySpans(text);
  const at = (path: string, on: 'key' | 'value') => {
    const s = spans.get(path.split('/').join('\0'))?.[on];
    return s && text.slice(s[0], s[1]);
  };
  const app = (key: string, on: 'key' | 'value') => {
    const s = spans.get(`apps\0${key}`)?.[on];
    return s && text.slice(s[0], s[1]);
  };
  t.is(app('q/a', 'key'), '"q/a"');
  t.is(app('q/a', 'value'), '22');
  t.is(app('q/"b', 'value'), '9153');
  t.is(at('listeners/gw/9112', 'value'), '["client-protocol", "dest-addr"]');
  t.is(at('listeners/gw/9112/1', 'value'), '"dest-addr"');
  t.is(at('version', 'value'), '1');
});
