/**
 * The qrexec evaluator against Qubes' semantics (qubes-core-qrexec
 * `qrexec/policy/parser.py`, v4.2.25 and v4.3.12; reference §1.2–1.4, §2):
 * token matching per column and release, `@dispvm` resolution, redirects,
 * ask lists, `default_target`, notify and autostart, and the stock rules for
 * `qubes.GetDate` and `qubes.Filecopy`.
 */
import test, { type ExecutionContext } from 'ava';
import { evaluate, evaluateIndexed, indexRules, matchesRequest } from '../../../../compiler/qrexec/evaluate.js';
import type { Decision, DomainInfo, QrexecRule, QubesRelease, Request, SystemInfo } from '../../../../compiler/qrexec/types.js';

const RELEASES: readonly QubesRelease[] = ['4.2', '4.3'];
const span = { file: 'test.qpol', start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };

function domain(name: string, type: string, more: Partial<DomainInfo> = {}): DomainInfo {
  return { name, type, tags: [], defaultDispvm: null, templateForDispvms: false, ...more };
}

/**
 * dom0; a TemplateVM; a disposable template `dvm` (tag `dvm-tag`) and a
 * running disposable of it; AppVMs: `work` (running), `personal` (halted),
 * `anon` (tag `anon-vm`, no default_dispvm), `vault` (default_dispvm is
 * `work`, not a disposable template).
 */
const INFO: SystemInfo = {
  domains: new Map(
    [
      domain('dom0', 'AdminVM', { running: true }),
      domain('fedora', 'TemplateVM'),
      domain('dvm', 'AppVM', { tags: ['dvm-tag'], defaultDispvm: 'dvm', templateForDispvms: true }),
      domain('disp1', 'DispVM', { tags: ['dvm-tag'], defaultDispvm: 'dvm', running: true }),
      domain('work', 'AppVM', { tags: ['t-work'], defaultDispvm: 'dvm', running: true }),
      domain('personal', 'AppVM', { defaultDispvm: 'dvm' }),
      domain('anon', 'AppVM', { tags: ['anon-vm'] }),
      domain('vault', 'AppVM', { defaultDispvm: 'work' }),
    ].map((d) => [d.name, d]),
  ),
};

/** A rule in qrexec's line syntax: `SERVICE ARG SOURCE TARGET ACTION [KEY=VALUE...]`. */
function rule(line: string, id = 'test#1'): QrexecRule {
  const [service, argument, source, target, action, ...params] = line.trim().split(/\s+/);
  const r: { -readonly [K in keyof QrexecRule]: QrexecRule[K] } = {
    service,
    argument,
    source,
    target,
    action: action as QrexecRule['action'],
    origin: { policyFile: 'test', stock: false, span, id },
  };
  for (const p of params) {
    const [key, value] = p.split('=');
    if (key === 'target') r.redirect = value;
    else if (key === 'default_target') r.defaultTarget = value;
    else if (key === 'user') r.user = value;
    else if (key === 'notify') r.notify = value === 'yes';
    else if (key === 'autostart') r.autostart = value === 'yes';
    else throw new Error(`bad parameter ${p}`);
  }
  return r;
}

function policy(...lines: string[]): QrexecRule[] {
  return lines.map((l, i) => rule(l, `test#${i + 1}`));
}

/** A request `SERVICE[+ARG] SOURCE TARGET`. */
function req(text: string): Request {
  const [call, source, target] = text.split(' ');
  const plus = call.indexOf('+');
  return { service: plus < 0 ? call : call.slice(0, plus), argument: plus < 0 ? '+' : call.slice(plus), source, target: target ?? '' };
}

function run(rules: readonly QrexecRule[], request: string, release: QubesRelease, info: SystemInfo = INFO): Decision {
  const r = req(request);
  const d = evaluate(rules, info, r, release);
  // The index must always agree.
  const di = evaluateIndexed(indexRules(rules), info, r, release);
  if (JSON.stringify(d) !== JSON.stringify(di)) throw new Error(`evaluateIndexed disagrees on ${request}`);
  return d;
}

