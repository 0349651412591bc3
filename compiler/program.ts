/**
 * The bound program: every declaration of a policy set by name, with its
 * amendments, every rule with the policy file it goes to, and the settings.
 * Built by `passes/bind-program.ts`; read-only afterwards.
 */
import type { SourceFile, Span } from './source.js';
import type { QubesRelease } from './qubes-values.js';
import type { Declaration, Expect, Item, PolicyFile, Require, Rule, Waive } from './syntax/ast.js';
import type { DeclKind } from './syntax/forms.js';

export { qubesReleases, type QubesRelease } from './qubes-values.js';
export type { DeclKind } from './syntax/forms.js';

export const whonixVersions: readonly number[] = [17, 18];

export interface Settings {
  readonly qubes: QubesRelease;
  readonly whonix: number;
  /** Policy file the top-level rules go to, e.g. `30-qpc`. */
  readonly policyFile: string;
  /** Qubes' global `default_dispvm`: a disposable name, `null` for none, absent when not set. */
  readonly defaultDisposable?: string | null;
  /**
   * Qubes' global `default_kernel`, the kernel of every qube whose own and
   * whose template's are not set: a directory of `/var/lib/qubes/vm-kernels`
   * (a version, `pvgrub2-pvh` or `pvgrub2`), `null` for none (Qubes' `''`:
   * such qubes boot their own kernel), absent when not set.
   */
  readonly defaultKernel?: string | null;
  /** The value of the `kernel` setting, when given. */
  readonly defaultKernelSpan?: Span;
}

export const defaultSettings: Settings = { qubes: '4.2', whonix: 18, policyFile: '30-qpc' };

export interface Decl {
  readonly form: DeclKind;
  /** The name with `$whonix` replaced. */
  readonly name: string;
  readonly node: Declaration;
  /** `amend` declarations that add to this one, in load order. */
  readonly amends: readonly Declaration[];
  /** The declaration's items followed by those of its amendments; later ones override. */
  readonly items: readonly Item[];
  /** Display path of the declaring file. */
  readonly file: string;
  /** Declared by the standard library. */
  readonly std: boolean;
}

export interface BoundRule {
  readonly rule: Rule;
  /** The policy file it goes to, e.g. `30-qpc`. */
  readonly policyFile: string;
  readonly file: string;
  /** A rule of a file Qubes ships (`policy-file … stock`): modelled, not emitted. */
  readonly stock: boolean;
}

/**
 * A stock policy file the policy says dom0 has, with the sha256 of its bytes
 * (`policy-file NN-NAME stock sha256 "HEX"`), for this release: provisioning
 * verifies it before it changes anything.
 */
export interface VerifiedStockFile {
  /** `50-config-filecopy` (the file is `/etc/qubes/policy.d/50-config-filecopy.policy`). */
  readonly name: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
  /** The block's name. */
  readonly span: Span;
}

export interface Program {
  readonly entry: string;
  readonly files: readonly { readonly source: SourceFile; readonly ast: PolicyFile; readonly std: boolean }[];
  readonly settings: Settings;
  readonly decls: ReadonlyMap<string, Decl>;
  readonly rules: readonly BoundRule[];
  readonly requires: readonly Require[];
  readonly expects: readonly Expect[];
  readonly waives: readonly Waive[];
  /** Stock files of this release that name their sha256, by name; each name once. */
  readonly verifiedStock: readonly VerifiedStockFile[];
}

/** The key of an item: the property it sets. */
export function itemKey(i: Item): string {
  switch (i.kind) {
    case 'RefItem':
    case 'ValueItem':
    case 'StringItem':
    case 'CountItem':
      return i.key;
    case 'MemoryItem':
      return 'memory';
    case 'DeviceItem':
      return 'device';
    case 'FeatureItem':
      return 'feature';
    case 'ServiceItem':
      return 'service';
    case 'FlagItem':
      return i.flag;
    case 'NetworkItem':
      return 'network';
    case 'AppItem':
      return 'app';
    case 'ListenerItem':
      return 'listener';
  }
}

/** The last item of a key (amendments override), if any. */
export function lastItem<K extends Item['kind']>(d: Decl, kind: K, key?: string): Extract<Item, { kind: K }> | undefined {
  let found: Extract<Item, { kind: K }> | undefined;
  for (const i of d.items) if (i.kind === kind && (key === undefined || itemKey(i) === key)) found = i as Extract<Item, { kind: K }>;
  return found;
}
