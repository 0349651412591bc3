/**
 * Checks rules, `expect`, `require` and `waive` statements: service and
 * argument syntax as qrexec parses them, every name resolved, tokens only in
 * the columns qrexec accepts, parameters that fit the action, services and
 * arguments against the stock ones (check-services.ts).
 * Emits QP2001, QP2004, QP2013, QP2015, QP2016, QP2019, QP2020, QP2026, QP2027.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { allCodes, isCode } from '../diagnostics/codes.js';
import { subSpan, suggestion } from '../diagnostics/suggest.js';
import type { Endpoint, Rule, StringLit, Word } from '../syntax/ast.js';
import { qubeKinds } from './name-rules.js';
import { resolveRef, substitute, type Resolver } from './names.js';
import { checkServiceArgument, checkServiceName } from './check-services.js';
import { ARGUMENT, DOM0_UUID, isArgument, keywordTokens, qubeClasses, SERVICE, TAG, tokenShape, USER } from '../qrexec/token.js';

/** Qube classes `@type:` can name on Qubes 4.2 (4.3 adds RemoteVM: token.ts `qubeClasses`). */
export const qubeTypes = qubeClasses('4.2');

/** A parsed endpoint: a name, or a token with its value. */
export type EndpointForm =
  | { readonly form: 'name'; readonly name: string }
  | { readonly form: 'anyvm' | 'adminvm' | 'default' | 'dispvm' | 'wildcard' }
  | { readonly form: 'uuid'; readonly value: string }
  | { readonly form: 'dispvm-of' | 'dispvm-tag' | 'tag' | 'type'; readonly value: string }
  | { readonly form: 'invalid' };

/** Splits an endpoint's text into its form (token.ts `tokenShape`: the prefix only, so that a bad value gets its own message). */
export function endpointForm(text: string): EndpointForm {
  const t = tokenShape(text);
  switch (t.kind) {
    case 'any':
      // qrexec's `*` (WildcardVM): any qube, dom0 included, in the source and target columns.
      return { form: 'wildcard' };
    case 'name':
      return { form: 'name', name: t.value };
    case 'anyvm':
    case 'adminvm':
    case 'default':
    case 'dispvm':
      return { form: t.kind };
    case 'uuid':
    case 'dispvm-of':
    case 'dispvm-tag':
    case 'tag':
    case 'type':
      return { form: t.kind, value: t.value };
    default:
      return { form: 'invalid' };
  }
}

const TOKENS = keywordTokens;

type Column = 'source' | 'target' | 'redirect' | 'request-source' | 'request-target';

const columnWords: Record<Column, string> = {
  source: 'as a rule source',
  target: 'as a rule target',
  redirect: 'as a redirect (`target`, `default`)',
  'request-source': 'as the source of a request',
  'request-target': 'as the target of a request',
};

/** Which endpoint forms each column accepts (qrexec `parser.py` token classes). */
const allowedForms: Record<Column, readonly EndpointForm['form'][]> = {
  source: ['name', 'uuid', 'wildcard', 'anyvm', 'adminvm', 'tag', 'type'],
  target: ['name', 'uuid', 'wildcard', 'anyvm', 'adminvm', 'default', 'dispvm', 'dispvm-of', 'dispvm-tag', 'tag', 'type'],
  redirect: ['name', 'uuid', 'adminvm', 'dispvm', 'dispvm-of'],
  'request-source': ['name'],
  'request-target': ['name', 'adminvm', 'default', 'dispvm', 'dispvm-of'],
};

const columnHelp: Partial<Record<EndpointForm['form'], string>> = {
  default: 'requests always come from a named qube; `@default` is only a target',
  dispvm: 'a disposable calls with its own name (`dispNNNN`); to match calls from disposables use `@type:DispVM` or a tag',
  'dispvm-of': 'a disposable calls with its own name (`dispNNNN`); to match calls from disposables use `@type:DispVM` or a tag',
  'dispvm-tag': 'a disposable calls with its own name (`dispNNNN`); to match calls from disposables use `@type:DispVM` or a tag',
};