/** The interesting part of a decision: action, rule, target(s), default, reason. */
function brief(d: Decision): string {
  const parts: string[] = [d.action];
  if (d.rule !== undefined) parts.push(`#${d.rule}`);
  if (d.target !== undefined) parts.push(`-> ${d.target}`);
  if (d.targets !== undefined) parts.push(`[${d.targets.join(' ')}]`);
  if (d.defaultTarget !== undefined) parts.push(`default ${d.defaultTarget}`);
  if (d.reason !== undefined) parts.push(`(${d.reason})`);
  return parts.join(' ');
}

function both(t: ExecutionContext, rules: readonly QrexecRule[], request: string, expected: string): void {
  for (const release of RELEASES) t.is(brief(run(rules, request, release)), expected, `R${release}: ${request}`);
}

// ---------------------------------------------------------------------------
// First match, service, argument
// ---------------------------------------------------------------------------

test('the first matching rule decides', (t) => {
  both(t, policy('svc * work personal deny', 'svc * work personal allow'), 'svc work personal', 'deny #0');
  both(t, policy('svc * work personal allow', 'svc * work personal deny'), 'svc work personal', 'allow #0 -> personal');
  both(t, policy('other * work personal deny', 'svc * vault personal deny', 'svc * work personal allow'), 'svc work personal', 'allow #2 -> personal');
});

test('no matching rule denies, with notification', (t) => {
  for (const release of RELEASES) {
    const d = run(policy('svc * work personal allow'), 'svc work vault', release);
    t.deepEqual(d, { action: 'deny', notify: true, autostart: true, reason: 'no matching rule' });
  }
});

test('service and argument: `*` takes any service and any argument, also none; no argument is `+`', (t) => {
  const rules = policy('svc +x work personal deny', 'svc + work personal ask', '* * work personal allow');
  both(t, rules, 'svc+x work personal', 'deny #0');
  both(t, rules, 'svc work personal', 'ask #1 [personal]');
  both(t, rules, 'svc+ work personal', 'ask #1 [personal]');
  both(t, rules, 'svc+y work personal', 'allow #2 -> personal');
  both(t, rules, 'svcx+x work personal', 'allow #2 -> personal');
  for (const release of RELEASES) {
    const d = evaluate(rules, INFO, { service: 'svc', argument: '', source: 'work', target: 'personal' }, release);
    t.is(d.rule, 1, 'an empty argument is `+`');
  }
});

// ---------------------------------------------------------------------------
// Source column
// ---------------------------------------------------------------------------

test('source tokens: name, `*`, `@tag:`, `@type:`', (t) => {
  both(t, policy('svc * work vault allow'), 'svc personal vault', 'deny (no matching rule)');
  both(t, policy('svc * * vault allow'), 'svc personal vault', 'allow #0 -> vault');
  both(t, policy('svc * @tag:anon-vm vault allow'), 'svc anon vault', 'allow #0 -> vault');
  both(t, policy('svc * @tag:anon-vm vault allow'), 'svc work vault', 'deny (no matching rule)');
  both(t, policy('svc * @type:TemplateVM vault allow'), 'svc fedora vault', 'allow #0 -> vault');
  both(t, policy('svc * @type:TemplateVM vault allow'), 'svc work vault', 'deny (no matching rule)');
  both(t, policy('svc * @type:DispVM vault allow'), 'svc disp1 vault', 'allow #0 -> vault');
  both(t, policy('svc * @tag:dvm-tag vault allow'), 'svc disp1 vault', 'allow #0 -> vault');
});

test('a source never matches `@dispvm:…` tokens, not even from a disposable of that template', (t) => {
  both(t, policy('svc * @dispvm:dvm vault allow', 'svc * @dispvm:@tag:dvm-tag vault allow'), 'svc disp1 vault', 'deny (no matching rule)');
  both(t, policy('svc * @dispvm:dvm vault allow'), 'svc dvm vault', 'deny (no matching rule)');
});

