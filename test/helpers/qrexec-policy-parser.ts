/**
 * A strict reader of one Qubes 4.1+ policy file (the `policy.d` line
 * format), written for tests from the reference grammar (reference
 * §1.2–1.4) and independent of the qrexec target's own validation: it reads
 * back what the target emitted so that tests compare it with the model.
 * It follows qrexec's `parser.py` of each release where the two differ
 * (R4.2 reads `dom0` as `@adminvm`; R4.3 refuses empty tokens) and is
 * stricter in one place: any `!` directive is an error, since qpc never
 * writes one.
 */
import type { QrexecRule, QubesRelease } from '../../compiler/qrexec/types.js';

export class PolicySyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`policy syntax error: line ${line}: ${reason}`);
  }
}

/** A rule as read back: the fields of a `QrexecRule` without its origin. */
export type ParsedRule = Omit<QrexecRule, 'origin'> & { readonly line: number };

type Column = 'source' | 'target' | 'redirect';

// `RPCNAME_ALLOWED_CHARSET` of qrexec/__init__.py.
const RPCNAME = /^[A-Za-z0-9+._-]*$/;

// Token classes and the columns their parser.py classes inherit (Source, Target, Redirect).
const EXACT: Record<string, readonly Column[]> = {
  '*': ['source', 'target'],
  '@adminvm': ['source', 'target', 'redirect'],
  '@anyvm': ['source', 'target'],
  '@default': ['target'],
  '@dispvm': ['target', 'redirect'],
};
// In declaration order: the first prefix whose value does not start with `@` wins.
const PREFIXES: readonly (readonly [string, readonly Column[]])[] = [
  ['@type:', ['source', 'target']],
  ['@tag:', ['source', 'target']],
  ['@dispvm:', ['source', 'target', 'redirect']],
  ['@dispvm:@tag:', ['source', 'target']],
];

/** `VMToken.__new__` for a column. */
function readToken(raw: string, column: Column, release: QubesRelease, line: number): string {
  if (release !== '4.2' && raw === '') throw new PolicySyntaxError(line, `invalid empty ${column} token`);
  const token = release === '4.2' && raw === 'dom0' ? '@adminvm' : raw;
  if (!(token.startsWith('@') || token === '*')) return token;
  const exact = EXACT[token];
  if (exact !== undefined && exact.includes(column)) return token;
  for (const [prefix, columns] of PREFIXES) {
    if (!columns.includes(column) || !token.startsWith(prefix)) continue;
    const value = token.slice(prefix.length);
    if (value === '') throw new PolicySyntaxError(line, `invalid empty ${prefix} token: '${token}'`);
    if (value.startsWith('@')) continue;
    return token;
  }
  throw new PolicySyntaxError(line, `invalid ${column} token: '${raw}'`);
}

const ACTION_PARAMS: Record<string, readonly string[]> = {
  allow: ['target', 'user', 'notify', 'autostart'],
  ask: ['target', 'default_target', 'user', 'notify', 'autostart'],
  deny: ['notify'],
};

/** Reads one rule line (already stripped, not a comment). */
function readRule(text: string, release: QubesRelease, line: number): ParsedRule {
  const fields = text.split(/\s+/);
  if (fields.length < 5) throw new PolicySyntaxError(line, 'wrong number of fields');
  const [service, argument, source, target, action, ...params] = fields;
  if (service !== '*' && (!RPCNAME.test(service) || service.includes('+'))) throw new PolicySyntaxError(line, `service '${service}' contains invalid characters`);
  if (argument !== '*') {
    if (!RPCNAME.test(argument)) throw new PolicySyntaxError(line, `argument '${argument}' contains invalid characters`);
    if (!argument.startsWith('+')) throw new PolicySyntaxError(line, `argument '${argument}' does not start with +`);
    if (service === '*') throw new PolicySyntaxError(line, 'only * argument allowed for * service');
  }
  const src = readToken(source, 'source', release, line);
  const tgt = readToken(target, 'target', release, line);
  const allowed = ACTION_PARAMS[action];
  if (allowed === undefined) throw new PolicySyntaxError(line, `invalid action: ${action}`);
  const kw = new Map<string, string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new PolicySyntaxError(line, `invalid action parameter syntax: '${p}'`);
    const key = p.slice(0, eq);
    if (kw.has(key)) throw new PolicySyntaxError(line, `parameter given twice: '${key}'`);
    kw.set(key, p.slice(eq + 1));
  }
  const bool = (key: string): boolean | undefined => {
    const v = kw.get(key);
    if (v === undefined) return undefined;
    if (v !== 'yes' && v !== 'no') throw new PolicySyntaxError(line, `'${key}' is '${v}', but can be only 'yes' or 'no'`);
    return v === 'yes';
  };
  const notify = bool('notify');
  const autostart = bool('autostart');
  for (const key of kw.keys()) if (!allowed.includes(key)) throw new PolicySyntaxError(line, `invalid parameters for action ${action}: ${params.join(' ')}`);
  const redirect = kw.has('target') ? readToken(kw.get('target')!, 'redirect', release, line) : undefined;
  const defaultTarget = kw.has('default_target') ? readToken(kw.get('default_target')!, 'redirect', release, line) : undefined;
  if (tgt === '@default' && action === 'allow' && redirect === undefined) throw new PolicySyntaxError(line, 'allow action for @default rule must specify target= option');
  return {
    service,
    argument,
    source: src,
    target: tgt,
    action: action as ParsedRule['action'],
    ...(redirect !== undefined ? { redirect } : {}),
    ...(defaultTarget !== undefined ? { defaultTarget } : {}),
    ...(kw.has('user') ? { user: kw.get('user')! } : {}),
    ...(notify !== undefined ? { notify } : {}),
    ...(autostart !== undefined ? { autostart } : {}),
    line,
  };
}

/**
 * Reads a policy file. Lines end at `\n`, `\r\n` or `\r` (Python's universal
 * newlines); each line is stripped; empty lines and `#` lines are comments
 * (no inline comments); fields split at any whitespace.
 */
export function parsePolicy(text: string, release: QubesRelease): ParsedRule[] {
  const rules: ParsedRule[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('!')) throw new PolicySyntaxError(i + 1, `directive not expected in a generated file: ${line.split(/\s+/)[0]}`);
    rules.push(readRule(line, release, i + 1));
  }
  return rules;
}

/** A model rule as the release's parser reads its tokens (R4.2: `dom0` is `@adminvm`), without its origin. */
export function asRead(rule: QrexecRule, release: QubesRelease): Omit<ParsedRule, 'line'> {
  const t = (x: string) => (release === '4.2' && x === 'dom0' ? '@adminvm' : x);
  return {
    service: rule.service,
    argument: rule.argument,
    source: t(rule.source),
    target: t(rule.target),
    action: rule.action,
    ...(rule.redirect !== undefined ? { redirect: t(rule.redirect) } : {}),
    ...(rule.defaultTarget !== undefined ? { defaultTarget: t(rule.defaultTarget) } : {}),
    ...(rule.user !== undefined ? { user: rule.user } : {}),
    ...(rule.notify !== undefined ? { notify: rule.notify } : {}),
    ...(rule.autostart !== undefined ? { autostart: rule.autostart } : {}),
  };
}
