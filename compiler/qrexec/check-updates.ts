/**
 * Updates of the templates of Tor identities (DESIGN §4.6): a template
 * fetches its updates through `qubes.UpdatesProxy`, and the complete policy
 * decides where that call goes. For every template a qube of a Tor identity
 * runs on (its own template, or the template of the disposable template it
 * starts disposables from or is a named disposable of), the call
 * `qubes.UpdatesProxy+ TEMPLATE @default` must be denied, or reach Tor
 * gateways only: an allow by its resolved target, an ask by every target it
 * offers. Emits QP3015, at the mistake: the user's rule that decides, the
 * Tor qube's choice of a template that other qubes share, or a template only
 * Tor identities use.
 */
import { diag, type Related, type Reporter } from '../diagnostics/diagnostic.js';
import type { PolicyGraph, QubeFacts } from '../graph/policy-graph.js';
import { whonixRole } from '../whonix.js';
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
  /** The reference that makes the qube depend on the template: its `template`, `default-disposable` or identity's `disposable`. */
  readonly span: Span;
  readonly message: string;
  /** The declaration whose `template` picks the template: the qube, or the disposable template it uses. */
  readonly chooser: Decl;
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
    if (f.template?.form === 'template') add({ template: f.template, qube: f, span: f.templateOrigin!, message: `${of(f)} is based on it`, chooser: f.decl });
  }
  for (const f of tor) {
    if (f.template && f.template.form !== 'template') {
      const t = templateOf(g, f.template);
      if (t) add({ template: t, qube: f, span: f.templateOrigin!, message: `${of(f)} is a disposable of \`${f.template.name}\`, which is based on it`, chooser: f.template });
    }
    const dvm = f.defaultDisposable ? program.decls.get(f.defaultDisposable) : undefined;
    const t = dvm ? templateOf(g, dvm) : undefined;
    if (dvm && t) add({ template: t, qube: f, span: f.defaultDisposableOrigin ?? f.identity!.node.name.span, message: `${of(f)} starts its disposables from \`${dvm.name}\`, which is based on it`, chooser: dvm });
  }
  return [...uses.values()];
}

/**
 * The declared qubes outside Tor identities that run on a template (on it,
 * or as disposables of a disposable template on it): they share its
 * updates, so a change to how the template updates changes theirs too.
 */
function clearnetUsers(g: PolicyGraph, template: Decl): string[] {
  return g
    .allFacts()
    .filter((f) => f.mode !== 'tor' && f.template !== undefined && f.decl.form !== 'template' && templateOf(g, f.template) === template)
    .map((f) => f.decl.name)
    .sort();
}

/** `a`, `a and b`, `a, b and c`, `a, b, c and 4 more`, each in backticks. */
function listed(names: readonly string[]): string {
  const q = names.map((n) => `\`${n}\``);
  if (q.length > 4) return `${q.slice(0, 3).join(', ')} and ${q.length - 3} more`;
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
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
    const decided: Related[] = rule ? [{ span: rule.origin.span, message: `decided by \`${ruleText(rule)}\` in ${ruleWhere(rule)}: ${outcome}` }] : [];
    const used: Related = { span: use.span, message: use.message };
    // The cause: a missing tag when the tag alone would send the call to a Tor gateway; else the rule that decides.
    const tagged = withTag(info, t.name, UPDATE_TAG);
    const missingTag = tagged !== info && leaking({ ...policy, info: tagged }, request) === undefined;
    const gateway = use.qube.via && graph.isTor(use.qube.via.name) ? use.qube.via.name : 'sys-whonix';
    const ours = rule !== undefined && !rule.origin.stock && rule.origin.generated === undefined;
    const others = clearnetUsers(graph, t);
    const workstation = `whonix-workstation-${program.settings.whonix}`;
    const run = others.length === 1 ? 'runs' : 'run';
    const declared: Related = { span: t.node.name.span, message: `\`${t.name}\` is declared here${others.length > 0 ? `; ${listed(others)}, outside Tor identities, also ${run} on it` : ''}` };
    // The primary span is the mistake: the user's rule that sends the updates elsewhere; the Tor
    // qube's choice of a template that other qubes share (or one of the standard library's);
    // else the template itself, which only Tor identities use.
    let at: Span = t.node.name.span;
    let label: string | undefined;
    let related: Related[] = [used, ...decided];
    let help: string;
    if (ours) {
      at = rule.origin.span;
      label = outcome;
      related = [declared, used];
      help = `your rule decides before the stock ones: let it send the updates to a Tor gateway (\`target ${gateway}\`), or deny them`;
    } else if (missingTag && (others.length > 0 || t.std)) {
      at = use.span;
      related = [declared, ...decided];
      const tag = t.std ? `\`amend ${t.name} { tag ${UPDATE_TAG} }\`` : `\`tag ${UPDATE_TAG}\` on \`${t.name}\``;
      const whose = others.length > 0 ? `of ${listed(others)}, which ${run} on it too,` : 'of every qube that runs on it';
      const id = use.qube.identity!.name;
      // A disposable template of another identity must not become a Whonix workstation (QP3010): the Tor qube needs one of its own.
      const first =
        graph.facts(use.chooser.name)?.mode === 'tor'
          ? `base \`${use.chooser.name}\` on a Whonix workstation template (\`template ${workstation}\`), which updates through \`sys-whonix\` over Tor, or on a template of its own with \`tag ${UPDATE_TAG}\``
          : `give \`${use.qube.decl.name}\` a disposable template of identity \`${id}\` instead of \`${use.chooser.name}\`, based on a Whonix workstation template (\`template ${workstation}\`), which updates through \`sys-whonix\` over Tor`;
      help =
        `${first}\n` +
        `${tag} instead would move the updates ${whose} to \`sys-whonix\` and Tor: they would fail whenever \`sys-whonix\` cannot reach Tor`;
    } else if (missingTag) {
      help = `add \`tag ${UPDATE_TAG}\` to the template: Qubes then sends its updates through \`sys-whonix\` over Tor (only qubes of Tor identities run on it); or base \`${use.chooser.name}\` on \`${workstation}\`, which has the tag`;
    } else {
      help = `send the updates to a Tor gateway with a rule of yours, which decides before the stock ones: \`allow ${SERVICE} from ${t.name} to @default target ${gateway}\``;
    }
    ctx.report(
      diag('QP3015', at, { template: t.name, name: use.qube.decl.name, identity: use.qube.identity!.name }, {
        ...(label !== undefined ? { label } : {}),
        related,
        help,
        // Where a target is not a Tor gateway at all, the related rule says enough.
        notes: bad.filter((b) => graph.isTor(b.target)).map((b) => b.why),
        subject: t.name,
      }),
    );
  }
}