test('source `@anyvm` is every qube but dom0 (R4.3); R4.2 compares with the string `@adminvm` and so takes dom0', (t) => {
  both(t, policy('svc * @anyvm vault allow'), 'svc work vault', 'allow #0 -> vault');
  t.is(brief(run(policy('svc * @anyvm vault allow'), 'svc dom0 vault', '4.3')), 'deny (no matching rule)');
  t.is(brief(run(policy('svc * @anyvm vault allow'), 'svc dom0 vault', '4.2')), 'allow #0 -> vault');
});

test('source `@adminvm`/`dom0` match calls from dom0 on R4.3 only', (t) => {
  for (const token of ['@adminvm', 'dom0']) {
    const rules = policy(`svc * ${token} vault allow`);
    t.is(brief(run(rules, 'svc dom0 vault', '4.3')), 'allow #0 -> vault', token);
    t.is(brief(run(rules, 'svc dom0 vault', '4.2')), 'deny (no matching rule)', token);
    both(t, rules, 'svc work vault', 'deny (no matching rule)');
  }
});

// ---------------------------------------------------------------------------
// Target column
// ---------------------------------------------------------------------------

test('a target name is a string compare on the requested target; `*` matches everything', (t) => {
  both(t, policy('svc * work vault allow'), 'svc work vault', 'allow #0 -> vault');
  both(t, policy('svc * work vault allow'), 'svc work personal', 'deny (no matching rule)');
  both(t, policy('svc * work * deny'), 'svc work dom0', 'deny #0');
  both(t, policy('svc * work * deny'), 'svc work @default', 'deny #0');
  both(t, policy('svc * work * deny'), 'svc work @dispvm', 'deny #0');
});

test('target `@anyvm` does not match dom0', (t) => {
  const rules = policy('svc * @anyvm @anyvm allow');
  both(t, rules, 'svc work dom0', 'deny (no matching rule)');
  both(t, rules, 'svc work @adminvm', 'deny (no matching rule)');
  both(t, rules, 'svc work vault', 'allow #0 -> vault');
});

test('target `@anyvm` also catches `@default`, `@dispvm` and `@dispvm:X` requests', (t) => {
  const rules = policy('svc * @anyvm @anyvm allow target=vault', 'svc * @anyvm * deny');
  both(t, rules, 'svc work @default', 'allow #0 -> vault');
  both(t, rules, 'svc work @dispvm', 'allow #0 -> vault');
  both(t, rules, 'svc work @dispvm:dvm', 'allow #0 -> vault');
  const plain = policy('svc * @anyvm @anyvm allow');
  both(t, plain, 'svc work @dispvm', 'allow #0 -> @dispvm:dvm');
  both(t, plain, 'svc work @dispvm:dvm', 'allow #0 -> @dispvm:dvm');
});

test('target `@default` takes only the `@default` request (and a request naming no qube, or one that does not exist)', (t) => {
  const rules = policy('svc * work @default allow target=vault');
  both(t, rules, 'svc work @default', 'allow #0 -> vault');
  both(t, rules, 'svc work', 'allow #0 -> vault');
  both(t, rules, 'svc work no-such-qube', 'allow #0 -> vault');
  both(t, rules, 'svc work vault', 'deny (no matching rule)');
  both(t, rules, 'svc work @dispvm', 'deny (no matching rule)');
});

test('`@tag:` and `@type:` targets never match `@default` or `@dispvm` requests', (t) => {
  for (const token of ['@tag:dvm-tag', '@type:AppVM']) {
    const rules = policy(`svc * work ${token} deny`);
    both(t, rules, 'svc work @default', 'deny (no matching rule)');
    both(t, rules, 'svc work @dispvm', 'deny (no matching rule)');
    both(t, rules, 'svc work @dispvm:dvm', 'deny (no matching rule)');
    both(t, rules, 'svc work dvm', 'deny #0');
  }
});