/** Checks one endpoint in one column. */
function checkEndpoint(r: Resolver, e: Endpoint, column: Column, ctx: Reporter, stock = false): void {
  const f = endpointForm(e.text);
  if (f.form === 'invalid') {
    const head = e.text.includes(':') ? e.text.slice(0, e.text.indexOf(':') + 1) : e.text;
    // The fix rewrites the misspelt head only (`@tagg:` of `@tagg:work`).
    const s = suggestion(head, TOKENS, subSpan(e.span, 0, head.length));
    ctx.report(diag('QP2013', e.span, { value: e.text, what: 'qrexec token' }, { help: s.help ?? `qrexec knows ${TOKENS.map((t) => (t.endsWith(':') ? `\`${t}…\`` : `\`${t}\``)).join(', ')}`, fixes: s.fixes }));
    return;
  }
  if (!allowedForms[column].includes(f.form)) {
    const help =
      column === 'source' || column === 'request-source'
        ? columnHelp[f.form] ?? 'name one qube'
        : column === 'redirect'
          ? 'a redirect names one qube, `@adminvm`, `@dispvm` or `@dispvm:DISPOSABLE-TEMPLATE`'
          : 'a request names one qube, `@default`, `@adminvm`, `@dispvm` or `@dispvm:DISPOSABLE-TEMPLATE`';
    ctx.report(diag('QP2015', e.span, { token: e.text, column: columnWords[column] }, { help }));
    return;
  }
  const word: Word = { kind: 'Word', text: f.form === 'name' ? f.name : 'value' in f ? f.value : e.text, span: e.span };
  switch (f.form) {
    case 'name': {
      // A stock file may name qubes this system does not have (sys-whonix without Whonix).
      if (stock && !r.program.decls.has(substitute(f.name, r.program.settings.whonix))) return;
      const single = column === 'redirect' || column.startsWith('request');
      resolveRef(r, word, single ? qubeKinds : [...qubeKinds, 'identity'], columnWords[column].replace(/^as /, ''), ctx, single ? 'qube' : 'qube or identity');
      return;
    }
    case 'dispvm-of':
      resolveRef(r, word, ['disposable'], '`@dispvm:`', ctx);
      return;
    case 'uuid':
      // Qubes 4.3 names a qube by its UUID too; qpc knows qubes by name, and only dom0's UUID is fixed.
      if (r.program.settings.qubes === '4.2') ctx.report(diag('QP2022', e.span, { feature: 'a `uuid:` token', release: '4.3' }, { help: 'name the qube, or select the release with `settings { qubes 4.3 }`' }));
      else if (e.text !== DOM0_UUID) ctx.report(diag('QP2013', e.span, { value: e.text, what: 'qube UUID qpc can resolve' }, { help: "qpc knows qubes by name, and a qube's UUID is only known on the machine (dom0's is all zeros): name the qube" }));
      return;
    case 'dispvm-tag':
    case 'tag':
      if (!TAG.test(f.value)) ctx.report(diag('QP2013', e.span, { value: f.value, what: 'Qubes tag' }, { help: 'tags are non-empty and use letters, digits, `_` and `-`' }));
      return;
    case 'type': {
      const types = qubeClasses(r.program.settings.qubes);
      if (!types.includes(f.value)) {
        const s = suggestion(f.value, types, subSpan(e.span, e.text.length - f.value.length, e.text.length));
        ctx.report(diag('QP2013', e.span, { value: f.value, what: 'qube class for `@type:`' }, { help: s.help ?? `Qubes has ${types.map((t) => `\`${t}\``).join(', ')}`, fixes: s.fixes }));
      }
      return;
    }
    default:
      return;
  }
}

function checkService(service: Word, argument: Word | undefined, ctx: Reporter): void {
  if (service.text !== '*' && !SERVICE.test(service.text)) {
    ctx.report(diag('QP2013', service.span, { value: service.text, what: 'qrexec service name' }, { help: 'service names use letters, digits, `.`, `_` and `-`' }));
  }
  if (argument) {
    if (service.text === '*') ctx.report(diag('QP2016', argument.span, { problem: 'the `*` service takes no argument' }, { help: 'qrexec allows only `*` (any argument) with the `*` service: remove the argument' }));
    else if (!isArgument(argument.text)) ctx.report(diag('QP2013', argument.span, { value: argument.text, what: 'qrexec argument' }, { help: 'an argument is `+` then letters, digits, `.`, `_`, `+` and `-`, at most 64 of them' }));
  }
}

function checkReason(keyword: string, reason: StringLit, ctx: Reporter): void {
  if (reason.value.trim() === '') ctx.report(diag('QP2019', reason.span, { keyword }));
}

/** A rule's service and argument against the stock services; a stock block models a file as it is and is left alone. */
function checkStockService(rule: Rule, ctx: Reporter): void {
  const because = rule.params.find((p) => p.kind === 'BecauseParam');
  // A name or argument qrexec cannot even parse is QP2013 already.
  const name = SERVICE.test(rule.service.text) ? checkServiceName(rule.service, because?.kind === 'BecauseParam' ? because.reason.value : undefined) : undefined;
  if (name) ctx.report(name);
  const argument = rule.argument && ARGUMENT.test(rule.argument.text) ? checkServiceArgument(rule.service, rule.argument) : undefined;
  if (argument) ctx.report(argument);
}

function checkRule(r: Resolver, rule: Rule, ctx: Reporter, stock = false): void {
  checkService(rule.service, rule.argument, ctx);
  if (!stock) checkStockService(rule, ctx);
  checkEndpoint(r, rule.source, 'source', ctx, stock);
  checkEndpoint(r, rule.target, 'target', ctx, stock);
  const seen = new Map<string, Rule['params'][number]>();
  let hasTarget = false;
  for (const p of rule.params) {
    const key = p.kind === 'EndpointParam' ? p.key : p.kind === 'UserParam' ? 'user' : p.kind === 'BecauseParam' ? 'because' : p.flag === 'no-notify' ? 'notify' : p.flag;
    const shown = p.kind === 'FlagParam' ? p.flag : key;
    if (seen.has(key)) {
      ctx.report(diag('QP2016', p.span, { problem: `\`${shown}\` is given more than once` }, { related: [{ span: seen.get(key)!.span, message: 'first given here' }] }));
      continue;
    }
    seen.set(key, p);
    const bad = (problem: string, help: string) => ctx.report(diag('QP2016', p.span, { problem }, { help }));
    switch (p.kind) {
      case 'EndpointParam':
        if (p.key === 'target') {
          hasTarget = true;
          if (rule.action === 'deny') bad('`target` cannot be used with `deny`', 'a denied call goes nowhere: remove `target`');
        } else if (rule.action !== 'ask') {
          bad(`\`default\` cannot be used with \`${rule.action}\``, '`default` preselects a qube in the `ask` dialog: use it with `ask`');
        }
        checkEndpoint(r, p.value, 'redirect', ctx, stock);
        break;
      case 'UserParam':
        if (rule.action === 'deny') bad('`user` cannot be used with `deny`', 'remove `user`');
        else if (!USER.test(p.value.text)) ctx.report(diag('QP2013', p.value.span, { value: p.value.text, what: 'user name' }, { help: 'user names use letters, digits, `_`, `+`, `,`, `.` and `-`' }));
        break;
      case 'FlagParam':
        if (p.flag === 'no-autostart' && rule.action === 'deny') bad('`no-autostart` cannot be used with `deny`', 'remove `no-autostart`');
        break;
      case 'BecauseParam':
        checkReason('because', p.reason, ctx);
        break;
    }
  }
  if (rule.action === 'allow' && rule.target.text === '@default' && !hasTarget) {
    ctx.report(
      diag('QP2016', rule.target.span, { problem: '`allow` to `@default` must say which qube with `target`' }, { help: `add \`target QUBE\`; Qubes refuses a policy file with this rule` }),
    );
  }
}

