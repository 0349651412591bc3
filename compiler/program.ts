/**
 * The bound program: every declaration of a policy set by name, with its
 * amendments, every rule with the policy file it goes to, the settings, and
 * the references: every place a name is written, with the declaration it
 * names. Built by `passes/bind-program.ts`; read-only afterwards. The
 * checker (`passes/names.ts` `resolveRef`) and the language server read the
 * references instead of looking names up again.
 */
import type { SourceFile, Span } from './source.js';
import type { QubesRelease } from './qubes-values.js';
import type { Declaration, Expect, Item, PolicyFile, Require, Rule, Statement, Waive } from './syntax/ast.js';
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
  /** Every place a name is written, in every file (blocks of another release included). */
  readonly references: ReferenceIndex;
}

/** Whether a name is declared at a place or used there. */
export type ReferenceRole = 'declaration' | 'reference';

/**
 * One place a name is written: a declaration's name, `in IDENTITY`, an item
 * that names a declaration (`template`, `netvm`, `via`, `disposable`,
 * `default-disposable`), `amend X`, a rule or `expect` endpoint or redirect
 * (`Q` of `@dispvm:Q` included), `require`, `waive`, the
 * `default-disposable` setting.
 */
export interface Reference {
  /** The name with `$whonix` replaced. */
  readonly name: string;
  /** The name as written. */
  readonly text: string;
  /** Exactly the name (of `@dispvm:Q`, `Q`). */
  readonly span: Span;
  /** The word or endpoint the name is written in (of `@dispvm:Q`, all of it): where the checker reports. */
  readonly site: Span;
  readonly role: ReferenceRole;
  /** The declaration of this name, when there is one (of any kind: whether the kind fits is the checker's to say). */
  readonly decl: Decl | undefined;
  /**
   * The construct that names it: the declaration form (`qube`, `amend` …),
   * `in`, the item key (`template`, `netvm`, `disposable`,
   * `default-disposable`), `via`, the column or parameter (`source`,
   * `target`, `default`, `targets`), `require`, `waive`, `setting`.
   */
  readonly context: string;
  /** The statement it is written in: a top-level one, or a rule of a `policy-file` block. */
  readonly statement: Statement;
  /** The item it is written in, for a name in a declaration's items. */
  readonly item?: Item;
}

function siteKey(span: Span): string {
  return `${span.start}:${span.end}:${span.file}`;
}

/** The references of a program: by file in source order, by name, by site. */
export class ReferenceIndex {
  /** Every reference, in file order then source order. */
  readonly all: readonly Reference[];
  private readonly byName = new Map<string, Reference[]>();
  private readonly bySite = new Map<string, Reference>();
  private readonly byFile = new Map<string, Reference[]>();

  constructor(references: readonly Reference[]) {
    this.all = references;
    for (const r of references) {
      const list = this.byName.get(r.name);
      if (list) list.push(r);
      else this.byName.set(r.name, [r]);
      const inFile = this.byFile.get(r.span.file);
      if (inFile) inFile.push(r);
      else this.byFile.set(r.span.file, [r]);
      this.bySite.set(siteKey(r.site), r);
    }
    for (const list of this.byFile.values()) list.sort((a, b) => a.span.start - b.span.start);
  }

  /** The reference written in exactly this word or endpoint, if any. */
  site(span: Span): Reference | undefined {
    return this.bySite.get(siteKey(span));
  }

  /** The reference whose name contains `offset` in `file` (its end counts: the cursor just after a name). */
  at(file: string, offset: number): Reference | undefined {
    const list = this.byFile.get(file) ?? [];
    // In source order: the last one starting at or before the offset.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.span.start <= offset) lo = mid + 1;
      else hi = mid;
    }
    const r = list[lo - 1];
    return r && offset <= r.span.end ? r : undefined;
  }

  /** Every place a name is written; its declarations first when `includeDeclaration`, else none of them. */
  of(name: string, includeDeclaration: boolean): readonly Reference[] {
    const all = this.byName.get(name) ?? [];
    const uses = all.filter((r) => r.role !== 'declaration');
    return includeDeclaration ? [...all.filter((r) => r.role === 'declaration'), ...uses] : uses;
  }
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
