/**
 * The snapshot barrel: the reader and the dom0 script of docs/snapshot.md,
 * each exactly the function its own module defines, and the public API
 * exporting the same ones.
 */
import test from 'ava';
import * as barrel from '../../../../compiler/snapshot/index.js';
import * as read from '../../../../compiler/snapshot/read.js';
import * as script from '../../../../compiler/snapshot/script.js';
import * as api from '../../../../compiler/index.js';

const promised = ['DEVICE_CLASSES', 'SNAPSHOT_FORMAT', 'ownedLine', 'parseOwnership', 'readSnapshot', 'readSystemInfo', 'readSystemInfoFile', 'snapshotScript', 'systemInfoFromJson', 'systemInfoOf'] as const;

test('the barrel exports the reader and the script, and nothing else', (t) => {
  t.deepEqual(Object.keys(barrel).sort(), [...promised]);
});

test('every export is the defining module\'s own value', (t) => {
  t.is(barrel.readSnapshot, read.readSnapshot);
  t.is(barrel.parseOwnership, read.parseOwnership);
  t.is(barrel.ownedLine, read.ownedLine);
  t.is(barrel.readSystemInfoFile, read.readSystemInfoFile);
  t.is(barrel.readSystemInfo, read.readSystemInfo);
  t.is(barrel.systemInfoOf, read.systemInfoOf);
  t.is(barrel.systemInfoFromJson, read.systemInfoFromJson);
  t.is(barrel.SNAPSHOT_FORMAT, read.SNAPSHOT_FORMAT);
  t.is(barrel.DEVICE_CLASSES, read.DEVICE_CLASSES);
  t.is(barrel.snapshotScript, script.snapshotScript);
});

test('the public API exports the same values (`qpc snapshot` reads them there)', (t) => {
  for (const name of promised) t.is((api as Record<string, unknown>)[name], barrel[name], name);
});
