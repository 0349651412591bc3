/**
 * The proof of an import (`qpc import --verify`): the machine's policy files,
 * read as dom0 reads them, and the import's complete policy (the rules qpc
 * would emit and the stock files) are evaluated over the same grid of
 * requests with the same system information, and every request they decide
 * differently is listed. A difference the rules qpc generates to close the
 * Tor identities make (the request decides as dom0 does once they are taken
 * out: their deny decides, or leaves a qube out of an ask dialog) is a
 * documented one (QP6205); any other is QP6204.
 *
 * The grid: every qube of the snapshot as the caller; every service the
 * files or the import name, the stock channel services and one service no
 * rule names; for each, no argument, every argument a rule names and one no
 * rule names (for a service some rule names an argument of); every qube as the target, and `@default`, `@adminvm`,
 * `@dispvm` and `@dispvm:Q` for every disposable template.
 *
 * The system information is the snapshot's (`systemInfoOf`), with the
 * `identity-*` tags the import gives its qubes added: the native files name
 * no such tag, so their decisions do not change, and the import's own rules
 * that name an identity match as they will on the provisioned machine.
 */
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceFile } from '../source.js';
import type { Decision, DomainInfo, QrexecRule, QubesRelease, Request, SystemInfo } from '../qrexec/types.js';
import { evaluateIndexed, indexRules, matchesRequest } from '../qrexec/evaluate.js';
import { ANY_ARGUMENT, OTHER_SERVICE } from '../qrexec/channels.js';
import { decisionText } from '../qrexec/query.js';
import { dispvmOf } from '../qrexec/token.js';
import type { EvaluatedPolicy } from '../qrexec/query.js';

/** The services whose stock rules open channels between any qubes: always on the grid. */
export const CHANNEL_SERVICES: readonly string[] = [
  'qubes.ClipboardPaste',
  'qubes.Filecopy',
  'qubes.GetDate',
  'qubes.GetImageRGBA',
  'qubes.OpenInVM',
  'qubes.OpenURL',
  'qubes.StartApp',
  'qubes.UpdatesProxy',
  'qubes.VMExec',
  'qubes.VMExecGUI',
  'qubes.VMRootShell',
  'qubes.VMShell',
];

export interface Difference {
  readonly request: Request;
  readonly original: Decision;
  readonly imported: Decision;
  /** The rule of the import that decided, when one did. */
  readonly importedRule?: QrexecRule;
  readonly originalRule?: QrexecRule;
  /** The rules qpc generates to close the Tor identities make the difference: without them the import decides as dom0 does. */
  readonly documented: boolean;
  /** When documented: the generated rules that make it (the deciding one, or those that take qubes out of an ask list). */
  readonly closing: readonly QrexecRule[];
}