test('target `@dispvm` matches only the `@dispvm` request, not `@dispvm:X` even for the caller\'s default (DispVM.match)', (t) => {
  const rules = policy('svc * @anyvm @dispvm allow');
  both(t, rules, 'svc work @dispvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc work @dispvm:dvm', 'deny (no matching rule)');
  both(t, rules, 'svc work dvm', 'deny (no matching rule)');
});

test('target `@dispvm:Q` matches `@dispvm:Q`, and `@dispvm` when the caller\'s default_dispvm is Q', (t) => {
  const rules = policy('svc * @anyvm @dispvm:dvm allow');
  both(t, rules, 'svc work @dispvm:dvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc work @dispvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc work dvm', 'deny (no matching rule)');
  // vault's default_dispvm is `work`: no match (and the request is then allowed towards `work`? no: no rule).
  both(t, policy('svc * @anyvm @dispvm:dvm allow', 'svc * @anyvm * deny'), 'svc vault @dispvm', 'deny #1');
});

test('R4.3 fails while matching `@dispvm:Q` against `@dispvm` from a caller without default_dispvm; R4.2 goes on', (t) => {
  const rules = policy('svc * @anyvm @dispvm:dvm allow', 'svc * @anyvm * deny notify=no');
  const d43 = run(rules, 'svc anon @dispvm', '4.3');
  t.is(d43.action, 'deny');
  t.is(d43.rule, 0);
  t.false(d43.notify);
  t.regex(d43.reason ?? '', /^qrexec error/);
  t.is(brief(run(rules, 'svc anon @dispvm', '4.2')), 'deny #1');
  t.true(matchesRequest(rules[0], INFO, req('svc anon @dispvm'), '4.3'), 'the scan stops there');
  t.false(matchesRequest(rules[0], INFO, req('svc anon @dispvm'), '4.2'));
});

test('target `@dispvm:@tag:T` matches disposables of templates with the tag', (t) => {
  const rules = policy('svc * @anyvm @dispvm:@tag:dvm-tag allow');
  both(t, rules, 'svc work @dispvm:dvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc work @dispvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc anon @dispvm', 'deny (no matching rule)');
  both(t, policy('svc * @anyvm @dispvm:@tag:other allow'), 'svc work @dispvm:dvm', 'deny (no matching rule)');
});

test('target `dom0` and `@adminvm` match requests for `dom0` and `@adminvm` on both releases', (t) => {
  for (const token of ['dom0', '@adminvm']) {
    const rules = policy(`svc * @anyvm ${token} allow`);
    both(t, rules, 'svc work dom0', 'allow #0 -> dom0');
    both(t, rules, 'svc work @adminvm', 'allow #0 -> dom0');
    both(t, rules, 'svc work vault', 'deny (no matching rule)');
  }
});

test('target `@type:AdminVM` matches a `dom0` request on R4.3 only (R4.2 reads it as `@adminvm`, not a qube)', (t) => {
  const rules = policy('svc * @anyvm @type:AdminVM allow');
  t.is(brief(run(rules, 'svc work dom0', '4.3')), 'allow #0 -> dom0');
  t.is(brief(run(rules, 'svc work dom0', '4.2')), 'deny (no matching rule)');
  both(t, rules, 'svc work @adminvm', 'deny (no matching rule)');
});

// ---------------------------------------------------------------------------
// allow
// ---------------------------------------------------------------------------

test('`@dispvm` resolves through the caller\'s default_dispvm; none denies', (t) => {
  const rules = policy('svc * @anyvm @dispvm allow');
  both(t, rules, 'svc work @dispvm', 'allow #0 -> @dispvm:dvm');
  both(t, rules, 'svc anon @dispvm', 'deny #0 (no default_dispvm)');
  // Qubes does not check that default_dispvm is a disposable template (qubesd does).
  both(t, rules, 'svc vault @dispvm', 'allow #0 -> @dispvm:work');
  both(t, policy('svc * @anyvm @anyvm allow target=@dispvm'), 'svc work personal', 'allow #0 -> @dispvm:dvm');
});

