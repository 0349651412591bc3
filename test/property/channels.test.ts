/**
 * The channel analysis against the evaluator (DESIGN §4.3): `findChannels`
 * evaluates classes of interchangeable qubes with one pass over the rules per
 * service and source class; here every request of every qube is evaluated
 * one by one with `evaluate` instead, on random small systems and policies
 * written directly as `QrexecRule`s and `SystemInfo`, and the two must find
 * exactly the same (service, source, target, action) facts, over every argument.
 */
import test from 'ava';
import fc from 'fast-check';
import { ANY_ARGUMENT, findChannels, OTHER_SERVICE } from '../../compiler/qrexec/channels.js';
import { evaluate } from '../../compiler/qrexec/evaluate.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from '../../compiler/qrexec/types.js';

const RUNS = Number(process.env.QPC_PROPERTY_RUNS ?? 300);

const span = { file: 'channels.qpol', start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };

const TAGS = ['t1', 't2'] as const;
const SERVICES = ['s.A', 's.B', '*'] as const;
const ARGUMENTS = ['*', '+', '+x'] as const;
const ACTIONS = ['allow', 'ask', 'deny'] as const;
const MAX_DOMAINS = 8;

interface Scenario {
  readonly release: QubesRelease;
  readonly domains: readonly DomainInfo[];
  readonly rules: readonly QrexecRule[];
  /** Ordered pairs (source, target) of non-dom0 qubes whose calls matter. */
  readonly relevant: ReadonlySet<string>;
  /** Whether the analysis is told which targets can matter to each source. */
  readonly focus: boolean;
  /**
   * Qubes of one group are interchangeable (`key`): relevance is the same for
   * every pair of groups, and facts are compared per group. Absent: no key.
   */
  readonly groups?: ReadonlyMap<string, string>;
}

// ---------------------------------------------------------------- printing

function ruleText(r: QrexecRule): string {
  let s = `${r.service} ${r.argument} ${r.source} ${r.target} ${r.action}`;
  if (r.redirect !== undefined) s += ` target=${r.redirect}`;
  if (r.defaultTarget !== undefined) s += ` default_target=${r.defaultTarget}`;
  if (r.autostart === false) s += ' autostart=no';
  return s;
}

function domainText(d: DomainInfo): string {
  const parts = [d.name, d.type];
  if (d.templateForDispvms) parts.push('template_for_dispvms');
  if (d.tags.length > 0) parts.push(`tags=${d.tags.join(',')}`);
  parts.push(`default_dispvm=${d.defaultDispvm ?? '-'}`);
  if (d.running) parts.push('running');
  return parts.join(' ');
}

function scenarioText(s: Scenario): string {
  return [
    `release ${s.release}`,
    'domains:',
    ...s.domains.map((d) => `  ${domainText(d)}`),
    'rules:',
    ...s.rules.map((r, i) => `  [${i}] ${ruleText(r)}`),
    `relevant: ${[...s.relevant].map((p) => p.replace('|', '->')).join(' ') || '(none)'}`,
    ...(s.groups ? [`groups: ${[...s.groups].map(([q, g]) => `${q}=${g}`).join(' ')}`] : []),
    `focus: ${s.focus}`,
  ].join('\n');
}

// ---------------------------------------------------------------- generation

/** Picks `list[i mod length]`: raw integers shrink to the first entries. */
const pick = <T>(list: readonly T[], i: number): T => list[i % list.length];

/** A column token: below {@link NAMED} one that names no qube, else a qube's name (so that classes of several qubes are common). */
const NAMED = 85;
const token = fc.nat({ max: 99 });

const rawRule = fc.record({
  service: fc.nat({ max: SERVICES.length - 1 }),
  argument: fc.nat({ max: ARGUMENTS.length - 1 }),
  source: token,
  target: token,
  action: fc.nat({ max: ACTIONS.length - 1 }),
  // Present 1 time in 3 (a name makes its qube a class of its own).
  redirect: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 63 }) }),
  // `no-autostart` 1 time in 4: the call then succeeds only to a running qube.
  noAutostart: fc.nat({ max: 3 }).map((n) => n === 0),
  defaultTarget: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 63 }) }),
});