export interface VerifyResult {
  /** How many requests were evaluated on each side. */
  readonly compared: number;
  readonly differences: readonly Difference[];
  /** QP6204 per undocumented difference, QP6205 per documented one. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Two decisions alike in what the caller gets: action, target, ask list and default, user. */
function same(a: Decision, b: Decision): boolean {
  if (a.action !== b.action) return false;
  if (a.action === 'deny') return true;
  if ((a.target ?? '') !== (b.target ?? '') || (a.user ?? '') !== (b.user ?? '')) return false;
  if (a.action === 'ask') {
    const x = a.targets ?? [];
    const y = b.targets ?? [];
    if (x.length !== y.length || x.some((t, i) => t !== y[i]) || (a.defaultTarget ?? '') !== (b.defaultTarget ?? '')) return false;
  }
  return a.autostart === b.autostart;
}

/** The snapshot's system information with the import's `identity-*` tags. */
export function sharedInfo(machine: SystemInfo, imported: SystemInfo): SystemInfo {
  const domains = new Map<string, DomainInfo>();
  for (const [name, d] of machine.domains) {
    const extra = (imported.domains.get(name)?.tags ?? []).filter((t) => t.startsWith('identity-') && !d.tags.includes(t));
    domains.set(name, extra.length === 0 ? d : { ...d, tags: [...d.tags, ...extra].sort() });
  }
  return { domains };
}

const requestText = (r: Request): string => `${r.service}${r.argument === '+' ? '' : r.argument} ${r.source} ${r.target}`;

/**
 * Compares the machine's rules (`original`, in dom0's order) with the
 * import's complete policy over the grid. `sources` holds the import's text,
 * to name the Tor identity a generated rule closes.
 */
export function verifyPolicies(original: readonly QrexecRule[], machine: SystemInfo, imported: EvaluatedPolicy, release: QubesRelease, sources: ReadonlyMap<string, SourceFile> = new Map()): VerifyResult {
  const info = sharedInfo(machine, imported.info);
  const services = new Map<string, Set<string>>();
  const add = (s: string, a: string) => {
    if (s === '*') return;
    const set = services.get(s) ?? new Set(['+']);
    // An argument no rule names matters only beside one a rule names.
    if (a !== '*') set.add(a).add(ANY_ARGUMENT);
    services.set(s, set);
  };
  for (const r of [...original, ...imported.rules]) add(r.service, r.argument);
  for (const s of CHANNEL_SERVICES) add(s, '*');
  add(OTHER_SERVICE, '*');
  // A `+ARG` of a `*` service rule is an argument of every service.
  const anyArgs = [...original, ...imported.rules].filter((r) => r.service === '*' && r.argument !== '*').map((r) => r.argument);
  const qubes = [...info.domains.keys()].sort();
  const targets = [...qubes, '@default', '@adminvm', '@dispvm', ...qubes.filter((q) => info.domains.get(q)!.templateForDispvms).map(dispvmOf)];
  const a = indexRules(original);
  const b = indexRules(imported.rules);
  const generated = imported.rules.filter((r) => r.origin.generated !== undefined);
  const c = generated.length === 0 ? b : indexRules(imported.rules.filter((r) => r.origin.generated === undefined));
  const differences: Difference[] = [];
  let compared = 0;
  for (const service of [...services.keys()].sort()) {
    const args = [...new Set([...services.get(service)!, ...anyArgs])].sort();
    for (const argument of args) {
      for (const source of qubes) {
        for (const target of targets) {
          const request: Request = { service, argument, source, target };
          compared++;
          const x = evaluateIndexed(a, info, request, release);
          const y = evaluateIndexed(b, info, request, release);
          if (same(x, y)) continue;
          const importedRule = y.rule === undefined ? undefined : imported.rules[y.rule];
          const originalRule = x.rule === undefined ? undefined : original[x.rule];
          const documented = generated.length > 0 && same(x, evaluateIndexed(c, info, request, release));
          let closing: QrexecRule[] = [];
          if (documented) {
            if (importedRule?.origin.generated !== undefined) closing = [importedRule];
            else {
              // Qubes the dialog no longer offers: the generated rules that deny the caller each of them.
              const gone = (x.targets ?? []).filter((t) => !(y.targets ?? []).includes(t));
              closing = generated.filter((r) => r.action === 'deny' && gone.some((t) => matchesRequest(r, info, { ...request, target: t }, release)));
            }
          }
          differences.push({
            request,
            original: x,
            imported: y,
            ...(importedRule ? { importedRule } : {}),
            ...(originalRule ? { originalRule } : {}),
            documented,
            closing,
          });
        }
      }
    }
  }
  const diagnostics = differences.map((d) => {
    const args = { request: requestText(d.request), original: decisionText(d.original), imported: decisionText(d.imported) };
    const where = d.originalRule ? [`dom0 decides by \`${d.originalRule.origin.id}\` (\`${d.originalRule.origin.span.file}:${d.originalRule.origin.span.line}\`)`] : ['no rule of dom0 matches'];
    if (d.documented) {
      const names = [...new Set(d.closing.map((r) => sources.get(r.origin.span.file)?.text.slice(r.origin.span.start, r.origin.span.end) ?? r.origin.span.file))].sort();
      const by = d.closing.map((r) => `\`${r.origin.id}\``);
      return diag('QP6205', undefined, { ...args, identity: names.join('`, `') || '?' }, { notes: [...where, ...(by.length > 0 ? [`the import decides by ${by.slice(0, 3).join(', ')}${by.length > 3 ? ` and ${by.length - 3} more` : ''}`] : [])] });
    }
    return diag('QP6204', undefined, args, { notes: [...where, d.importedRule ? `the import decides by \`${d.importedRule.origin.id}\`` : 'no rule of the import matches'] });
  });
  return { compared, differences, diagnostics };
}
