/**
 * The two forms of a plan (docs/plan.md): the human one, grouped per qube
 * and per file in provisioning order with the changes that weaken isolation
 * marked `!!`, and the JSON one (`qpc-plan 1`), whose schema docs/plan.md
 * gives.
 */
import type { FilePlan, Plan, PrefChange, QubePlan, ValueChange } from './plan.js';
import type { PrefView } from './state.js';
import { escapeInvisible } from '../diagnostics/render-text.js';

/** The first line of the JSON form's `format`. */
export const PLAN_FORMAT = 'qpc-plan 1';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function prefText(p: PrefView | null): string {
  if (p === null) return '(not recorded)';
  if (p.value === null) return "(Qubes' default)";
  const v = p.value === '' ? "''" : p.value;
  return p.isDefault ? `${v} (Qubes' default)` : v;
}

const onOff = (v: boolean | null): string => (v === null ? '(unset)' : v ? 'on' : 'off');
const quoted = (v: string | null): string => (v === null ? '(unset)' : `'${v}'`);

function valueLines<T>(what: string, changes: readonly ValueChange<T>[], show: (v: T | null) => string): string[] {
  return changes.map((c) => (c.new === null ? `- ${what} ${c.name} (was ${show(c.old)})` : c.old === null ? `+ ${what} ${c.name} ${show(c.new)}` : `~ ${what} ${c.name}: ${show(c.old)} -> ${show(c.new)}`));
}

const indent = (n: number, lines: readonly string[]): string[] => lines.map((l) => (l === '' ? l : ' '.repeat(n) + l));

function qubeLines(q: QubePlan): string[] {
  const out: string[] = [];
  if (q.action === 'create') {
    const what = [q.class, ...(q.template !== null ? [`template ${q.template}`] : []), ...(q.label !== null ? [`label ${q.label}`] : [])];
    out.push(`+ ${q.name}  (create: ${what.join(', ')})`);
    const set = q.prefs.filter((p) => p.name !== 'label' && p.name !== 'template').map((p) => `${p.name}=${p.new.value === null ? "(Qubes' default)" : p.new.value === '' ? "''" : p.new.value}`);
    const body: string[] = [];
    if (set.length > 0) body.push(`properties: ${set.join(', ')}`);
    if (q.tagsAdded.length > 0) body.push(`tags: ${q.tagsAdded.join(', ')}`);
    if (q.features.length > 0) body.push(`features: ${q.features.map((f) => `${f.name}='${f.new ?? ''}'`).join(', ')}`);
    if (q.services.length > 0) body.push(`services: ${q.services.map((s) => `${s.name} ${onOff(s.new)}`).join(', ')}`);
    for (const d of q.devices) body.push(`+ device ${d.device}${optionText(d.options)}`);
    out.push(...indent(4, body));
  } else {
    out.push(`~ ${q.name}`);
    const body: string[] = [];
    const stale = new Set(q.stale);
    const why = (item: string, verb: string): string => (stale.has(item) ? `   (qpc ${verb} it; the policy no longer has it)` : '');
    for (const p of q.prefs) body.push(`~ ${p.name}: ${prefText(p.old)} -> ${prefText(p.new)}${p.name === 'netvm' && q.weakens.length > 0 ? '   !! WEAKENS ISOLATION' : ''}${why(`pref ${p.name}`, 'set')}`);
    for (const t of q.tagsAdded) body.push(`+ tag ${t}`);
    for (const t of q.tagsRemoved) body.push(`- tag ${t}${why(`tag ${t}`, 'added')}`);
    body.push(...valueLines('feature', q.features, quoted).map((l, i) => l + why(`feature ${q.features[i]!.name}`, 'set')));
    body.push(...valueLines('service', q.services, onOff).map((l, i) => l + why(`service ${q.services[i]!.name}`, 'set')));
    for (const d of q.devices) body.push(d.action === 'assign' ? `+ device ${d.device}${optionText(d.options)}` : d.action === 'unassign' ? `- device ${d.device}${why(`device ${d.device}`, 'assigned')}` : `~ device ${d.device}: assigned again${optionText(d.options)}`);
    out.push(...indent(4, body));
  }
  out.push(...indent(4, q.weakens.map((w) => `!! ${w}`)));
  out.push(...indent(4, q.notes.map((n) => `note: ${n}`)));
  return out;
}

function optionText(o: Readonly<Record<string, string>>): string {
  const kv = Object.entries(o).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return kv.length === 0 ? '' : ` (${kv.join(', ')})`;
}