const rawScenario = fc.record({
  release: fc.constantFrom<QubesRelease>('4.2', '4.3'),
  dispvmTemplates: fc.integer({ min: 1, max: 2 }),
  templateVm: fc.boolean(),
  // A running disposable (type DispVM, its template's tags) and a standalone qube, as a real dom0 has them.
  dispVm: fc.boolean(),
  standalone: fc.boolean(),
  appVms: fc.nat({ max: 4 }),
  // Per domain slot (dom0 excluded): its tags and its default_dispvm (0: none, k: the k-th disposable template).
  // `twin`: the same tags and default_dispvm as the slot before (so that qubes of one type often form a class).
  slots: fc.array(fc.record({ tags: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.subarray([...TAGS]) }), defaultDispvm: fc.nat({ max: 2 }), running: fc.boolean(), twin: fc.boolean() }), {
    minLength: MAX_DOMAINS,
    maxLength: MAX_DOMAINS,
  }),
  rules: fc.array(rawRule, { maxLength: 12 }),
  focus: fc.boolean(),
  // Per domain slot, its group when keyed (null: not keyed).
  groups: fc.oneof(fc.constant(null), fc.array(fc.nat({ max: 2 }), { minLength: MAX_DOMAINS, maxLength: MAX_DOMAINS })),
  // Mostly relevant (3 in 4); shrinks to irrelevant.
  relevant: fc.array(fc.nat({ max: 3 }), { minLength: MAX_DOMAINS * MAX_DOMAINS, maxLength: MAX_DOMAINS * MAX_DOMAINS }),
});

function buildScenario(raw: typeof rawScenario extends fc.Arbitrary<infer T> ? T : never): Scenario {
  const templates = ['dvm1', 'dvm2'].slice(0, raw.dispvmTemplates);
  const names = [...templates];
  if (raw.templateVm) names.push('tpl');
  if (raw.dispVm) names.push('disp1');
  if (raw.standalone) names.push('sa1');
  const room = MAX_DOMAINS - 1 - names.length;
  for (let i = 1; i <= Math.min(raw.appVms, room); i++) names.push(`app${i}`);
  const domains: DomainInfo[] = [{ name: 'dom0', type: 'AdminVM', tags: [], defaultDispvm: null, templateForDispvms: false }];
  names.forEach((name, i) => {
    let k = i;
    while (k > 0 && raw.slots[k].twin) k--;
    const slot = raw.slots[k];
    const dd = slot.defaultDispvm === 0 ? null : pick(templates, slot.defaultDispvm - 1);
    domains.push({
      name,
      type: name === 'tpl' ? 'TemplateVM' : name === 'disp1' ? 'DispVM' : name === 'sa1' ? 'StandaloneVM' : 'AppVM',
      tags: slot.tags,
      defaultDispvm: dd,
      templateForDispvms: templates.includes(name),
      running: slot.running,
    });
  });

  const all = domains.map((d) => d.name);
  // `@dispvm:NAME` of every disposable template, and of one qube that is not one.
  const dispvmOf = [...templates, ...names.filter((n) => n.startsWith('app')).slice(0, 1)].map((n) => `@dispvm:${n}`);
  const sourceTokens = ['@anyvm', '@tag:t1', '@tag:t2', '@type:AppVM', '@type:DispVM', '@type:StandaloneVM', '@type:TemplateVM', 'dom0', '@adminvm', '*'];
  const targetTokens = [...sourceTokens, '@default', '@dispvm', ...dispvmOf];
  const column = (tokens: readonly string[], i: number) => (i < NAMED ? pick(tokens, i) : pick(all, i));
  const redirects = [...all, '@dispvm', ...dispvmOf];

  const rules: QrexecRule[] = raw.rules.map((r, i) => {
    const service = SERVICES[r.service];
    const action = ACTIONS[r.action];
    const rule: { -readonly [K in keyof QrexecRule]: QrexecRule[K] } = {
      service,
      // qrexec refuses a `*` service with an argument other than `*`.
      argument: service === '*' ? '*' : ARGUMENTS[r.argument],
      source: column(sourceTokens, r.source),
      target: column(targetTokens, r.target),
      action,
      origin: { policyFile: 'channels', stock: false, span, id: `channels#${i + 1}` },
    };
    if (action !== 'deny' && r.redirect !== null) rule.redirect = pick(redirects, r.redirect);
    if (action === 'ask' && r.defaultTarget !== null) rule.defaultTarget = pick(redirects, r.defaultTarget);
    if (action !== 'deny' && r.noAutostart) rule.autostart = false;
    return rule;
  });

  const relevant = new Set<string>();
  const groups = raw.groups === null ? undefined : new Map(names.map((n, i) => [n, `g${raw.groups![i]}`]));
  names.forEach((s, i) =>
    names.forEach((t, j) => {
      // Keyed: relevance depends on the two groups only.
      const at = groups ? Number(groups.get(s)!.slice(1)) * MAX_DOMAINS + Number(groups.get(t)!.slice(1)) : i * MAX_DOMAINS + j;
      if (s !== t && raw.relevant[at] !== 0) relevant.add(`${s}|${t}`);
    }),
  );
  const scenario: Scenario = { release: raw.release, domains, rules, relevant, focus: raw.focus, ...(groups ? { groups } : {}) };
  // fast-check prints counterexamples with this.
  Object.defineProperty(scenario, fc.toStringMethod, { value: () => `\n${scenarioText(scenario)}\n`, enumerable: false });
  return scenario;
}