test('`@dispvm:Q` of a qube that is not a disposable template is refused, in the request or in `target=`', (t) => {
  both(t, policy('svc * @anyvm * allow'), 'svc work @dispvm:work', 'deny (not a disposable template: work)');
  both(t, policy('svc * @anyvm * allow'), 'svc work @dispvm:no-such', 'deny (not a disposable template: no-such)');
  both(t, policy('svc * @anyvm @anyvm allow target=@dispvm:fedora'), 'svc work vault', 'deny #0 (not a disposable template: fedora)');
  t.false(matchesRequest(rule('svc * @anyvm * allow'), INFO, req('svc work @dispvm:work'), '4.3'), 'refused before any rule is read');
});

test('a `target=` redirect takes effect after the match and is not re-checked', (t) => {
  const rules = policy('svc * @anyvm vault deny', 'svc * @anyvm @default allow target=vault');
  both(t, rules, 'svc work @default', 'allow #1 -> vault');
  both(t, rules, 'svc work vault', 'deny #0');
  both(t, policy('svc * work personal allow target=dom0'), 'svc work personal', 'allow #0 -> dom0');
  // A redirect to a qube that does not exist becomes `@default` (IntendedTarget.verify): no target.
  both(t, policy('svc * work personal allow target=ghost'), 'svc work personal', 'deny #0 (no target)');
});

test('allow on a `@default` request needs `target=`', (t) => {
  both(t, policy('svc * @anyvm @anyvm allow'), 'svc work @default', 'deny #0 (no target)');
  both(t, policy('svc * @anyvm * allow'), 'svc work', 'deny #0 (no target)');
});

test('a target equal to the caller is refused (loopback)', (t) => {
  both(t, policy('svc * @anyvm @anyvm allow'), 'svc work work', 'deny #0 (loopback)');
  both(t, policy('svc * @anyvm @default allow target=work'), 'svc work @default', 'deny #0 (loopback)');
  both(t, policy('svc * @anyvm @default allow target=work'), 'svc personal @default', 'allow #0 -> work');
});

test('autostart=no denies unless the target runs: dom0 always, new disposables never', (t) => {
  const rules = policy('svc * @anyvm * allow autostart=no');
  both(t, rules, 'svc vault personal', 'deny #0 (requires autostart)');
  both(t, rules, 'svc vault work', 'allow #0 -> work');
  both(t, rules, 'svc vault dom0', 'allow #0 -> dom0');
  both(t, rules, 'svc work @dispvm', 'deny #0 (requires autostart)');
  both(t, rules, 'svc work @dispvm:dvm', 'deny #0 (requires autostart)');
  for (const release of RELEASES) {
    const d = run(rules, 'svc vault personal', release);
    t.false(d.notify, 'the autostart refusal notifies only with notify=yes');
    t.false(d.autostart);
    t.true(run(policy('svc * @anyvm * allow autostart=no notify=yes'), 'svc vault personal', release).notify);
  }
});

test('allow carries user, notify and autostart', (t) => {
  for (const release of RELEASES) {
    t.deepEqual(run(policy('svc * work vault allow user=root notify=yes'), 'svc work vault', release), {
      action: 'allow',
      rule: 0,
      target: 'vault',
      user: 'root',
      notify: true,
      autostart: true,
    });
    t.deepEqual(run(policy('svc * work vault allow'), 'svc work vault', release), { action: 'allow', rule: 0, target: 'vault', notify: false, autostart: true });
  }
});

test('notify defaults: deny yes, allow and ask no', (t) => {
  for (const release of RELEASES) {
    t.true(run(policy('svc * work vault deny'), 'svc work vault', release).notify);
    t.false(run(policy('svc * work vault deny notify=no'), 'svc work vault', release).notify);
    t.false(run(policy('svc * work vault allow'), 'svc work vault', release).notify);
    t.false(run(policy('svc * work vault ask'), 'svc work vault', release).notify);
    t.true(run(policy('svc * work vault ask notify=yes'), 'svc work vault', release).notify);
  }
});