/** Checks rules, expectations, requirements and waivers. */
export function checkRules(r: Resolver, ctx: Reporter): void {
  for (const b of r.program.rules) checkRule(r, b.rule, ctx, b.stock);
  for (const e of r.program.expects) {
    checkService(e.service, e.argument, ctx);
    const name = SERVICE.test(e.service.text) ? checkServiceName(e.service) : undefined;
    if (name) ctx.report(name);
    if (e.service.text === '*') ctx.report(diag('QP2013', e.service.span, { value: '*', what: 'service of a request' }, { help: 'a request names one service' }));
    checkEndpoint(r, e.source, 'request-source', ctx);
    checkEndpoint(r, e.target, 'request-target', ctx);
    const seen = new Set<string>();
    for (const p of e.params) {
      const key = p.kind === 'UserParam' ? 'user' : p.key;
      if (seen.has(key)) ctx.report(diag('QP2016', p.span, { problem: `\`${key}\` is given more than once` }));
      seen.add(key);
      if (p.kind === 'ExpectTargets') {
        if (p.key !== 'targets' && p.values.length > 1) ctx.report(diag('QP2016', p.values[1].span, { problem: `\`${p.key}\` takes one qube` }, { help: 'list the qubes an `ask` offers with `targets A, B`' }));
        if (p.key === 'targets' && e.decision !== 'ask') ctx.report(diag('QP2016', p.span, { problem: `\`targets\` goes with \`ask\`` }, { help: 'only an `ask` offers a list of targets' }));
        if (p.key === 'default' && e.decision !== 'ask') ctx.report(diag('QP2016', p.span, { problem: `\`default\` goes with \`ask\`` }));
        // An asked call has no target until the user picks one: say what the dialog offers instead.
        if (p.key === 'target' && e.decision !== 'allow') ctx.report(diag('QP2016', p.span, { problem: `\`target\` goes with \`allow\`` }, { help: e.decision === 'ask' ? 'an `ask` has no target until the user picks one: write `targets A, B` for what the dialog offers, `default Q` for what it preselects' : 'a denied call goes nowhere: remove `target …`' }));
        for (const v of p.values) checkEndpoint(r, v, 'redirect', ctx);
      }
    }
  }
  for (const q of r.program.requires) {
    for (const w of [q.subject, q.object]) resolveRef(r, w, ['identity', 'qube', 'gateway', 'disposable', 'named-disposable', 'standalone', 'template'], '`require`', ctx);
  }
  for (const w of r.program.waives) {
    if (!isCode(w.code.text)) {
      const s = suggestion(w.code.text.toUpperCase(), allCodes, w.code.span);
      ctx.report(diag('QP2020', w.code.span, { code: w.code.text }, { help: s.help ?? 'run `qpc explain` to list the codes', fixes: s.fixes }));
    }
    const name = substitute(w.subject.text, r.program.settings.whonix);
    if (!r.program.decls.has(name)) resolveRef(r, w.subject, ['identity', 'qube', 'gateway', 'template', 'disposable', 'named-disposable', 'standalone', 'adminvm'], '`waive`', ctx);
    checkReason('waive', w.reason, ctx);
  }
}