const scenarios = rawScenario.map(buildScenario);

// ---------------------------------------------------------------- the two analyses

type Fact = string; // `service argument source -> target action`

// Facts hold across arguments: the analysis evaluates a named argument only for the
// sources its rules can match, and `+` or ANY_ARGUMENT for every other argument.
const fact = (service: string, _argument: string, source: string, target: string, action: string): Fact => `${service} ${source} -> ${target} ${action}`;

function infoOf(s: Scenario): SystemInfo {
  return { domains: new Map(s.domains.map((d) => [d.name, d])) };
}

/** `findChannels`, every channel expanded to its source × target pairs. */
function optimized(s: Scenario): Set<Fact> {
  const info = infoOf(s);
  const out = new Set<Fact>();
  // With a focus (every target relevant to a source, plus some that are not), or without.
  const focus = s.focus
    ? (sources: readonly string[]) => new Set(s.domains.map((d) => d.name).filter((t, i) => sources.some((src) => s.relevant.has(`${src}|${t}`)) || i % 3 === 0))
    : undefined;
  const key = s.groups ? (q: string) => s.groups!.get(q) ?? q : undefined;
  const channels = findChannels({ rules: s.rules, info, release: s.release, relevant: (a, b) => s.relevant.has(`${a}|${b}`), ...(focus ? { focus } : {}), ...(key ? { key } : {}) });
  for (const c of channels) {
    for (const a of c.sources) for (const b of c.targets) if (a !== b) out.add(fact(c.service, c.argument, key ? key(a) : a, key ? key(b) : b, c.action));
  }
  return out;
}

/** Every request of every qube through `evaluate`. */
function bruteForce(s: Scenario): Set<Fact> {
  const info = infoOf(s);
  // The services and arguments the analysis considers: each named service
  // with `+` and the `+X` its rules name, and one service no rule names.
  const args = new Map<string, Set<string>>([[OTHER_SERVICE, new Set(['+', ANY_ARGUMENT])]]);
  for (const r of s.rules) {
    if (r.service === '*') continue;
    const set = args.get(r.service) ?? new Set(['+', ANY_ARGUMENT]);
    if (r.argument !== '*') set.add(r.argument);
    args.set(r.service, set);
  }
  const qubes = s.domains.filter((d) => d.type !== 'AdminVM').map((d) => d.name);
  const out = new Set<Fact>();
  for (const [service, argSet] of args) {
    for (const argument of argSet) {
      for (const source of qubes) {
        // Every form of request target Qubes accepts: a qube, `@default`, dom0 by both names,
        // `@dispvm` and `@dispvm:Q` (refused unless Q is a disposable template).
        for (const target of [...qubes.filter((q) => q !== source), '@default', '@adminvm', 'dom0', '@dispvm', ...qubes.map((q) => `@dispvm:${q}`)]) {
          const d = evaluate(s.rules, info, { service, argument, source, target }, s.release);
          if (d.action === 'deny') continue;
          const reached = d.action === 'allow' ? [d.target!] : [...d.targets!];
          for (const x of reached) {
            const name = x.startsWith('@dispvm:') ? x.slice('@dispvm:'.length) : x;
            const dom = info.domains.get(name);
            if (dom === undefined || dom.type === 'AdminVM' || name === source) continue;
            // A new disposable of a qube that is no disposable template cannot be started: no call.
            if (x.startsWith('@dispvm:') && !dom.templateForDispvms) continue;
            if (!s.relevant.has(`${source}|${name}`)) continue;
            out.add(fact(service, argument, s.groups?.get(source) ?? source, s.groups?.get(name) ?? name, d.action));
          }
        }
      }
    }
  }
  return out;
}