test('a request target qrexec cannot parse is denied without notification', (t) => {
  for (const release of RELEASES) {
    const d = run(policy('svc * @anyvm * allow'), 'svc work @anyvm', release);
    t.is(brief(d), 'deny (invalid target: @anyvm)');
    t.false(d.notify);
  }
});

// ---------------------------------------------------------------------------
// ask
// ---------------------------------------------------------------------------

test('stock `qubes.Filecopy` ask between two AppVMs lists every other non-dom0 qube', (t) => {
  const rules = policy('qubes.Filecopy * @anyvm @anyvm ask');
  // `@dispvm` becomes the caller's `@dispvm:dvm`, already offered as a disposable template.
  both(t, rules, 'qubes.Filecopy work personal', 'ask #0 [@dispvm:dvm anon disp1 dvm fedora personal vault]');
  both(t, rules, 'qubes.Filecopy work @default', 'ask #0 [@dispvm:dvm anon disp1 dvm fedora personal vault]');
  // vault's default_dispvm `work` adds `@dispvm:work`; anon has none.
  both(t, rules, 'qubes.Filecopy vault work', 'ask #0 [@dispvm:dvm @dispvm:work anon disp1 dvm fedora personal work]');
  both(t, rules, 'qubes.Filecopy anon work', 'ask #0 [@dispvm:dvm disp1 dvm fedora personal vault work]');
});

test('ask list: denies earlier in the file remove qubes, denies later do not, other sources do not count', (t) => {
  const rules = policy(
    'svc * @anyvm vault deny',
    'svc * @anyvm @tag:anon-vm deny',
    'svc * personal fedora deny',
    'svc * @anyvm @dispvm deny',
    'svc * @anyvm @anyvm ask',
    'svc * @anyvm dvm deny',
  );
  both(t, rules, 'svc work personal', 'ask #4 [@dispvm:dvm disp1 dvm fedora personal]');
  both(t, rules, 'svc personal work', 'ask #4 [@dispvm:dvm disp1 dvm work]');
  both(t, rules, 'svc work vault', 'deny #0');
});

test('ask list: allow and ask rules add their `target=`, `@adminvm` is offered as dom0', (t) => {
  const rules = policy('svc * work @default allow target=dom0', 'svc * @anyvm personal ask target=vault', 'svc * @anyvm fedora ask');
  both(t, rules, 'svc work fedora', 'ask #2 [dom0 fedora vault]');
  both(t, policy('svc * @anyvm @adminvm ask'), 'svc work dom0', 'ask #0 [dom0]');
  both(t, policy('svc * @anyvm @dispvm:@tag:dvm-tag ask', 'svc * @anyvm @type:TemplateVM ask'), 'svc work fedora', 'ask #1 [@dispvm:dvm fedora]');
});

test('ask list: `*` offers dom0; a `dom0` deny removes it, an `@adminvm` deny only on R4.2', (t) => {
  both(t, policy('svc * @anyvm * ask'), 'svc anon work', 'ask #0 [@dispvm:dvm disp1 dom0 dvm fedora personal vault work]');
  both(t, policy('svc * @anyvm dom0 deny', 'svc * @anyvm * ask'), 'svc anon work', 'ask #1 [@dispvm:dvm disp1 dvm fedora personal vault work]');
  // The list is a set of strings. R4.2 expands dom0 as the token `@adminvm` (IntendedTarget rewrites
  // `dom0`), which an `@adminvm` deny removes; R4.3 expands it as `dom0`, which `@adminvm` does not remove.
  const rules = policy('svc * @anyvm @adminvm deny', 'svc * @anyvm * ask');
  t.is(brief(run(rules, 'svc anon work', '4.2')), 'ask #1 [@dispvm:dvm disp1 dvm fedora personal vault work]');
  t.is(brief(run(rules, 'svc anon work', '4.3')), 'ask #1 [@dispvm:dvm disp1 dom0 dvm fedora personal vault work]');
  const byType = policy('svc * @anyvm @adminvm deny', 'svc * @anyvm vault ask', 'svc * @anyvm @type:AdminVM allow');
  t.is(brief(run(byType, 'svc anon vault', '4.2')), 'ask #1 [vault]');
  t.is(brief(run(byType, 'svc anon vault', '4.3')), 'ask #1 [dom0 vault]');
});

