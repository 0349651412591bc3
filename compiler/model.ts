/**
 * The policy model: what a checked policy means for a deployment, in the
 * shape targets read (DESIGN §2, §5). Built once by `lowerModel` from a
 * check without errors; read-only. Every value here has been validated by
 * the checker (names, numbers, tokens), and every entry keeps the source span
 * that decided it, so a target can reject what it cannot express (QP4xxx) at
 * the line that wrote it.
 *
 * Order is canonical (qubes by name, rules in evaluation order), so targets
 * that walk the model in order emit the same bytes whatever the declaration
 * order of the source.
 */
import type { DeclKind, Settings } from './program.js';
import type { QrexecRule, SystemInfo } from './qrexec/types.js';
import type { Span } from './source.js';

/** The SOCKS port one app of a Tor qube uses on its gateway (allocated by passes/allocate-socks.ts). */
export interface SocksAssignment {
  readonly qube: string;
  readonly app: string;
  readonly gateway: string;
  readonly mode: 'dedicated' | 'port' | 'auth';
  readonly port: number;
  /** Sorted isolation flags of the listener the app uses. */
  readonly isolate: readonly string[];
  readonly span: Span;
}

/** A Qubes qube class, as `qvm-create --class` spells it. */
export type QubeClass = 'AdminVM' | 'AppVM' | 'TemplateVM' | 'StandaloneVM' | 'DispVM';

export interface ModelDevice {
  /** `pci`, `usb`, `block` or `mic`. */
  readonly deviceClass: string;
  /** The backend-qualified id as `qvm-device` lists it (`dom0:00_14.3`), when given. */
  readonly id?: string;
  /**
   * `no-strict-reset`: a PCI device that cannot be reset on its own (no FLR)
   * is still given to the qube (`qvm-device pci ... -o no-strict-reset=True`).
   */
  readonly noStrictReset?: boolean;
  readonly span: Span;
}

export interface ModelQube {
  readonly name: string;
  /** The declaration's name span. */
  readonly span: Span;
  /** The declaration form (`qube`, `gateway`, `template`, …). */
  readonly form: DeclKind;
  readonly klass: QubeClass;
  /**
   * Declared by the standard library or a template: a qube that exists on the
   * machine before provisioning (dom0, sys-net, sys-firewall, sys-whonix, and
   * every template, which the policy promises is installed). Provisioning
   * configures such qubes but never creates them.
   */
  readonly preexisting: boolean;
  readonly identity?: string;
  readonly template?: string;
  /**
   * The qube's label, else its identity's, else the one Qubes gives its kind
   * (gateways, named disposables: `defaultLabel` in passes/lower-model.ts);
   * undefined when none applies.
   */
  readonly label?: string;
  /** netvm name; null for none. */
  readonly netvm: string | null;
  readonly providesNetwork: boolean;
  /** A Tor gateway (Whonix-Gateway role). */
  readonly torGateway: boolean;
  /** `gateway` or `workstation` when the qube (or its template) is a Whonix one. */
  readonly whonixRole?: 'gateway' | 'workstation';
  /** `default_dispvm`: a disposable template's name, null for none, undefined for Qubes' global default. */
  readonly defaultDispvm?: string | null;
  readonly templateForDispvms: boolean;
  /** MiB. */
  readonly memory?: number;
  readonly maxmem?: number;
  readonly vcpus?: number;
  readonly virtMode?: 'pvh' | 'hvm' | 'pv';
  /** A kernel version; null for `kernel none` (the qube boots its own); undefined for Qubes' default. */
  readonly kernel?: string | null;
  readonly kernelopts?: string;
  readonly autostart: boolean;
  /** Every tag Qubes will carry: own `tag` items, the identity tag, the Whonix add-on tags. Sorted. */
  readonly tags: readonly string[];
  /** Sorted by key; the last item of a key wins. */
  readonly features: readonly { readonly key: string; readonly value: string; readonly span: Span }[];
  /** Sorted by name; the last item of a name wins. */
  readonly services: readonly { readonly name: string; readonly enabled: boolean; readonly span: Span }[];
  readonly devices: readonly ModelDevice[];
  /** Spans of the items that set each property (`memory`, `virt-mode`, `kernel`, …), for target diagnostics. */
  readonly spans: Readonly<Record<string, Span>>;
  /** A stable number (recorded in the lock file): the base of the qube's address. dom0 is 0. */
  readonly qid: number;
  /** The qube's IPv4 address as Qubes computes it from its qid (`10.137.x.y`). */
  readonly ip: string;
}