/** Undefined when both analyses agree, else what each has that the other lacks. */
function disagreement(s: Scenario): string | undefined {
  const fast = optimized(s);
  const slow = bruteForce(s);
  const missing = [...slow].filter((f) => !fast.has(f)).sort();
  const extra = [...fast].filter((f) => !slow.has(f)).sort();
  if (missing.length === 0 && extra.length === 0) return undefined;
  return [
    scenarioText(s),
    ...(missing.length > 0 ? ['evaluate finds, findChannels does not:', ...missing.map((f) => `  ${f}`)] : []),
    ...(extra.length > 0 ? ['findChannels finds, evaluate does not:', ...extra.map((f) => `  ${f}`)] : []),
  ].join('\n');
}

test('findChannels finds exactly the calls evaluate allows or asks for, request by request', (t) => {
  const result = fc.check(
    fc.property(scenarios, (s) => disagreement(s) === undefined),
    { numRuns: RUNS },
  );
  if (result.failed) {
    const s = result.counterexample![0];
    t.fail(`findChannels and evaluate disagree (seed ${result.seed}, path "${result.counterexamplePath}", ${result.numShrinks} shrinks)\n${disagreement(s)}`);
  } else t.pass();
});

/** Undefined when every channel's rule is the one evaluate decides its request from, for each of its callers; else the first that is not. */
function misattributed(s: Scenario): string | undefined {
  const info = infoOf(s);
  const focus = s.focus ? (sources: readonly string[]) => new Set(s.domains.map((d) => d.name).filter((t, i) => sources.some((src) => s.relevant.has(`${src}|${t}`)) || i % 3 === 0)) : undefined;
  const key = s.groups ? (q: string) => s.groups!.get(q) ?? q : undefined;
  for (const c of findChannels({ rules: s.rules, info, release: s.release, relevant: (a, b) => s.relevant.has(`${a}|${b}`), ...(focus ? { focus } : {}), ...(key ? { key } : {}) })) {
    for (const source of c.sources) {
      const d = evaluate(s.rules, info, { service: c.service, argument: c.argument, source, target: c.requested }, s.release);
      if (d.rule !== c.rule) return `${scenarioText(s)}\n${source} -> ${c.requested} (${c.service} ${c.argument}): the channel says rule ${c.rule}, evaluate decides by rule ${d.rule}`;
    }
  }
  return undefined;
}

test('each channel names the rule evaluate decides its request from, for every caller it lists', (t) => {
  const result = fc.check(
    fc.property(scenarios, (s) => misattributed(s) === undefined),
    { numRuns: RUNS },
  );
  if (result.failed) t.fail(`a channel names another rule than evaluate (seed ${result.seed}, path "${result.counterexamplePath}")\n${misattributed(result.counterexample![0])}`);
  else t.pass();
});

// ---------------------------------------------------------------- minimal counterexamples found by the property

const domain = (name: string, type: string, more: Partial<DomainInfo> = {}): DomainInfo => ({ name, type, tags: [], defaultDispvm: null, templateForDispvms: false, ...more });

