/** The snapshot script (collect.sh): POSIX sh, stock dom0 tools only, read-only. */
import { collectText } from './collect-text.js';

/** The text `qpc snapshot` writes: run in dom0 as `sh snapshot.sh [--start-gateways] DIR`. */
export function snapshotScript(): string {
  return collectText;
}
