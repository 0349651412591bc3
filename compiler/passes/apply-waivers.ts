/**
 * Waivers (DESIGN §3): `because "…"` on the rule that causes a finding and
 * `waive CODE on NAME because "…"`, weighed by the code's waiver class
 * (codes.ts). Emits QP2021 (a waiver that matches nothing) and QP2025 (a
 * waiver of a code that is never waived).
 */
import { isCode, waiverClass } from '../diagnostics/codes.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Program } from '../program.js';
import { substitute } from './names.js';

/** Why a `never` finding is not waived, for QP2025's help. */
const NEVER_HELP = 'qpc never waives this finding: it means the artifacts would be wrong, unsafe to install or unlike what the check proves; fix what it names';

/**
 * Applies the waivers to the diagnostics of every stage. An accepted error
 * becomes a warning and an accepted warning a note, each quoting the reason.
 * An `explicit` finding is accepted only when its code is in `allowed`
 * (`--allow-waived CODE`); otherwise it keeps its severity and a note says
 * what the waiver needs. A `never` finding keeps its severity, and a `waive`
 * naming its code is an error (QP2025); a waiver that matches nothing is
 * reported (QP2021).
 */
export function applyWaivers(program: Program, ds: readonly Diagnostic[], allowed: ReadonlySet<string> = new Set()): Diagnostic[] {
  const used = new Set<number>();
  const out = ds.map((d) => {
    const { because, ...finding } = d;
    let reason = because;
    if (d.subject !== undefined && program.waives.length > 0) {
      const i = program.waives.findIndex((w) => w.code.text === d.code && substitute(w.subject.text, program.settings.whonix) === d.subject);
      if (i >= 0 && waiverClass(d.code) !== 'never') {
        used.add(i);
        reason ??= program.waives[i].reason.value;
      }
    }
    return reason === undefined ? finding : waive(finding, reason, allowed);
  });
  program.waives.forEach((w, i) => {
    const code = w.code.text;
    if (!isCode(code)) return; // QP2020, reported by check-rules
    if (waiverClass(code) === 'never') out.push(diag('QP2025', w.code.span, { code }, { label: 'never waived', help: NEVER_HELP }));
    else if (!used.has(i)) out.push(diag('QP2021', w.subject.span, { code, name: w.subject.text }, { help: 'remove the waiver if the finding is gone' }));
  });
  return out;
}

/** One finding under a waiver's reason. */
function waive(d: Diagnostic, reason: string, allowed: ReadonlySet<string>): Diagnostic {
  const cls = waiverClass(d.code);
  if (cls === 'never') return d;
  if (cls === 'explicit' && !allowed.has(d.code)) {
    const note = `the policy waives this ("${reason}"), but ${d.code} is critical for anonymity: the waiver counts only with \`--allow-waived ${d.code}\` on the command line`;
    return { ...d, notes: [...d.notes, note] };
  }
  return { ...d, severity: d.severity === 'error' ? 'warning' : 'info', waivedBecause: reason };
}
