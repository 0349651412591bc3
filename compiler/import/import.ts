/**
 * `qpc import SNAPSHOT`: a policy in the language equivalent to a recorded
 * machine (docs/snapshot.md). The stock policy files are not copied (`use
 * "qubes"`, `use "whonix"` bring them); Global Config's `50-config-*` files
 * become `stock sha256` blocks; every other file becomes a `policy-file`
 * block with its rules in order (rules.ts). Qubes, templates, disposables,
 * named disposables and gateways come from the qubes' properties, tags and
 * features; the standard library's qubes are amended, not declared again.
 * Identities are guessed (identities.ts), each guess marked `# guessed:`.
 *
 * The text is built as source, then parsed and printed by the formatter, so
 * that `qpc fmt` leaves it as it is. Reads through the host only; writes
 * nothing.
 */
import type { CompilerHost } from '../host.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceFile } from '../source.js';
import { parseFile } from '../syntax/parse.js';
import { format } from '../syntax/print.js';
import { defaultSettings, type Decl } from '../program.js';
import { substitute } from '../whonix.js';
import type { QrexecRule, QubesRelease } from '../qrexec/types.js';
import { readSnapshot, type MachineState, type QubeState } from '../snapshot/read.js';
import { readNativePolicy, type NativeHost } from '../native/read.js';
import { nativeText, ruleInLanguage } from './rules.js';
import { guessIdentities, networkOf, type GuessedIdentity, type Network } from './identities.js';

/** What the standard library holds for a release and a Whonix version (the public API builds it with `check`). */
export interface Library {
  /** The stock files the library models, by name (without `.policy`), each with its rules; an empty file has none. */
  readonly stock: ReadonlyMap<string, readonly QrexecRule[]>;
  /** The qubes and templates `use "qubes"` and `use "whonix"` declare, by name. */
  readonly decls: ReadonlyMap<string, Decl>;
}

export interface ImportOptions {
  /** Every qube in an identity of its own, none of them `tor`: no generated closing rule, so no decision changes. */
  readonly noIdentities?: boolean;
  /** The standard library of a release (and Whonix version, when the machine has Whonix). */
  readonly library: (release: QubesRelease, whonix: number | undefined) => Library;
}

export interface ImportResult {
  /** The policy, formatted; absent only when the snapshot could not be read at all. */
  readonly text?: string;
  readonly diagnostics: readonly Diagnostic[];
  /** The snapshot as read. */
  readonly state: MachineState;
  /** The snapshot's policy files read, for rendering the diagnostics that point into them. */
  readonly sources: ReadonlyMap<string, SourceFile>;
  readonly release: QubesRelease;
}

/** Tags Qubes or qpc put on qubes themselves: not written as `tag` items. */
const SYSTEM_TAGS = new Set(['created-by-dom0', 'guivm-dom0', 'audiovm-dom0', 'anon-vm', 'anon-gateway', 'whonix-updatevm', 'sdwdate-gui-client', 'sdwdate-gui-server']);

/** A tag, feature key or service name the language can write. */
const WORD = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A value the language writes in a string without a finding of the hidden-character lint. */
const PRINTABLE = /^[\x20-\x7e]*$/;

/** Features the language writes with other words (`whonix gateway`, `service`), or that a policy may not set. */
const FEATURE_WORDS = /^(whonix-gw|whonix-ws|service\..*)$/;

/** The release of `/etc/qubes-release`'s first line (`Qubes release 4.2.3 (R4.2)`), 4.2 when it names none. */
export function releaseOf(state: MachineState): QubesRelease {
  return /\b(?:R|release )4\.3/.test(state.release) ? '4.3' : '4.2';
}

/** The Whonix version of the machine's Whonix templates (`whonix-gateway-17`), if any. */
function whonixVersion(state: MachineState): number | undefined {
  const versions = new Set<number>();
  for (const q of state.qubes.values()) {
    const m = /^whonix-(?:gateway|workstation)-(\d+)$/.exec(q.name);
    if (m !== null && q.class === 'TemplateVM') versions.add(Number(m[1]));
  }
  return versions.size === 0 ? undefined : Math.max(...versions);
}