/** A rule in qrexec's line syntax: `SERVICE ARG SOURCE TARGET ACTION [target=X] [default_target=X]`. */
function rule(line: string, i: number): QrexecRule {
  const [service, argument, source, target, action, ...params] = line.split(/\s+/);
  const r: { -readonly [K in keyof QrexecRule]: QrexecRule[K] } = { service, argument, source, target, action: action as QrexecRule['action'], origin: { policyFile: 'channels', stock: false, span, id: `channels#${i + 1}` } };
  for (const p of params) {
    const [key, value] = p.split('=');
    if (key === 'target') r.redirect = value;
    else if (key === 'default_target') r.defaultTarget = value;
    else if (key === 'autostart' && value === 'no') r.autostart = false;
    else throw new Error(`bad parameter ${p}`);
  }
  return r;
}

const dom0 = domain('dom0', 'AdminVM');
const dvm1 = domain('dvm1', 'AppVM', { templateForDispvms: true, tags: ['t1'] });

/** Every ordered pair of distinct non-dom0 qubes, unless `relevant` lists some. */
function scenario(release: QubesRelease, domains: DomainInfo[], rules: string[], relevant?: string[]): Scenario {
  const all = domains.filter((d) => d.type !== 'AdminVM').map((d) => d.name);
  const pairs = relevant ?? all.flatMap((a) => all.filter((b) => b !== a).map((b) => `${a}|${b}`));
  return { release, domains, rules: rules.map(rule), relevant: new Set(pairs), focus: false };
}