/** One Tor listener of a gateway. */
export interface ModelListener {
  /** `socks`, `trans`, `dns` or `http-tunnel`. */
  readonly kind: string;
  readonly port: number;
  /** Sorted qpc isolation flag names (`dest-addr`, `dest-port`, `client-protocol`, …). */
  readonly isolate: readonly string[];
  /** Further options as written in the listener table (`ipv6-traffic`, `custom`, `local`, …). */
  readonly options: readonly string[];
}

export interface ModelTorGateway {
  readonly name: string;
  /** The listeners Whonix-Gateway opens itself (its template's table and its own `listener` items), by port. */
  readonly whonixListeners: readonly ModelListener[];
  /** Listeners qpc adds, by port. */
  readonly extraListeners: readonly ModelListener[];
  /** Qubes whose netvm is this gateway, sorted. */
  readonly clients: readonly string[];
}

/** One policy file qpc writes, with its rules in evaluation order (the user's and the generated ones). */
export interface ModelPolicyFile {
  /** `30-qpc` (written as `30-qpc.policy`). */
  readonly name: string;
  readonly rules: readonly QrexecRule[];
}

/**
 * A policy file dom0 already has and qpc only models (`policy-file NN-NAME
 * stock sha256 "HEX"`): qpc's proof counts on its rules, so provisioning
 * checks that the file is there with these bytes before it changes anything.
 */
export interface ModelStockFile {
  /** `50-config-filecopy` (the file is `/etc/qubes/policy.d/50-config-filecopy.policy`). */
  readonly name: string;
  /** The sha256 of the file's bytes: 64 lowercase hex digits. */
  readonly sha256: string;
  /** The stock block's name. */
  readonly span: Span;
}

export interface PolicyModel {
  /** The entry file's display path (as given; for diagnostics). */
  readonly entry: string;
  /**
   * The entry file's name without its folder: what artifacts say they were
   * generated from, so that their bytes do not depend on where qpc ran.
   */
  readonly source: string;
  readonly settings: Settings;
  /** Every qube-like declaration (dom0, templates, gateways, qubes …), sorted by name. */
  readonly qubes: readonly ModelQube[];
  /** Identities, sorted by name, with their member qubes (sorted). */
  readonly identities: readonly { readonly name: string; readonly mode: 'clearnet' | 'tor' | 'none'; readonly tag: string; readonly members: readonly string[]; readonly span: Span }[];
  /** The policy files qpc writes, sorted as dom0 reads them. Stock files are not here. */
  readonly policyFiles: readonly ModelPolicyFile[];
  /** The stock files of this release whose sha256 the policy gives, sorted by name: provisioning verifies them. */
  readonly verifiedStock: readonly ModelStockFile[];
  /** The complete policy the checker evaluated (ours and the stock files), in dom0's order. */
  readonly completePolicy: readonly QrexecRule[];
  /** What `internal.GetSystemInfo` will report for the declared qubes. */
  readonly systemInfo: SystemInfo;
  readonly torGateways: readonly ModelTorGateway[];
  /** SOCKS assignments of apps, sorted by qube then app (the listeners qpc adds are in `torGateways`). */
  readonly socks: readonly SocksAssignment[];
}

const byName = new WeakMap<PolicyModel, ReadonlyMap<string, ModelQube>>();

/** The model's qube of this name, if any (looked up in a map built once per model). */
export function qubeNamed(model: PolicyModel, name: string): ModelQube | undefined {
  let m = byName.get(model);
  if (!m) byName.set(model, (m = new Map(model.qubes.map((q) => [q.name, q]))));
  return m.get(name);
}