/** The Whonix version `settings` assumes when the policy names none. */
const DEFAULT_WHONIX = defaultSettings.whonix;

const quote = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;

/**
 * Text from the snapshot made safe for a `#` comment: a comment ends at a
 * line feed or a carriage return, so a value holding one (a device option
 * a backend qube chose, say) could otherwise write statements into the
 * policy. Every character outside printable ASCII is written as `\xNN` /
 * `\u{…}`.
 */
export function commentText(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, (c) => {
    const n = c.codePointAt(0)!;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/** The value of a property set on the qube (not Qubes' default). */
function own(q: QubeState, key: string): string | undefined {
  const p = q.prefs.get(key);
  return p === undefined || p.isDefault ? undefined : p.value;
}

/** The printed items of a standard library declaration (as this module writes items), to leave out of an `amend`. */
function libraryItems(d: Decl, whonix: number): Set<string> {
  const out = new Set<string>();
  for (const i of d.items) {
    if (i.kind === 'RefItem') out.add(`${i.key} ${i.target ? substitute(i.target.text, whonix) : 'none'}`);
    else if (i.kind === 'ValueItem') out.add(`${i.key} ${i.value.text}`);
    else if (i.kind === 'MemoryItem') out.add(`memory ${i.memory.value}${i.max ? ` max ${i.max.value}` : ''}`);
    else if (i.kind === 'FlagItem') out.add(i.flag);
  }
  return out;
}

/** Builds the policy text. */
class Writer {
  readonly out: string[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly sources = new Map<string, SourceFile>();
  private readonly gateways = new Set<string>();
  private readonly torGateways = new Set<string>();
  private readonly dispvmTemplates = new Set<string>();
  private readonly globalDispvm: string | undefined;

  constructor(
    readonly state: MachineState,
    readonly release: QubesRelease,
    readonly whonix: number | undefined,
    /** Whether the machine's Whonix templates say the version (else `settings` leaves it to the default). */
    readonly whonixKnown: boolean,
    readonly library: Library,
    readonly opts: ImportOptions,
    readonly dir: string,
  ) {
    const g = state.globalPrefs.get('default_dispvm')?.value;
    this.globalDispvm = g === undefined || g === '' || g === 'None' ? undefined : g;
    for (const q of state.qubes.values()) {
      if (q.class === 'AdminVM') continue;
      if (q.providesNetwork && q.class !== 'TemplateVM') {
        this.gateways.add(q.name);
        if (this.isTorGateway(q)) this.torGateways.add(q.name);
      }
      if (q.templateForDispvms) this.dispvmTemplates.add(q.name);
    }
  }

  private note(what: string, reason: string): void {
    this.diagnostics.push(diag('QP6202', undefined, { what, reason }));
  }

  isTorGateway(q: QubeState): boolean {
    const t = q.template === null ? undefined : this.state.qubes.get(q.template);
    return q.tags.includes('anon-gateway') || t?.features.has('whonix-gw') === true;
  }

  /** The items every qube-like declaration takes from the snapshot, in a fixed order. */
  private items(q: QubeState, inherited: { netvm?: string | null; label?: string | null; dispvm?: string | null }): string[] {
    const items: string[] = [];
    if (q.template !== null && q.class !== 'TemplateVM') items.push(`template ${q.template}`);
    if (q.label !== null && q.label !== inherited.label) items.push(`label ${q.label}`);
    if (q.class !== 'TemplateVM' && q.class !== 'AdminVM' && 'netvm' in inherited && q.netvm !== inherited.netvm) items.push(`netvm ${q.netvm ?? 'none'}`);
    const dd = q.prefs.get('default_dispvm');
    if (dd !== undefined && !dd.isDefault) {
      const v = dd.value === '' || dd.value === 'None' ? null : dd.value;
      const wanted = 'dispvm' in inherited ? inherited.dispvm : this.globalDispvm ?? null;
      if (v !== wanted) items.push(`default-disposable ${v ?? 'none'}`);
    }
    const mem = own(q, 'memory');
    const max = own(q, 'maxmem');
    if (mem !== undefined && /^\d+$/.test(mem)) items.push(`memory ${mem}${max !== undefined && /^\d+$/.test(max) && max !== '0' ? ` max ${max}` : ''}`);
    const vcpus = own(q, 'vcpus');
    if (vcpus !== undefined && /^\d+$/.test(vcpus)) items.push(`vcpus ${vcpus}`);
    const virt = own(q, 'virt_mode');
    if (virt !== undefined && /^(pvh|hvm|pv)$/.test(virt)) items.push(`virt-mode ${virt}`);
    const kernel = own(q, 'kernel');
    if (kernel !== undefined) items.push(kernel === '' || kernel === 'None' ? 'kernel none' : `kernel ${quote(kernel)}`);
    const opts = own(q, 'kernelopts');
    if (opts !== undefined) items.push(`kernelopts ${quote(opts)}`);
    if (own(q, 'autostart') === 'True') items.push('autostart');
    const skip = (what: string) => this.note(`${what} of \`${q.name}\``, 'the language takes only names of letters, digits, `.`, `_` and `-`, and values of printable ASCII');
    for (const t of q.tags) {
      if (SYSTEM_TAGS.has(t) || t.startsWith('created-by-')) continue;
      if (WORD.test(t)) items.push(`tag ${t}`);
      else skip(`the tag ${JSON.stringify(t)}`);
    }
    for (const [k, v] of [...q.features].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (FEATURE_WORDS.test(k)) continue;
      if (WORD.test(k) && PRINTABLE.test(v)) items.push(`feature ${k} ${quote(v)}`);
      else skip(`the feature ${JSON.stringify(k)}`);
    }
    for (const [s, on] of [...q.services].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (WORD.test(s)) items.push(on ? `service ${s}` : `service ${s} off`);
      else skip(`the service ${JSON.stringify(s)}`);
    }
    for (const d of q.devices) {
      const options = [...d.options].map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(', ');
      items.push(`# not imported: device ${commentText(`${d.devclass} ${quote(d.device)}${options !== '' ? ` (${options})` : ''}`)}`);
      this.note(`the ${d.devclass} device \`${d.device}\` of \`${q.name}\``, 'qpc cannot provision device assignments yet (QP4001); it is written as a comment');
    }
    return items;
  }

  /** A section's heading, written before its first declaration (an empty section has none). */
  private pending: string | undefined;

  private section(title: string): void {
    this.pending = `# ${'-'.repeat(64)} ${title}`;
  }

  private flush(): void {
    if (this.pending === undefined) return;
    this.out.push('', this.pending, '');
    this.pending = undefined;
  }

  private block(head: string, items: readonly string[], comment?: string): void {
    this.flush();
    if (comment !== undefined) this.out.push(comment);
    if (items.length === 0) this.out.push(head);
    else this.out.push(`${head} {`, ...items.map((i) => `  ${i}`), '}');
  }

  /** A declaration of the standard library gets `amend` with what the snapshot says beyond it. */
  private amend(q: QubeState, d: Decl, inherited: Parameters<Writer['items']>[1]): void {
    const have = libraryItems(d, this.whonix ?? DEFAULT_WHONIX);
    const items = this.items(q, inherited).filter((i) => !have.has(i));
    if (items.length > 0) this.block(`amend ${q.name}`, items);
  }

  write(): void {
    const { state } = this;
    const stamp = `# Imported by \`qpc import\` from a snapshot of ${commentText(state.release) || 'an unknown release'}${state.date ? `, recorded ${commentText(state.date)}` : ''}.`;
    this.out.push(stamp, "# Lines marked `guessed:` are inferences from the snapshot: confirm or change them. What", "# `qpc check` finds on the machine as it is carries `because \"imported from the machine", "# as it is: review\"`.", '', 'use "qubes"');
    if (this.whonix !== undefined) this.out.push('use "whonix"');
    this.out.push('', 'settings {', `  qubes ${this.release}`);
    if (this.whonix !== undefined && this.whonixKnown) this.out.push(`  whonix ${this.whonix}`);
    if (this.globalDispvm !== undefined && state.qubes.has(this.globalDispvm)) this.out.push(`  default-disposable ${this.globalDispvm}`);
    const kernel = state.globalPrefs.get('default_kernel');
    if (kernel !== undefined) this.out.push(`  kernel ${kernel.value === '' || kernel.value === 'None' ? 'none' : quote(kernel.value)}`);
    this.out.push('}');

    const sorted = [...state.qubes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const lib = this.library.decls;

    this.section('templates');
    for (const q of sorted.filter((x) => x.class === 'TemplateVM')) {
      const d = lib.get(q.name);
      if (d !== undefined) { this.amend(q, d, { label: 'black' }); continue; }
      const role = q.features.has('whonix-gw') ? ['whonix gateway'] : q.features.has('whonix-ws') ? ['whonix workstation'] : [];
      this.block(`template ${q.name}`, [...role, ...this.items(q, {})]);
    }

    this.section('gateways');
    for (const q of sorted.filter((x) => this.gateways.has(x.name))) {
      const d = lib.get(q.name);
      if (d !== undefined) { this.amend(q, d, { netvm: '' }); continue; }
      const kind: string[] = [];
      if (this.torGateways.has(q.name)) kind.push('tor');
      else if (q.netvm === null) kind.push('uplink');
      const comment = this.torGateways.has(q.name) ? `# guessed: a Tor gateway (${q.tags.includes('anon-gateway') ? 'tagged `anon-gateway`' : 'on a Whonix-Gateway template'})` : q.netvm === null ? '# guessed: attached to the physical network (it provides network and has no netvm)' : undefined;
      this.block(`gateway ${q.name}`, [...kind, ...this.items(q, { netvm: '' })], comment);
    }

    // Qubes in identities: every AppVM, DispVM and StandaloneVM that is not a gateway.
    const members = sorted.filter((q) => q.class !== 'AdminVM' && q.class !== 'TemplateVM' && !this.gateways.has(q.name) && !lib.has(q.name));
    const networks = new Map<string, Network>(members.map((q) => [q.name, networkOf(q, this.torGateways)]));
    const taken = new Set<string>([...state.qubes.keys(), ...lib.keys()]);
    const ids = guessIdentities(members, networks, taken, this.opts.noIdentities === true);
    for (const q of sorted) if (q.class !== 'AdminVM' && q.class !== 'TemplateVM' && !this.gateways.has(q.name) && lib.has(q.name)) this.note(`\`${q.name}\``, 'the standard library declares it as another kind of qube; it is left as the library declares it');

    this.section('identities and their qubes');
    for (const [i, id] of ids.entries()) {
      if (i > 0) this.out.push('');
      this.flush();
      for (const c of id.comments) this.out.push(`# ${commentText(c)}`);
      const net = id.network.mode === 'none' ? 'network none' : `network ${id.network.mode} via ${id.network.via}`;
      this.block(`identity ${id.name}`, [net, ...(id.label !== null ? [`label ${id.label}`] : [])]);
      for (const q of id.members) {
        const form = q.class === 'DispVM' ? 'named-disposable' : q.class === 'StandaloneVM' ? 'standalone' : q.templateForDispvms ? 'disposable' : 'qube';
        const extra: string[] = [];
        // A qube of a Tor identity that Whonix did not tag (a Debian proxy behind its own gateway) keeps its tags as they are.
        if (id.network.mode === 'tor' && !q.tags.includes('anon-vm')) extra.push('whonix-tags off');
        this.block(`${form} ${q.name} in ${id.name}`, [...this.items(q, { netvm: id.network.mode === 'none' ? null : id.network.via, label: id.label }), ...extra]);
      }
    }
    this.diagnostics.push(...ids.flatMap((i) => i.diagnostics));
    // Whonix-Gateway files: the language declares listeners through apps' SOCKS bindings, which a torrc line does not name.
    for (const g of [...state.whonix.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for (const [sub, files] of [['torrc.d', g.torrc], ['whonix_firewall.d', g.firewall]] as const) {
        for (const [f, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (text.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) this.note(`\`${g.name}\`'s \`${sub}/${f}\``, 'the language declares Tor listeners and firewall ports through the SOCKS bindings of apps; write the apps that use them');
        }
      }
    }
    for (const line of state.skippedGateways) this.note(`the Whonix-Gateway configuration of \`${line.split(':')[0]}\``, `the snapshot did not record it (${line.slice(line.indexOf(':') + 1).trim()})`);
    this.waivers(ids);
    this.policyFiles();
  }

  /**
   * Qubes that open disposables of a template in another identity are the
   * machine as it is (every qube of a fresh install opens `default-dvm`'s):
   * each such finding (QP3016) is waived where check reports it, saying so.
   */
  private waivers(ids: readonly GuessedIdentity[]): void {
    const identityOf = new Map<string, string>();
    for (const id of ids) for (const q of id.members) identityOf.set(q.name, id.name);
    const lines: string[] = [];
    const why = (d: string) => quote(`imported: the machine's qubes open disposables of \`${d}\`, which the import puts in another identity`);
    for (const id of ids) {
      let global = false;
      for (const q of id.members) {
        const dd = q.prefs.get('default_dispvm');
        const explicit = dd !== undefined && !dd.isDefault && dd.value !== '' && dd.value !== 'None' && dd.value !== (this.globalDispvm ?? null) ? dd.value : undefined;
        const inherited = dd === undefined || dd.isDefault || dd.value === (this.globalDispvm ?? null);
        if (explicit !== undefined && identityOf.has(explicit) && identityOf.get(explicit) !== id.name) lines.push(`waive QP3016 on ${q.name} because ${why(explicit)}`);
        else if (inherited && !global && this.globalDispvm !== undefined && identityOf.has(this.globalDispvm) && identityOf.get(this.globalDispvm) !== id.name) {
          global = true;
          lines.push(`waive QP3016 on ${id.name} because ${why(this.globalDispvm)}`);
        }
        if (q.class === 'DispVM' && q.template !== null && identityOf.has(q.template) && identityOf.get(q.template) !== id.name) lines.push(`waive QP3016 on ${q.name} because ${why(q.template)}`);
      }
    }
    if (lines.length > 0) this.out.push('', ...lines);
  }

  /** The policy files of the snapshot: stock ones left to the library, Global Config's as stock blocks, the rest as blocks. */
  private policyFiles(): void {
    const known = (n: string): boolean => this.state.qubes.has(n) || this.library.decls.has(n);
    const host = snapshotHost(this.state, this.dir);
    const tops = this.state.policy.filter((f) => !f.path.includes('/') && f.path.endsWith('.policy') && f.path.length > 7 && !f.path.startsWith('.'));
    let header = false;
    for (const f of tops) {
      const name = f.path.slice(0, -'.policy'.length);
      const read = readNativePolicy([`${this.dir}/policy.d/${f.path}`], host, this.release, { stock: this.library.stock });
      for (const [k, v] of read.sources) this.sources.set(k, v);
      const rules = read.rules;
      const model = this.library.stock.get(name);
      if (rules.length > 0 && rules.every((r) => r.origin.stock)) continue;
      if (rules.length === 0 && model !== undefined && model.length === 0) continue;
      // `!compat-4.0` alone (35-compat): it splices the legacy files of /etc/qubes-rpc/policy, which the
      // snapshot does not record; the library models what a stock install has there.
      if (rules.length === 0 && model !== undefined && read.diagnostics.some((d) => d.code === 'QP6004') && onlyCompat(f.text)) continue;
      // What the reader says about a file that is not stock (a stock one is the library's business).
      this.diagnostics.push(...read.diagnostics.filter((d) => d.code !== 'QP6005'));
      if (model !== undefined) {
        // dom0 has a file of this name that differs from Qubes' own: the library models the stock one, and the language cannot replace it.
        this.diagnostics.push(diag('QP6203', undefined, { file: `${this.dir}/policy.d/${f.path}`, release: this.release }));
        continue;
      }
      if (rules.length === 0) {
        this.note(`\`${this.dir}/policy.d/${f.path}\``, 'it holds no rule that can be read offline, so there is nothing to import');
        continue;
      }
      if (!header) {
        this.section('policy files of the machine');
        header = true;
      }
      const config = /^50-config-/.test(name);
      const lines: string[] = [];
      for (const r of rules) {
        const t = ruleInLanguage(r, known);
        if (typeof t === 'string') { lines.push(t); continue; }
        this.diagnostics.push(diag('QP6201', r.origin.span, { rule: nativeText(r), reason: t.why }, {
          label: 'left out of the import',
          ...(config ? { notes: ['this file is modelled as a `stock` block: qpc evaluates the block, dom0 keeps the file, so the proof now misses this rule'] } : {}),
        }));
        lines.push(`# not imported: ${commentText(nativeText(r))}`);
      }
      if (this.pending === undefined) this.out.push('');
      this.flush();
      if (config) this.out.push("# A `50-config-*` file (Global Config's, or the installer's): dom0 keeps it as it is; provisioning checks its sha256.");
      this.block(config ? `policy-file ${name} stock sha256 ${quote(f.sha256)}` : `policy-file ${name}`, lines);
      if (lines.length === 0) this.out.push(`policy-file ${name} {}`);
    }
  }
}

/** A file whose only line that is not a comment is `!compat-4.0`. */
function onlyCompat(text: string): boolean {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return lines.length === 1 && lines[0] === '!compat-4.0';
}

/** The snapshot's policy.d as files to read again (the snapshot's text, never the disk's): a host over the state. */
function snapshotHost(state: MachineState, dir: string): NativeHost {
  const base = `${dir}/policy.d/`;
  const files = new Map(state.policy.map((f) => [`${base}${f.path}`, f.text]));
  return {
    readFile: (p: string) => {
      const t = files.get(p);
      if (t === undefined) throw Object.assign(new Error(`ENOENT: no such file in the snapshot: ${p}`), { code: 'ENOENT' });
      return t;
    },
    listDir: (d: string) => {
      const prefix = d.endsWith('/') ? d : `${d}/`;
      const names = new Map<string, 'file' | 'directory'>();
      for (const p of files.keys()) if (p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        const slash = rest.indexOf('/');
        names.set(slash < 0 ? rest : rest.slice(0, slash), slash < 0 ? 'file' : 'directory');
      }
      if (names.size === 0) throw Object.assign(new Error(`ENOENT: ${d}`), { code: 'ENOENT' });
      return [...names].map(([name, kind]) => ({ name, kind }));
    },
  } as NativeHost;
}

export { snapshotHost };

/**
 * Imports the snapshot in `dir`. Never throws; never writes. What the
 * snapshot lacks or the language cannot say is a diagnostic, and the rest
 * is imported.
 */
export function importSnapshot(dir: string, host: CompilerHost, opts: ImportOptions): ImportResult {
  const snap = readSnapshot(dir, host);
  const state = snap.state;
  const release = releaseOf(state);
  if (state.format === 0 && state.qubes.size === 0 && state.policy.length === 0) return { diagnostics: snap.diagnostics, state, release, sources: new Map() };
  // A piece the snapshot lacks is named, and the rest imported: a warning, not a failure.
  const diagnostics: Diagnostic[] = snap.diagnostics.map((d) => (d.severity === 'error' ? { ...d, severity: 'warning' as const } : d));
  // Whonix's add-on ships 80-whonix.policy: a machine with it, or with Whonix templates, takes `use "whonix"`.
  const version = whonixVersion(state);
  const whonix = version ?? (state.policy.some((f) => f.path === '80-whonix.policy') ? DEFAULT_WHONIX : undefined);
  const library = opts.library(release, whonix);
  const w = new Writer(state, release, whonix, version !== undefined, library, opts, dir.replace(/\/+$/, ''));
  w.write();
  diagnostics.push(...w.diagnostics);
  const raw = w.out.join('\n') + '\n';
  const src = new SourceFile('import.qpol', raw);
  const parsed = parseFile(src);
  if (!parsed.ast || parsed.diagnostics.some((d) => d.severity === 'error')) {
    // A value from the snapshot the language cannot hold: a bug of this module, said as one.
    return { diagnostics: [...diagnostics, ...parsed.diagnostics], state, release, sources: w.sources };
  }
  return { text: format(parsed.ast, raw), diagnostics, state, release, sources: w.sources };
}