const counterexamples: readonly (readonly [string, Scenario])[] = [
  [
    // dvm2 and dvm1 are one class and one key; `@dispvm` from dvm1 opens dvm1 itself (no call), from dvm2 it does not.
    'with a key, a member that is its own target does not stand for its peers',
    {
      ...scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm1' }), domain('dvm2', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm1' }), domain('app1', 'AppVM')], ['s.A * @anyvm @dispvm allow']),
      groups: new Map([['dvm1', 'g0'], ['dvm2', 'g0'], ['app1', 'g0']]),
    },
  ],
  [
    // A request to a qube that does not matter opens a dialog that lists a disposable that does.
    'an ask list reached through an irrelevant target lists a relevant disposable',
    scenario('4.2', [dom0, dvm1, domain('app1', 'AppVM'), domain('app2', 'AppVM', { tags: ['t1'] })], ['s.A * @anyvm @dispvm:dvm1 allow', 's.A * @anyvm app1 ask'], ['app2|dvm1']),
  ],
  [
    // Qubes 4.2 fails the call when default_target is not offered; dom0 is not in the list of `@anyvm`.
    'R4.2 ask whose default_target is not offered is denied',
    scenario('4.2', [dom0, domain('app1', 'AppVM'), domain('app2', 'AppVM', { tags: ['t1'] })], ['s.A * @anyvm @anyvm ask default_target=dom0']),
  ],
  [
    // `ask target=@dispvm` offers the token `@dispvm` itself, which is no qube (Qubes' AllowResolution then finds no such domain).
    'ask target=@dispvm offers no qube',
    scenario('4.3', [dom0, dvm1, domain('app1', 'AppVM', { defaultDispvm: 'dvm1' })], ['s.A * @anyvm @anyvm ask target=@dispvm']),
  ],
  [
    'allow target=@dispvm:Q is denied when Q is not a disposable template',
    scenario('4.3', [dom0, dvm1, domain('app1', 'AppVM'), domain('app2', 'AppVM', { tags: ['t2'] })], ['s.A * app1 @anyvm allow target=@dispvm:app2']),
  ],
  [
    // app2's `@default` dialog offers app1; the one evaluated for app1 (the class representative) does not list app1 itself.
    'an ask list evaluated for the class representative lacks the representative for the other members',
    scenario('4.3', [dom0, dvm1, domain('app1', 'AppVM'), domain('app2', 'AppVM')], ['s.A * @anyvm @default ask', 's.A * @anyvm @type:AppVM allow']),
  ],
  [
    // The dialog for app1 -> app2 lists every target the ask list collects, here also dvm1 (redirect of the shadowed rule).
    'the ask list of a named request reaches more than the requested qube',
    scenario('4.3', [dom0, dvm1, domain('app1', 'AppVM'), domain('app2', 'AppVM', { tags: ['t2'] })], ['s.A * app1 app2 ask', 's.A * app1 app2 allow target=dvm1']),
  ],
  [
    // app1 and app2 are one class; relevant(app1, dvm1) decides for app2 as well.
    'relevance is asked for the class representative only',
    scenario('4.3', [dom0, dvm1, domain('app1', 'AppVM'), domain('app2', 'AppVM')], ['s.A * @anyvm @anyvm allow'], ['app2|dvm1']),
  ],
  [
    // dvm1 and dvm2 are one class (default_dispvm dvm1); dvm2's `@dispvm` is a new disposable of dvm1, not a loopback.
    "a class member's disposables of the representative are dropped as loopback",
    scenario('4.3', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm1' }), domain('dvm2', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm1' })], ['s.A * @anyvm @dispvm allow']),
  ],
  [
    // dvm1 and dvm2 are one class (default_dispvm dvm2): every call goes to a new disposable of dvm2, so dvm2 reaches
    // nothing else. For dvm1 -> dvm2 (the class's own pair) target=@dispvm resolves to dvm2, the requested qube, and is
    // taken for no redirect: the whole class is reached, dvm2 -> dvm1 too.
    'a redirect to @dispvm that resolves to the requested qube is spread over its class',
    scenario('4.3', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm2' }), domain('dvm2', 'AppVM', { templateForDispvms: true, defaultDispvm: 'dvm2' })], ['s.A * @anyvm @anyvm allow target=@dispvm']),
  ],
  [
    // With argument +x, the allow to dom0 (which reaches no qube that matters) puts dom0 in the ask list,
    // so R4.2 offers the default target and the dialog opens; without +x it is denied.
    'an allow that reaches nothing that matters still offers the default target of an R4.2 dialog',
    scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true }), domain('dvm2', 'AppVM', { templateForDispvms: true }), domain('app1', 'AppVM')], ['s.B * @anyvm @anyvm ask default_target=dom0', 's.B +x @anyvm dom0 allow']),
  ],
  [
    // dvm1 and dvm2 are one class; app1 and app2 fill the two places of key g1 in dvm1's ask list before dvm2,
    // which must still be seen to be listed: dvm2's own list offers dvm1.
    "with a key, the caller's own class is listed even when its key has two qubes listed already",
    {
      ...scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true, tags: ['t1'] }), domain('dvm2', 'AppVM', { templateForDispvms: true, tags: ['t1'] }), domain('app1', 'AppVM'), domain('app2', 'AppVM')], ['s.A * @tag:t1 @type:AppVM ask'], ['dvm2|dvm1', 'app1|dvm1', 'app2|dvm1']),
      groups: new Map([['dvm1', 'g0'], ['dvm2', 'g1'], ['app1', 'g1'], ['app2', 'g1']]),
    },
  ],
  [
    // A request for a new disposable of dvm1, which is not in dvm1's focus, is redirected to dvm2, which is.
    'a request for a new disposable of a template outside the focus is redirected into it',
    { ...scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true }), domain('dvm2', 'AppVM', { templateForDispvms: true }), domain('app1', 'AppVM')], ['s.A * @anyvm @dispvm:dvm1 allow target=dvm2'], ['dvm1|dvm2']), focus: true },
  ],
  [
    // app1 runs, app2 does not: with `autostart=no` they are not interchangeable targets.
    'a running qube and a halted one are told apart by autostart=no',
    scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true }), domain('app1', 'AppVM', { running: true }), domain('app2', 'AppVM')], ['s.A * @anyvm @anyvm allow autostart=no'], ['app2|app1']),
  ],
  [
    // Qubes accepts `@adminvm` as a request target; a redirect sends the call elsewhere.
    'a request to dom0 redirected to a qube',
    scenario('4.3', [dom0, domain('app1', 'AppVM'), domain('app2', 'AppVM')], ['s.A * app1 @adminvm allow target=app2']),
  ],
  [
    // app1's `@dispvm:dvm1` request is redirected to its own default, dvm1: no other template is reached.
    'a redirect that lands on the requested template does not stand for other templates',
    scenario('4.2', [dom0, domain('dvm1', 'AppVM', { templateForDispvms: true }), domain('dvm2', 'AppVM', { templateForDispvms: true }), domain('app1', 'AppVM', { defaultDispvm: 'dvm1' })], ['s.A * @anyvm @anyvm allow target=@dispvm'], ['app1|dvm2']),
  ],
];