test('ask list: autostart=no keeps running qubes and dom0, drops disposables', (t) => {
  both(t, policy('svc * @anyvm * ask autostart=no'), 'svc vault work', 'ask #0 [disp1 dom0 work]');
  both(t, policy('svc * @anyvm personal ask autostart=no'), 'svc vault personal', 'deny #0 (no target to ask)');
});

test('`ask target=X` offers only X', (t) => {
  both(t, policy('svc * @anyvm @anyvm ask target=vault'), 'svc work personal', 'ask #0 [vault]');
  both(t, policy('svc * @anyvm @anyvm ask target=dom0'), 'svc work personal', 'ask #0 [dom0]');
  both(t, policy('svc * @anyvm @anyvm ask target=@dispvm:dvm'), 'svc work personal', 'ask #0 [@dispvm:dvm]');
});

test('default_target is kept when offered', (t) => {
  both(t, policy('svc * @anyvm @anyvm ask default_target=vault'), 'svc work personal', 'ask #0 [@dispvm:dvm anon disp1 dvm fedora personal vault] default vault');
  both(t, policy('svc * @anyvm @anyvm ask default_target=@dispvm'), 'svc work personal', 'ask #0 [@dispvm:dvm anon disp1 dvm fedora personal vault] default @dispvm:dvm');
  // anon has no default_dispvm: no default.
  both(t, policy('svc * @anyvm @anyvm ask default_target=@dispvm'), 'svc anon personal', 'ask #0 [@dispvm:dvm disp1 dvm fedora personal vault work]');
});

test('default_target not offered: R4.3 drops it, R4.2 fails (deny)', (t) => {
  const rules = policy('svc * @anyvm vault deny', 'svc * @anyvm @anyvm ask default_target=vault');
  t.is(brief(run(rules, 'svc work personal', '4.3')), 'ask #1 [@dispvm:dvm anon disp1 dvm fedora personal]');
  const d42 = run(rules, 'svc work personal', '4.2');
  t.is(brief(d42), 'deny #1 (default_target not offered)');
  t.false(d42.notify);
  // qubes-issues#9870: R4.2 keeps `ask target=dom0` as `@adminvm`, so default_target=dom0 is never offered.
  const dom0 = policy('svc * @anyvm @anyvm ask target=dom0 default_target=dom0');
  t.is(brief(run(dom0, 'svc work personal', '4.3')), 'ask #0 [dom0] default dom0');
  t.is(brief(run(dom0, 'svc work personal', '4.2')), 'deny #0 (default_target not offered)');
});

test('ask carries user and autostart', (t) => {
  // vault is halted: autostart=no empties the list.
  both(t, policy('svc * work vault ask user=root autostart=no'), 'svc work vault', 'deny #0 (no target to ask)');
  for (const release of RELEASES) {
    t.deepEqual(run(policy('svc * vault work ask user=root autostart=no'), 'svc vault work', release), {
      action: 'ask',
      rule: 0,
      targets: ['work'],
      user: 'root',
      notify: false,
      autostart: false,
    });
  }
});

// ---------------------------------------------------------------------------
// Stock 90-default.policy
// ---------------------------------------------------------------------------

test('stock `qubes.GetDate`: denied from an anon-vm, else allowed to dom0', (t) => {
  const rules = policy('qubes.GetDate * @tag:anon-vm @anyvm deny', 'qubes.GetDate * @anyvm @anyvm allow target=dom0');
  both(t, rules, 'qubes.GetDate anon @default', 'deny #0');
  both(t, rules, 'qubes.GetDate anon dom0', 'deny (no matching rule)');
  both(t, rules, 'qubes.GetDate work @default', 'allow #1 -> dom0');
  both(t, rules, 'qubes.GetDate fedora @default', 'allow #1 -> dom0');
});

