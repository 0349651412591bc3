/**
 * What the qrexec target refuses to write (QP4001, QP4002): anything Qubes'
 * policy parser of the selected release would reject or read differently
 * from the rules the checker evaluated, and any value that could add a
 * line, a rule, a comment or a directive to a policy file. Every finding
 * points at the rule's source span (generated rules: the declaration that
 * caused them).
 */
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { qubeNamed, type PolicyModel } from '../../compiler/model.js';
import type { QrexecRule, QubesRelease } from '../../compiler/qrexec/types.js';
import type { Span } from '../../compiler/source.js';
import { policyFilePath, systemInfoPath } from '../paths.js';
import { qubeLabels } from '../../compiler/qubes-values.js';
import { ARGUMENT, COMMENT_TEXT, isQubeName, MAX_DESCRIPTOR, nameProblem, paramsOf, POLICY_FILE, qubeClasses, SERVICE, TAG, tokenProblem, USER, visible, type Column } from './syntax.js';

/**
 * Policy files Qubes or its tools own (reference §2.1): the stock files of
 * both releases, and those Global Config, Salt and `policy.RegisterArgument`
 * write at run time. A file of ours with such a name would replace theirs in
 * `/etc/qubes/policy.d`, so dom0 would not read the policy the checker did.
 */
export const qubesOwnedFiles: readonly string[] = [
  '35-compat',
  '50-config-clipboard',
  '50-config-filecopy',
  '50-config-input',
  '50-config-openinvm',
  '50-config-openurl',
  '50-config-splitgpg',
  '50-config-u2f',
  '50-config-updates',
  '60-registered-arguments',
  '80-whonix',
  '85-admin-backup-restore',
  '90-admin-default',
  '90-admin-policy-default',
  '90-default',
  '90-default-gui-daemon',
  '90-default-linux',
  '91-admin-default-deny',
];


