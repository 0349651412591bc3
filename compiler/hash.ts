/** The sha256 of a text, as `manifest.json`, the standard library's tree cache and provisioning write it. */
import { createHash } from 'node:crypto';

/** Lowercase hex sha256 of `text` encoded as UTF-8. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