// ---------------------------------------------------------------------------
// matchesRequest, index
// ---------------------------------------------------------------------------

test('matchesRequest looks at the columns only, not the action', (t) => {
  for (const release of RELEASES) {
    t.true(matchesRequest(rule('svc * @anyvm @anyvm allow'), INFO, req('svc work @default'), release));
    t.true(matchesRequest(rule('svc +x @tag:t-work @dispvm deny'), INFO, req('svc+x work @dispvm'), release));
    t.false(matchesRequest(rule('svc +x @tag:t-work @dispvm deny'), INFO, req('svc+y work @dispvm'), release));
    t.false(matchesRequest(rule('svc * @anyvm @anyvm allow'), INFO, req('svc work dom0'), release));
  }
});

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('evaluateIndexed agrees with evaluate, and the decision is the first rule matchesRequest accepts', (t) => {
  const random = prng(20240611);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const names = [...INFO.domains.keys()];
  const sources = [...names, '@anyvm', '@anyvm', '*', '@adminvm', 'dom0', '@tag:anon-vm', '@tag:dvm-tag', '@type:AppVM', '@dispvm:dvm'];
  const targets = [...names, '@anyvm', '@anyvm', '*', '@adminvm', '@default', '@dispvm', '@dispvm:dvm', '@dispvm:@tag:dvm-tag', '@tag:t-work', '@type:AdminVM'];
  const redirects = [...names, '@adminvm', '@dispvm', '@dispvm:dvm'];
  let checked = 0;
  for (let round = 0; round < 20; round++) {
    const rules: QrexecRule[] = [];
    const count = 3 + Math.floor(random() * 10);
    for (let i = 0; i < count; i++) {
      const service = pick(['a', 'a', 'b', '*']);
      const action = pick(['allow', 'ask', 'deny'] as const);
      const target = pick(targets);
      let line = `${service} ${service === '*' ? '*' : pick(['*', '*', '+', '+x'])} ${pick(sources)} ${target} ${action}`;
      if (action !== 'deny' && (random() < 0.3 || (action === 'allow' && target === '@default'))) line += ` target=${pick(redirects)}`;
      if (action === 'ask' && random() < 0.3) line += ` default_target=${pick(redirects)}`;
      if (action !== 'deny' && random() < 0.2) line += ' autostart=no';
      rules.push(rule(line, `r#${i}`));
    }
    const index = indexRules(rules);
    for (let q = 0; q < 25; q++) {
      const request: Request = {
        service: pick(['a', 'b', 'c']),
        argument: pick(['+', '+x', '+y']),
        source: pick(names.filter((n) => n !== 'dom0')),
        target: pick([...names, '@adminvm', '@default', '@dispvm', '@dispvm:dvm', 'ghost']),
      };
      for (const release of RELEASES) {
        const d = evaluate(rules, INFO, request, release);
        t.deepEqual(evaluateIndexed(index, INFO, request, release), d);
        const first = rules.findIndex((r) => matchesRequest(r, INFO, request, release));
        t.is(d.rule, first < 0 ? undefined : first);
        checked++;
      }
    }
  }
  t.is(checked, 1000);
});

test('indexRules keeps file order across named and `*` services', (t) => {
  const rules = policy('* * @anyvm vault deny', 'a * @anyvm vault allow', 'b * @anyvm vault allow', '* * @anyvm work deny', 'a * @anyvm work allow');
  const index = indexRules(rules);
  t.deepEqual(index.byService.get('a'), [0, 1, 3, 4]);
  t.deepEqual(index.byService.get('b'), [0, 2, 3]);
  t.deepEqual(index.anyService, [0, 3]);
  t.is(brief(evaluateIndexed(index, INFO, req('a personal work'), '4.3')), 'deny #3');
  t.is(brief(evaluateIndexed(index, INFO, req('c personal work'), '4.3')), 'deny #3');
});