/** A span at the start of the entry file, for findings about the file as a whole. */
function entrySpan(model: PolicyModel): Span {
  return { file: model.entry, start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

/** The target's check (`Target.check`). */
export function checkQrexec(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const release = model.settings.qubes;
  const unsafe = (span: Span | undefined, what: string, value: string, artifact: string) => out.push(diag('QP4002', span, { what, value: visible(value), artifact }));
  const cannot = (span: Span | undefined, what: string) => out.push(diag('QP4001', span, { target: 'qrexec', what }));

  // The model names the source by its file name only, so no path of the compiling machine reaches dom0.
  const shown = model.source;
  if (shown === '' || !COMMENT_TEXT.test(shown)) unsafe(entrySpan(model), 'source file name', shown, 'the header of every policy file');

  const stockFiles = new Set(qubesOwnedFiles);
  for (const r of model.completePolicy) if (r.origin.stock) stockFiles.add(r.origin.policyFile);

  for (const file of model.policyFiles) {
    const span = file.rules[0]?.origin.span ?? entrySpan(model);
    const artifact = POLICY_FILE.test(file.name) ? policyFilePath(file.name) : 'qubes/policy.d';
    if (!POLICY_FILE.test(file.name)) unsafe(span, 'policy file name', file.name, artifact);
    else if (stockFiles.has(file.name)) cannot(span, `a policy file named \`${file.name}\`: Qubes ships or writes a file of that name, which ours would replace`);
    for (const rule of file.rules) checkRule(rule, release, artifact, unsafe, cannot);
  }

  checkSystemInfo(model, release, unsafe, cannot);
  return out;
}

type Unsafe = (span: Span | undefined, what: string, value: string, artifact: string) => void;
type Cannot = (span: Span | undefined, what: string) => void;

function checkRule(rule: QrexecRule, release: QubesRelease, artifact: string, unsafe: Unsafe, cannot: Cannot): void {
  const span = rule.origin.span;
  const text = (v: unknown): string => (typeof v === 'string' ? v : String(v));

  // Provenance comments carry the id and, for generated rules, the reason.
  if (typeof rule.origin.id !== 'string' || rule.origin.id === '' || !COMMENT_TEXT.test(rule.origin.id)) unsafe(span, 'rule id', text(rule.origin.id), artifact);
  if (rule.origin.generated !== undefined && (typeof rule.origin.generated !== 'string' || !COMMENT_TEXT.test(rule.origin.generated))) {
    unsafe(span, 'reason of a generated rule', text(rule.origin.generated), artifact);
  }

  const service = text(rule.service);
  const argument = text(rule.argument);
  if (service !== '*' && !SERVICE.test(service)) unsafe(span, 'service name', service, artifact);
  if (argument !== '*' && !ARGUMENT.test(argument)) unsafe(span, 'service argument', argument, artifact);
  else if (service === '*' && argument !== '*') cannot(span, `the argument \`${argument}\` on the \`*\` service (qrexec allows only \`*\` there)`);
  else if (service.length + argument.length > MAX_DESCRIPTOR) cannot(span, 'a service and argument longer than a qrexec call can be');

  const action = text(rule.action);
  if (action !== 'allow' && action !== 'ask' && action !== 'deny') {
    unsafe(span, 'action', action, artifact);
    return;
  }
  const token = (value: unknown, column: Column, what: string) => {
    const p = tokenProblem(text(value), column, release);
    if (p === undefined) return;
    if (p.code === 'QP4002') unsafe(span, `${p.what} (${what})`, text(value), artifact);
    else cannot(span, p.what);
  };
  token(rule.source, 'source', 'source');
  token(rule.target, 'target', 'target');

  const takes = paramsOf[action];
  const param = (key: string, present: boolean) => {
    if (present && !takes.includes(key)) cannot(span, `\`${key}=\` on a \`${action}\` rule (qrexec refuses the whole file)`);
    return present && takes.includes(key);
  };
  if (param('target', rule.redirect !== undefined)) token(rule.redirect, 'redirect', '`target=`');
  if (param('default_target', rule.defaultTarget !== undefined)) token(rule.defaultTarget, 'redirect', '`default_target=`');
  if (param('user', rule.user !== undefined) && !USER.test(text(rule.user))) unsafe(span, 'user name', text(rule.user), artifact);
  for (const key of ['notify', 'autostart'] as const) {
    const v = rule[key];
    if (param(key, v !== undefined) && typeof v !== 'boolean') unsafe(span, `\`${key}=\` value`, text(v), artifact);
  }
  // parser.py `Rule.__init__`: "allow action for @default rule must specify target= option".
  if (action === 'allow' && rule.target === '@default' && rule.redirect === undefined) cannot(span, 'an `allow` rule to `@default` without `target=` (qrexec refuses the whole file)');
}

/** The values `system-info.json` carries: names, tags, classes, disposable templates, labels. */
function checkSystemInfo(model: PolicyModel, release: QubesRelease, unsafe: Unsafe, cannot: Cannot): void {
  for (const [name, d] of model.systemInfo.domains) {
    const q = qubeNamed(model, name);
    const span = q?.span;
    if (!isQubeName(name, release)) {
      const p = nameProblem(name, release, 'qube name');
      if (p.code === 'QP4002') unsafe(span, p.what, name, systemInfoPath);
      else cannot(span, p.what);
      continue;
    }
    if (q === undefined) cannot(undefined, `the qube \`${name}\` in the system information, which declares no such qube`);
    for (const tag of d.tags) if (!TAG.test(tag)) unsafe(span, 'tag', tag, systemInfoPath);
    if (!qubeClasses(release).includes(d.type)) unsafe(span, 'qube class', d.type, systemInfoPath);
    if (d.defaultDispvm !== null && !isQubeName(d.defaultDispvm, release)) {
      const p = nameProblem(d.defaultDispvm, release, 'default disposable template');
      if (p.code === 'QP4002') unsafe(span, p.what, d.defaultDispvm, systemInfoPath);
      else cannot(span, p.what);
    }
    if (q?.label !== undefined && !qubeLabels.includes(q.label)) unsafe(span, 'label', q.label, systemInfoPath);
  }
  for (const q of model.qubes) if (!model.systemInfo.domains.has(q.name)) cannot(q.span, `the qube \`${q.name}\`, which is missing from the system information`);
}
