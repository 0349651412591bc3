/**
 * What a qrexec policy line may contain, per Qubes release: the character
 * allow-lists and the token classes each column accepts. Shared by the
 * target's check (which reports) and its emitter (which refuses to write
 * anything that fails them). Facts from qubes-core-qrexec
 * `qrexec/policy/parser.py` (v4.2.25, v4.3.12) and reference §1.2–1.4, §1.8.
 */
import type { QubesRelease } from '../../compiler/qrexec/types.js';
import { qubeNameSyntaxOf } from '../../compiler/qubes-values.js';

/**
 * A service name: qrexec's `RPCNAME_ALLOWED_CHARSET` without `+` (reference
 * §1.2); at most 255 characters, the longest service name qrexec executes
 * (`libqrexec/exec.c`, `NAME_MAX`).
 */
export const SERVICE = /^[A-Za-z0-9._-]{1,255}$/;

/** An argument: `+` then `RPCNAME_ALLOWED_CHARSET` (inner `+` allowed, `+` alone is the empty argument). */
export const ARGUMENT = /^\+[A-Za-z0-9._+-]*$/;

/** A call descriptor (`SERVICE+ARG`) is at most 65000 bytes (`libqrexec/qrexec.h`, `MAX_SERVICE_NAME_LEN`). */
export const MAX_DESCRIPTOR = 65000;

/** Qube names (qubesd `validate_name`, reference §1.8): R4.2 without dots, R4.3+ with. */

/** Tags (qubesd `Tags.validate_tag`, reference §1.8). */
export const TAG = /^[A-Za-z0-9_-]+$/;

/** `user=` values: qubesd's `default_user` characters (reference §1.4). */
export const USER = /^[A-Za-z0-9_+,.-]+$/;

/** Policy file names: `[0-9a-z_.-]` for dom0, no dot for the policy admin API (reference §1.1); qpc adds the `NN-` order prefix. */
export const POLICY_FILE = /^[0-9]{2}-[0-9a-z_-]{1,60}$/;

/** Text inside a comment: printable ASCII, so that nothing can end the comment line (Python reads `\r` as a line break too). */
export const COMMENT_TEXT = /^[\x20-\x7e]*$/;

/** dom0's UUID token, which R4.3+ reads as dom0 (`is_dom0`, reference §1.3). */
export const DOM0_UUID = 'uuid:00000000-0000-0000-0000-000000000000';

/** Qube classes `@type:` can name (reference §1.3): R4.3+ adds RemoteVM. */
export function qubeClasses(release: QubesRelease): readonly string[] {
  const base = ['AdminVM', 'AppVM', 'TemplateVM', 'StandaloneVM', 'DispVM'];
  return release === '4.2' ? base : [...base, 'RemoteVM'];
}

/** Whether a string is a qube name Qubes accepts in this release. */
export function isQubeName(name: string, release: QubesRelease): boolean {
  return qubeNameSyntaxOf(release).test(name);
}

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
 * The token classes of parser.py and the columns they are declared for
 * (class inheritance from `Source`, `Target`, `Redirect`). `@dispvm:Q` and
 * `@dispvm:@tag:T` parse as sources too but never match a caller, since
 * disposables call with their own names (reference §1.3): qpc writes no rule
 * that cannot match, so they are refused there.
 */
const columnsOf: Record<string, readonly Column[]> = {
  '*': ['source', 'target'],
  '@anyvm': ['source', 'target'],
  '@adminvm': ['source', 'target', 'redirect'],
  '@default': ['target'],
  '@dispvm': ['target', 'redirect'],
  '@dispvm:': ['target', 'redirect'],
  '@dispvm:@tag:': ['target'],
  '@tag:': ['source', 'target'],
  '@type:': ['source', 'target'],
  name: ['source', 'target', 'redirect'],
};

/**
 * Checks one qube token for a column and release. Returns undefined when
 * Qubes' parser of that release reads it as the checker evaluated it.
 */
export function tokenProblem(token: string, column: Column, release: QubesRelease): TokenProblem | undefined {
  const notHere = (shown: string): TokenProblem => ({ code: 'QP4001', what: `\`${shown}\` ${columnWords[column]}` });
  const within = (kind: string): TokenProblem | undefined => (columnsOf[kind].includes(column) ? undefined : notHere(token));

  if (token === '*' || token === '@anyvm' || token === '@adminvm' || token === '@default' || token === '@dispvm') return within(token);
  if (token.startsWith('@dispvm:@tag:')) {
    if (!TAG.test(token.slice(13))) return { code: 'QP4002', what: 'tag' };
    return within('@dispvm:@tag:');
  }
  if (token.startsWith('@dispvm:')) {
    if (!isQubeName(token.slice(8), release)) return nameProblem(token.slice(8), release, 'disposable template name');
    return within('@dispvm:');
  }
  if (token.startsWith('@tag:')) {
    if (!TAG.test(token.slice(5))) return { code: 'QP4002', what: 'tag' };
    return within('@tag:');
  }
  if (token.startsWith('@type:')) {
    const cls = token.slice(6);
    if (!/^[A-Za-z]+$/.test(cls)) return { code: 'QP4002', what: 'qube class' };
    // A class this release does not have parses, but matches nothing (`TypeVM.match`).
    if (!qubeClasses(release).includes(cls)) return { code: 'QP4001', what: `\`${token}\` on Qubes ${release}, which has no qube class \`${cls}\`` };
    return within('@type:');
  }
  if (token.startsWith('uuid:')) {
    // R4.2 reads `uuid:…` as the name of a qube that cannot exist; R4.3+ looks
    // the UUID up, which the checker models only for dom0's.
    if (!/^uuid:[0-9a-f-]{1,36}$/.test(token)) return { code: 'QP4002', what: 'UUID token' };
    if (release === '4.2') return { code: 'QP4001', what: `\`${token}\` on Qubes 4.2 (\`uuid:\` tokens exist from Qubes 4.3 on)` };
    if (token !== DOM0_UUID) return { code: 'QP4001', what: `\`${token}\`: a qube UUID the checker cannot resolve (only dom0's UUID is known)` };
    return within('name');
  }
  if (token.startsWith('@')) {
    if (!/^@[A-Za-z0-9_:.-]*$/.test(token)) return { code: 'QP4002', what: 'qrexec token' };
    return { code: 'QP4001', what: `\`${token}\`, which no Qubes release knows as a token` };
  }
  if (!isQubeName(token, release)) return nameProblem(token, release, 'qube name');
  return within('name');
}

/** Why a name is not a qube name of this release: QP4001 for a 4.3 name on 4.2, else QP4002. */
export function nameProblem(name: string, release: QubesRelease, what: string): TokenProblem {
  // A name Qubes 4.3 accepts (it has a dot) but 4.2 does not: a release feature, not an unsafe value.
  if (release === '4.2' && isQubeName(name, '4.3')) return { code: 'QP4001', what: `the qube name \`${name}\` on Qubes 4.2 (dots in qube names exist from Qubes 4.3 on)` };
  return { code: 'QP4002', what };
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
