/**
 * Updates of the templates of Tor identities (DESIGN §4.6): a template
 * fetches its updates through `qubes.UpdatesProxy`, and the complete policy
 * decides where that call goes. For every template a qube of a Tor identity
 * runs on (its own template, or the template of the disposable template it
 * starts disposables from or is a named disposable of), the call
 * `qubes.UpdatesProxy+ TEMPLATE @default` must be denied, or reach Tor
 * gateways only: an allow by its resolved target, an ask by every target it
 * offers. Emits QP3015.
 */
import { diag, type Related, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph, QubeFacts } from '../graph/policy-graph.js';
import { whonixRole } from '../passes/check-network.js';
import type { Decl, Program } from '../program.js';
import type { Span } from '../source.js';
import { queryStates, ruleText, ruleWhere, type EvaluatedPolicy } from './query.js';
import type { Decision, Request, SystemInfo } from './types.js';

const SERVICE = 'qubes.UpdatesProxy';

/** The tag the stock policy sends to sys-whonix (Whonix templates carry it). */
const UPDATE_TAG = 'whonix-updatevm';

/** How a qube of a Tor identity comes to use a template: for the related span. */
interface Use {
  readonly template: Decl;
  readonly qube: QubeFacts;
  readonly span: Span;
  readonly message: string;
}

/** The template at the end of a chain of `template` edges (a named disposable → its disposable template → a template). */
function templateOf(g: PolicyGraph, start: Decl): Decl | undefined {
  const seen = new Set<string>();
  for (let d: Decl | undefined = start; d && !seen.has(d.name); d = g.facts(d.name)?.template) {
    if (d.form === 'template') return d;
    seen.add(d.name);
  }
  return undefined;
}

/** Every template Tor identities run on, each with its first use (own templates first). */
function torTemplates(program: Program, g: PolicyGraph): Use[] {
  const uses = new Map<string, Use>();
  const add = (u: Use | undefined) => {
    if (u && !uses.has(u.template.name)) uses.set(u.template.name, u);
  };
  const tor = g.allFacts().filter((f) => f.mode === 'tor' && f.identity);
  const of = (f: QubeFacts) => `\`${f.decl.name}\` of Tor identity \`${f.identity!.name}\``;
  for (const f of tor) {
    if (f.template?.form === 'template') add({ template: f.template, qube: f, span: f.templateOrigin!, message: `${of(f)} is based on it` });
  }
  for (const f of tor) {
    if (f.template && f.template.form !== 'template') {
      const t = templateOf(g, f.template);
      if (t) add({ template: t, qube: f, span: f.templateOrigin!, message: `${of(f)} is a disposable of \`${f.template.name}\`, which is based on it` });
    }
    const dvm = f.defaultDisposable ? program.decls.get(f.defaultDisposable) : undefined;
    const t = dvm ? templateOf(g, dvm) : undefined;
    if (dvm && t) add({ template: t, qube: f, span: f.defaultDisposableOrigin ?? f.identity!.node.name.span, message: `${of(f)} starts its disposables from \`${dvm.name}\`, which is based on it` });
  }
  return [...uses.values()];
}

/** Why a target of the call is not a Tor gateway that carries updates over Tor; undefined when it is one. */
function notTor(g: PolicyGraph, target: string): string | undefined {
  if (!g.isTor(target)) return `\`${target}\` is not a Tor gateway`;
  const f = g.facts(target);
  // A `tor` gateway on another template is no Whonix-Gateway (QP3012): its traffic does not go through Tor.
  if (whonixRole(f?.template) !== 'gateway') return `\`${target}\` is marked \`tor\` but is not based on a Whonix gateway template, so its traffic does not go through Tor`;
  return undefined;
}

/** The targets a decision reaches: an allow's resolved target, every target an ask offers. */
function reached(d: Decision): readonly string[] {
  if (d.action === 'allow') return d.target !== undefined ? [d.target] : [];
  if (d.action === 'ask') return d.targets ?? [];
  return [];
}

/** The system information with one more tag on a qube. */
function withTag(info: SystemInfo, qube: string, tag: string): SystemInfo {
  const d = info.domains.get(qube);
  if (!d || d.tags.includes(tag)) return info;
  return { domains: new Map(info.domains).set(qube, { ...d, tags: [...d.tags, tag].sort() }) };
}

/** The targets of a decision that are not sound Tor gateways, each with the reason. */
function badTargets(g: PolicyGraph, d: Decision): { target: string; why: string }[] {
  return reached(d).flatMap((target) => {
    const why = notTor(g, target);
    return why === undefined ? [] : [{ target, why }];
  });
}

/** QP3015: a template of a Tor identity whose `qubes.UpdatesProxy` call reaches anything but a Tor gateway. */
export function checkUpdates(program: Program, graph: PolicyGraph, policy: EvaluatedPolicy, ctx: Reporter): void {
  const { rules, info } = policy;
  /** The decision that sends updates elsewhere, halted or (a `no-autostart` grant) with the gateways running; undefined if none does. */
  const leaking = (p: EvaluatedPolicy, request: Request): { d: Decision; bad: { target: string; why: string }[] } | undefined => {
    const { halted, running } = queryStates(p, request);
    for (const d of running ? [halted, running] : [halted]) {
      const bad = badTargets(graph, d);
      if (bad.length > 0) return { d, bad };
    }
    return undefined;
  };
  for (const use of torTemplates(program, graph)) {
    const t = use.template;
    if (!info.domains.has(t.name)) continue;
    const request: Request = { service: SERVICE, argument: '+', source: t.name, target: '@default' };
    const found = leaking(policy, request);
    if (found === undefined) continue;
    const { d, bad } = found;
    const rule = d.rule !== undefined ? rules[d.rule] : undefined;
    const outcome = d.action === 'allow' ? `the updates go to \`${d.target}\`` : `the dialog offers ${reached(d).map((x) => `\`${x}\``).join(', ')}`;
    const related: Related[] = [{ span: use.span, message: use.message }];
    if (rule) related.push({ span: rule.origin.span, message: `decided by \`${ruleText(rule)}\` in ${ruleWhere(rule)}: ${outcome}` });
    // The cause: a missing tag when the tag alone would send the call to a Tor gateway; else the rule that decides.
    const tagged = withTag(info, t.name, UPDATE_TAG);
    const missingTag = tagged !== info && leaking({ ...policy, info: tagged }, request) === undefined;
    const gateway = use.qube.via && graph.isTor(use.qube.via.name) ? use.qube.via.name : 'sys-whonix';
    let help: string;
    if (missingTag) {
      const how = t.std ? `write \`amend ${t.name} { tag ${UPDATE_TAG} }\`` : `add \`tag ${UPDATE_TAG}\` to the template`;
      help = `${how} so that Qubes routes its updates through the Whonix gateway`;
    } else if (rule && !rule.origin.stock && rule.origin.generated === undefined) {
      help = `your rule decides before the stock ones: let it send the updates to a Tor gateway (\`target ${gateway}\`), or deny them`;
    } else {
      help = `send the updates to a Tor gateway with a rule of yours, which decides before the stock ones: \`allow ${SERVICE} from ${t.name} to @default target ${gateway}\``;
    }
    ctx.report(
      diag('QP3015', t.node.name.span, { template: t.name }, {
        related,
        help,
        // Where a target is not a Tor gateway at all, the related rule says enough.
        notes: bad.filter((b) => graph.isTor(b.target)).map((b) => b.why),
        subject: t.name,
      }),
    );
  }
}