/** The rules of a policy file: its lines that are not blank, comments or directives. */
function ruleCount(diff: string): number {
  return diff.split('\n').filter((l) => /^[+-][^+-]/.test(l) && !/^[+-]\s*(#|!|$)/.test(l)).length;
}

/** A file's lines; `diff` false shows a whole file added or removed by its number of rules (a policy file), not its text. */
function fileLines(f: FilePlan, diff: boolean): string[] {
  const mark = f.action === 'add' ? '+' : f.action === 'remove' ? '-' : '~';
  const about = [...(!diff && f.action !== 'change' ? [plural(ruleCount(f.diff), 'rule')] : []), ...(f.reason ? [f.reason] : [])];
  const out = [`${mark} ${f.path}${about.length > 0 ? `  (${about.join('; ')})` : ''}${f.weakens.length > 0 ? '   !! WEAKENS ISOLATION' : ''}`];
  out.push(...indent(4, f.weakens.map((w) => `!! ${w}`)));
  if ((diff || f.action === 'change') && f.diff !== '') out.push(...indent(4, f.diff.replace(/\n$/, '').split('\n')));
  return out;
}

function prefLine(p: PrefChange): string {
  return `~ ${p.name}: ${prefText(p.old)} -> ${prefText(p.new)}`;
}

/** What a plan counts, for its last line and the JSON's `summary`. */
export function planSummary(plan: Plan) {
  const files = (fs: readonly FilePlan[], a: FilePlan['action']) => fs.filter((f) => f.action === a).length;
  const whonix = plan.whonix.flatMap((g) => g.files);
  return {
    qubesToCreate: plan.qubes.filter((q) => q.action === 'create').length,
    qubesToChange: plan.qubes.filter((q) => q.action === 'change').length,
    qubesUnchanged: plan.unchangedQubes,
    globalPrefs: plan.globalPrefs.length,
    policyFiles: { add: files(plan.policyFiles, 'add'), change: files(plan.policyFiles, 'change'), remove: files(plan.policyFiles, 'remove') },
    whonixFiles: { add: files(whonix, 'add'), change: files(whonix, 'change'), remove: files(whonix, 'remove') },
    qubeFiles: plan.qubeFiles.length,
    staleItems: plan.record.stale,
    weakening: plan.qubes.reduce((n, q) => n + q.weakens.length, 0) + plan.policyFiles.reduce((n, f) => n + f.weakens.length, 0),
    unmanagedQubes: plan.unmanagedQubes.length,
    blockers: plan.blockers.length,
  };
}

/** The human plan. `source` names the policy; `machine` the snapshot or system info it was compared with. */
export function renderPlan(plan: Plan, source: string, machine: string): string {
  const L: string[] = [];
  const m = plan.machine;
  const about = [m.date ? `recorded ${m.date}` : '', m.release ? m.release : '', m.stateHash ? `state ${m.stateHash.slice(0, 12)}` : ''].filter((x) => x !== '');
  L.push(`qpc plan: ${source} on the machine of ${machine}${about.length > 0 ? ` (${about.join(', ')})` : ''}`);
  if (plan.blockers.length > 0) {
    L.push('', 'provision.sh would stop before it changes anything:');
    L.push(...indent(2, plan.blockers.map((b) => `! ${b}`)));
  }
  if (plan.qubes.length > 0) {
    L.push('', 'qubes, in provisioning order (+ create, ~ change):');
    for (const q of plan.qubes) L.push(...indent(2, qubeLines(q)));
  }
  if (plan.unchangedQubes > 0) L.push('', `${plural(plan.unchangedQubes, 'qube')} of the policy already as it says.`);
  if (plan.globalPrefs.length > 0) {
    L.push('', 'global properties (qubes-prefs):');
    L.push(...indent(2, plan.globalPrefs.map(prefLine)));
  }
  if (plan.policyFiles.length > 0) {
    L.push('', 'qrexec policy files (/etc/qubes/policy.d):');
    for (const f of plan.policyFiles) L.push(...indent(2, fileLines(f, false)));
  }
  const { stock, other } = plan.untouchedPolicyFiles;
  if (stock.length + other.length > 0) {
    L.push('', 'policy.d files left as they are:');
    if (other.length > 0) L.push(`  not qpc's: ${other.join(', ')}`);
    if (stock.length > 0) L.push(`  stock files the policy models: ${stock.join(', ')}`);
  }
  if (plan.whonix.length > 0) {
    L.push('', 'Whonix files (/usr/local/etc in each gateway):');
    for (const g of plan.whonix) {
      L.push(`  ${g.gateway}`);
      for (const f of g.files) L.push(...indent(4, fileLines(f, true)));
    }
  }
  if (plan.qubeFiles.length > 0) {
    L.push('', 'files inside qubes (named by the ownership record):');
    L.push(...indent(2, plan.qubeFiles.map((f) => `- ${f.qube}:${f.path}  (${f.reason})`)));
  }
  const r = plan.record;
  if (r.status === 'recorded' || r.status === 'absent') {
    const what = r.status === 'absent' ? 'none on the machine (no qpc run has changed it)' : `${plural(r.items, 'item')}, ${r.stale} of them stale (what this policy no longer has: taken back above where it is still on the machine, and dropped from the record)`;
    L.push('', `ownership record /var/lib/qpc/owned: ${what}`);
    L.push(...indent(2, r.left.map((l) => `left: ${l}`)));
  }
  if (plan.unmanagedQubes.length > 0) {
    const touched = plan.unmanagedQubes.filter((q) => plan.qubes.some((x) => x.name === q));
    const how = touched.length === 0 ? 'never touched' : `not configured; provisioning only takes back what an earlier qpc run wrote on ${touched.join(', ')} (above)`;
    L.push('', `qubes on the machine the policy does not declare (${how}): ${plan.unmanagedQubes.join(', ')}`);
  }
  if (plan.unknown.length > 0) {
    L.push('', 'not compared (the snapshot does not hold it):');
    L.push(...indent(2, plan.unknown.map((u) => `? ${u}`)));
  }
  const s = planSummary(plan);
  const parts: string[] = [];
  if (s.qubesToCreate + s.qubesToChange > 0) parts.push(`${plural(s.qubesToCreate, 'qube')} to create, ${s.qubesToChange} to change`);
  if (s.globalPrefs > 0) parts.push(`${plural(s.globalPrefs, 'global property', 'global properties')} to change`);
  const fileCount = (what: string, c: { add: number; change: number; remove: number }) => {
    if (c.add + c.change + c.remove > 0) parts.push(`${what}: ${c.add} to add, ${c.change} to change, ${c.remove} to remove`);
  };
  fileCount('policy files', s.policyFiles);
  fileCount('Whonix files', s.whonixFiles);
  if (s.qubeFiles > 0) parts.push(`${plural(s.qubeFiles, 'file')} in qubes to remove`);
  L.push('');
  if (!plan.changes) L.push('No changes: the machine is as the policy says.');
  else L.push(`Plan: ${parts.join('; ')}.`);
  if (s.weakening > 0) L.push(`!! ${plural(s.weakening, 'change weakens', 'changes weaken')} isolation (marked !! above).`);
  if (s.blockers > 0) L.push(`! ${plural(s.blockers, 'problem')} would stop provision.sh (above).`);
  // Values come from the machine (features a qube requested, files read from a gateway): no
  // control character of theirs but a tab reaches the terminal.
  return L.map((l) => l.split('\t').map(escapeInvisible).join('\t')).join('\n') + '\n';
}

/** The JSON plan (docs/plan.md gives its schema). */
export function planJson(plan: Plan, source: string): string {
  const { desired: _desired, machine: { manifest: _manifest, ...machine }, ...rest } = plan;
  void _desired;
  void _manifest;
  const out = {
    format: PLAN_FORMAT,
    policy: source,
    ...rest,
    machine,
    summary: planSummary(plan),
  };
  return JSON.stringify(out, null, 2) + '\n';
}

/** The first line of a plan file (`qpc plan --out FILE`), which provision.sh --plan reads. */
export const PLAN_FILE_FORMAT = 'qpc-plan-file 1';

/**
 * The plan file `provision.sh --plan FILE` reads (docs/plan.md, "Apply a
 * plan"): data only, one item a line: the sha256 of the provision.sh it was
 * made for, the snapshot's state and whether its script started the
 * gateways, the qubes an `--only-changes` run visits, the snapshot's
 * manifest (so provision.sh can name what changed) and the human plan, which
 * `provision.sh --plan FILE --dry-run` prints. Undefined for a plan made on
 * a system info: it has no state to compare.
 */
export function planFile(plan: Plan, humanText: string, provisionSha256: string): string | undefined {
  const m = plan.machine;
  if (m.coverage !== 'snapshot' || m.stateHash === undefined || m.manifest === undefined) return undefined;
  const lines = [
    PLAN_FILE_FORMAT,
    '# made by qpc plan; read by provision.sh --plan FILE (docs/plan.md). Do not edit: provision.sh compares the machine with it.',
    `provision ${provisionSha256}`,
    `state ${m.stateHash}`,
    `start-gateways ${m.startedGateways === true ? 'yes' : 'no'}`,
    ...plan.visit.map((q) => `qube ${q}`),
    ...m.manifest.split('\n').filter((l) => l !== '').map((l) => `collected ${l}`),
    ...humanText.replace(/\n$/, '').split('\n').map((l) => `text ${l}`),
  ];
  return lines.join('\n') + '\n';
}
