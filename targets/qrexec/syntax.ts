/**
 * What a qrexec policy line may contain, per Qubes release: the character
 * allow-lists and the token classes each column accepts. Shared by the
 * target's check (which reports) and its emitter (which refuses to write
 * anything that fails them). Facts from qubes-core-qrexec
 * `qrexec/policy/parser.py` (v4.2.25, v4.3.12) and reference §1.2–1.4, §1.8.
 */
import type { QubesRelease } from '../../compiler/qrexec/types.js';
import { nameFault, writeFault, type TokenFault } from '../../compiler/qrexec/token.js';

export { ARGUMENT, COMMENT_TEXT, DOM0_UUID, isQubeName, MAX_DESCRIPTOR, POLICY_FILE, qubeClasses, SERVICE, TAG, USER } from '../../compiler/qrexec/token.js';

/**
 * The columns a qube token can stand in: the rule's source (3rd) and target
 * (4th) columns, and the `target=`/`default_target=` parameters.
 */
export type Column = 'source' | 'target' | 'redirect';

/** Why a token cannot be written: QP4002 for a value outside the allow-lists, QP4001 for a well-formed token this column or release does not take. */
export interface TokenProblem {
  readonly code: 'QP4001' | 'QP4002';
  /** For QP4002: what the value is (`qube name`, `tag` …). For QP4001: the whole phrase. */
  readonly what: string;
}

const columnWords: Record<Column, string> = {
  source: 'in the source column',
  target: 'in the target column',
  redirect: 'as a `target=`/`default_target=` value',
};

/**
 * Checks one qube token for a column and release (token.ts `writeFault`:
 * Qubes' column table, the character rules, and no token that can never
 * match there). Returns undefined when Qubes' parser of that release reads
 * it as the checker evaluated it.
 */
export function tokenProblem(token: string, column: Column, release: QubesRelease): TokenProblem | undefined {
  return problemOf(token, column, writeFault(token, column, release));
}

function problemOf(token: string, column: Column, f: TokenFault | undefined): TokenProblem | undefined {
  if (f === undefined) return undefined;
  switch (f.fault) {
    case 'value':
      return { code: 'QP4002', what: f.what };
    case 'release':
      return { code: 'QP4001', what: f.why };
    case 'unknown':
      return { code: 'QP4001', what: `\`${token}\`, which no Qubes release knows as a token` };
    case 'column':
      return { code: 'QP4001', what: `\`${token}\` ${columnWords[column]}` };
  }
}

/** Why a name is not a qube name of this release: QP4001 for a 4.3 name on 4.2, else QP4002. */
export function nameProblem(name: string, release: QubesRelease, what: string): TokenProblem {
  return problemOf(name, 'source', nameFault(name, release, what))!;
}

/** Which parameters each action takes (`Allow`, `Ask`, `Deny` constructors in parser.py; reference §1.4). */
export const paramsOf: Record<'allow' | 'ask' | 'deny', readonly string[]> = {
  allow: ['target', 'user', 'notify', 'autostart'],
  ask: ['target', 'default_target', 'user', 'notify', 'autostart'],
  deny: ['notify'],
};

/** Shows a value in a message with control and non-ASCII characters made visible. */
export function visible(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c > 0x7e) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out;
}
