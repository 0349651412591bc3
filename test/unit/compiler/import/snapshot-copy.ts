/**
 * A copy of a recorded snapshot in a temporary directory with files added,
 * replaced or removed, and its manifest (`files.sha256`, `state.sha256`)
 * written again as the script writes it, so that the reader takes it whole.
 */
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sha256 } from '../../../../compiler/hash.js';

export function snapshotCopy(from: string, changes: Readonly<Record<string, string | undefined>>): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'qpc-import-')), 'snapshot');
  cpSync(from, dir, { recursive: true });
  const manifest = new Map<string, string>();
  for (const l of readFileSync(path.join(dir, 'files.sha256'), 'utf8').split('\n')) if (l !== '') manifest.set(l.slice(66), l.slice(0, 64));
  for (const [rel, text] of Object.entries(changes)) {
    const p = path.join(dir, rel);
    if (text === undefined) {
      rmSync(p, { force: true });
      manifest.delete(rel);
      continue;
    }
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    manifest.set(rel, sha256(text));
  }
  const files = [...manifest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, h]) => `${h}  ${p}\n`).join('');
  writeFileSync(path.join(dir, 'files.sha256'), files);
  writeFileSync(path.join(dir, 'state.sha256'), `${sha256(files)}\n`);
  return dir;
}