for (const [name, s] of counterexamples) {
  test(`counterexample: ${name}`, (t) => {
    for (const focus of [false, true]) {
      const d = disagreement({ ...s, focus });
      if (d === undefined) t.pass();
      else t.fail(`findChannels and evaluate disagree (${focus ? 'with' : 'without'} a focus)\n${d}`);
    }
  });
}

test('onChannel sees every channel found; enough stops a service early', (t) => {
  const s = counterexamples[0][1];
  const info = infoOf(s);
  const seen: unknown[] = [];
  const all = findChannels({ rules: s.rules, info, release: s.release, relevant: () => true, onChannel: (c) => seen.push(c) });
  t.true(all.length > 0);
  t.deepEqual(seen, all);
  t.deepEqual(findChannels({ rules: s.rules, info, release: s.release, relevant: () => true, enough: () => true }), []);
  // Enough after the first channel: exactly one source class is analysed.
  let found = 0;
  const few = findChannels({ rules: s.rules, info, release: s.release, relevant: () => true, onChannel: () => void found++, enough: () => found > 0 });
  t.true(few.length > 0 && few.length <= all.length);
});

test('counterexample: an ask between qubes whose calls do not matter opens a dialog that lists one that does', (t) => {
  const domains: DomainInfo[] = [
    { name: 'dom0', type: 'AdminVM', tags: [], defaultDispvm: null, templateForDispvms: false },
    { name: 'dvm1', type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: true },
    { name: 'tpl', type: 'TemplateVM', tags: [], defaultDispvm: null, templateForDispvms: false },
    { name: 'disp1', type: 'DispVM', tags: [], defaultDispvm: null, templateForDispvms: false },
  ];
  const rule = (i: number, target: string, action: QrexecRule['action'], extra: Partial<QrexecRule> = {}): QrexecRule => ({ service: 's.B', argument: '*', source: i === 0 ? '@type:TemplateVM' : '@anyvm', target, action, origin: { policyFile: 'channels', stock: false, span, id: `channels#${i + 1}` }, ...extra });
  const s: Scenario = { release: '4.2', domains, rules: [rule(0, '@type:DispVM', 'ask'), rule(1, '@anyvm', 'allow', { autostart: false })], relevant: new Set(['tpl|dvm1']), focus: false };
  t.is(disagreement(s), undefined);
});

test('counterexample: a deny between qubes whose calls do not matter hides a later redirect to one that does', (t) => {
  const domains: DomainInfo[] = [
    { name: 'dom0', type: 'AdminVM', tags: [], defaultDispvm: null, templateForDispvms: false },
    { name: 'dvm1', type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: true },
    { name: 'disp1', type: 'DispVM', tags: [], defaultDispvm: null, templateForDispvms: false },
    { name: 'sa1', type: 'StandaloneVM', tags: [], defaultDispvm: null, templateForDispvms: false },
    { name: 'app1', type: 'AppVM', tags: [], defaultDispvm: null, templateForDispvms: false },
  ];
  const origin = (i: number) => ({ policyFile: 'channels', stock: false, span, id: `channels#${i + 1}` });
  const rules: QrexecRule[] = [
    { service: 's.B', argument: '*', source: '@type:DispVM', target: '@type:StandaloneVM', action: 'deny', origin: origin(0) },
    { service: 's.B', argument: '*', source: '@anyvm', target: '@type:StandaloneVM', action: 'allow', redirect: 'app1', origin: origin(1) },
  ];
  t.is(disagreement({ release: '4.2', domains, rules, relevant: new Set(['disp1|app1']), focus: false }), undefined);
});
