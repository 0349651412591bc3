/**
 * Builds the symbol table of a policy set: settings, declarations by name
 * (with `$whonix` replaced), amendments, rules with their policy file, and
 * the references: every place a name is written, with the declaration it
 * names (the checker and the language server read them; nothing looks a
 * written name up again).
 * Emits QP2001 (amend of an unknown name), QP2002, QP2003, QP2008, QP2011,
 * QP2013 (setting values, the default kernel included, policy file names,
 * sha256 digests), QP2022, QP2023.
 */
import { diag, type Related, type Reporter } from '../diagnostics/diagnostic.js';
import { isKeyword } from '../qrexec/token.js';
import { suggestion } from '../diagnostics/suggest.js';
import { defaultSettings, qubesReleases, ReferenceIndex, whonixVersions, type BoundRule, type Decl, type Program, type QubesRelease, type Reference, type ReferenceRole, type Settings, type VerifiedStockFile } from '../program.js';
import type { Declaration, Endpoint, Expect, Item, PolicyFile, PolicyFileBlock, Require, Rule, Setting, Statement, Waive, Word } from '../syntax/ast.js';
import type { SourceFile, Span } from '../source.js';
import { subSpan } from '../diagnostics/suggest.js';
import { substitute } from '../whonix.js';
import { checkQubeName } from './name-rules.js';
import { endpointForm } from './check-rules.js';
import { isKernelName, kernelHelp } from '../qubes-values.js';

export interface BindInput {
  readonly entry: string;
  readonly files: readonly { readonly source: SourceFile; readonly ast: PolicyFile; readonly std: boolean }[];
  /**
   * The standard library module that models a stock file of this name (for
   * any release), whether or not the policy set loads that module; asked
   * only about the names of stock blocks outside the standard library.
   */
  readonly stdStockModule?: (name: string) => string | undefined;
}

/** Qubes accepts policy file names of `[0-9a-z_.-]`; the policy admin API refuses dots. We also require an `NN-` order prefix. */
export const policyFileName = /^[0-9]{2}-[0-9a-z_-]{1,60}$/;

/** A sha256 digest as `sha256sum` prints it. */
export const sha256Digest = /^[0-9a-f]{64}$/;

/**
 * Checks the `policy-file … stock` blocks and lists the stock files of this
 * release whose sha256 is given. A stock block outside the standard library
 * states that dom0 has a file qpc neither writes nor models otherwise, and
 * qpc's proof takes its rules as dom0's: so it must not name a file qpc
 * writes (provisioning replaces it) nor one the standard library models (its
 * rules would join that model), and it must name the file's sha256, which
 * provisioning verifies on the machine (QP2023; QP2013 for a malformed digest).
 */
function bindStock(input: BindInput, settings: Settings, ctx: Reporter): VerifiedStockFile[] {
  const written = new Map<string, PolicyFileBlock>();
  const modelled = new Map<string, PolicyFileBlock>();
  let mainSetting: Setting | undefined;
  for (const f of input.files) {
    for (const st of f.ast.statements) {
      if (st.kind === 'SettingsBlock') mainSetting ??= st.settings.find((x) => x.key.text === 'policy-file');
      if (st.kind !== 'PolicyFileBlock') continue;
      const into = !st.stock ? written : f.std ? modelled : undefined;
      if (into && !into.has(st.name.text)) into.set(st.name.text, st);
    }
  }
  const named = mainSetting?.value.text === settings.policyFile ? mainSetting : undefined;

  const verified = new Map<string, VerifiedStockFile>();
  for (const f of input.files) {
    for (const st of f.ast.statements) {
      if (st.kind !== 'PolicyFileBlock' || !st.stock) continue;
      const name = st.name.text;
      const hash = st.sha256;
      const valid = hash !== undefined && sha256Digest.test(hash.value);
      if (hash && !valid) {
        ctx.report(diag('QP2013', hash.span, { value: hash.value.replace(/[\x00-\x1f\x7f]/g, '?'), what: 'sha256 digest' }, { help: `write the 64 lowercase hexadecimal digits \`sha256sum /etc/qubes/policy.d/${name}.policy\` prints in dom0` }));
      }
      if (!f.std) {
        const problem = (text: string, extras: { related?: Related[]; help: string }) =>
          ctx.report(diag('QP2023', st.name.span, { problem: text }, extras));
        const block = written.get(name);
        const stdBlock = modelled.get(name);
        const stdModule = stdBlock ? undefined : input.stdStockModule?.(name);
        const rename = 'give the block the name of the file as it is in /etc/qubes/policy.d';
        if (name === settings.policyFile) {
          problem(`stock block \`${name}\` names the policy file qpc writes: provisioning replaces that file, so dom0 never has the rules this block claims`, {
            ...(named ? { related: [{ span: named.value.span, message: `qpc writes \`${name}.policy\` (named here)` }] } : {}),
            help: `${named ? '' : `\`${name}\` is the main policy file unless \`settings { policy-file … }\` names another; `}${rename}, or move the rules out of the stock block to have qpc write them`,
          });
        } else if (block) {
          problem(`stock block \`${name}\` names a policy file qpc writes: provisioning replaces that file, so dom0 never has the rules this block claims`, {
            related: [{ span: block.name.span, message: `qpc writes \`${name}.policy\` from this block` }],
            help: `${rename}, or move the rules into the block qpc writes`,
          });
        } else if (stdBlock || stdModule) {
          problem(`stock block \`${name}\` names a file the standard library models: its rules would join that model as if dom0's \`${name}.policy\` had them`, {
            ...(stdBlock ? { related: [{ span: stdBlock.name.span, message: `the standard library models \`${name}.policy\` here` }] } : {}),
            help: stdModule
              ? `\`use "${stdModule}"\` models this file; rules that should decide before it belong in a file qpc writes`
              : `rules that should decide before it belong in a file qpc writes; to model another file of dom0, ${rename}`,
          });
        } else if (!hash) {
          problem(`stock block \`${name}\` names no sha256, so qpc cannot verify that dom0 has it: add \`sha256 "…"\` after \`stock\``, {
            help: `write the digest \`sha256sum /etc/qubes/policy.d/${name}.policy\` prints in dom0; provisioning checks it before it changes anything`,
          });
        }
      }
      // A stock file of another release is not on this system.
      if (!valid || (st.releases.length > 0 && !st.releases.some((v) => v.text === settings.qubes))) continue;
      const first = verified.get(name);
      if (!first) verified.set(name, { name, sha256: hash.value, span: st.name.span });
      else if (first.sha256 !== hash.value) {
        ctx.report(
          diag('QP2023', st.name.span, { problem: `stock file \`${name}\` is given two different sha256 digests for Qubes ${settings.qubes}, and dom0 has only one such file` }, {
            related: [{ span: first.span, message: 'the other digest is given in this block' }],
            help: 'keep the digest of the file as it is in dom0, or limit each block to its release with `for`',
          }),
        );
      }
    }
  }
  return [...verified.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function bindSettings(input: BindInput, ctx: Reporter): Settings {
  const seen = new Map<string, Setting>();
  let s: { -readonly [K in keyof Settings]: Settings[K] } = { ...defaultSettings };
  for (const f of input.files) {
    for (const st of f.ast.statements) {
      if (st.kind !== 'SettingsBlock') continue;
      for (const set of st.settings) {
        const key = set.key.text;
        const first = seen.get(key);
        if (first) {
          ctx.report(diag('QP2011', set.key.span, { key }, { related: [{ span: first.key.span, message: 'first given here' }] }));
          continue;
        }
        seen.set(key, set);
        const v = set.value.text;
        switch (key) {
          case 'qubes':
            if ((qubesReleases as readonly string[]).includes(v)) s.qubes = v as QubesRelease;
            else ctx.report(diag('QP2013', set.value.span, { value: v, what: 'Qubes release' }, { help: `qpc supports ${qubesReleases.map((r) => `\`${r}\``).join(' and ')}` }));
            break;
          case 'whonix':
            if (/^[0-9]+$/.test(v) && whonixVersions.includes(Number(v))) s.whonix = Number(v);
            else ctx.report(diag('QP2013', set.value.span, { value: v, what: 'Whonix version' }, { help: `qpc supports ${whonixVersions.map((r) => `\`${r}\``).join(' and ')}` }));
            break;
          case 'policy-file':
            if (policyFileName.test(v)) s.policyFile = v;
            else ctx.report(diag('QP2013', set.value.span, { value: v, what: 'policy file name' }, { help: 'write `NN-name`: two digits, `-`, then lowercase letters, digits, `_` or `-` (Qubes ignores or rejects other names in /etc/qubes/policy.d)' }));
            break;
          case 'default-disposable':
            s.defaultDisposable = v === 'none' ? null : v;
            break;
          case 'kernel':
            // `qubes-prefs default_kernel`; the grammar gives a string or `none`.
            if (set.string && !isKernelName(v)) {
              ctx.report(diag('QP2013', set.value.span, { value: v, what: 'kernel' }, { help: kernelHelp }));
            } else {
              s.defaultKernel = set.string ? v : null;
              s.defaultKernelSpan = set.value.span;
            }
            break;
        }
      }
    }
  }
  if (s.defaultDisposable) s = { ...s, defaultDisposable: substitute(s.defaultDisposable, s.whonix) };
  return s;
}

/** Binds names; the result is complete even when errors were reported. */
export function bindProgram(input: BindInput, ctx: Reporter): Program {
  const settings = bindSettings(input, ctx);
  const verifiedStock = bindStock(input, settings, ctx);
  const decls = new Map<string, { decl: Omit<Decl, 'amends' | 'items'>; amends: Declaration[] }>();
  const amends: { node: Declaration; file: string }[] = [];
  const rules: BoundRule[] = [];
  const requires: Require[] = [];
  const expects: Expect[] = [];
  const waives: Waive[] = [];

  for (const f of input.files) {
    for (const st of f.ast.statements) {
      switch (st.kind) {
        case 'Declaration': {
          if (st.form === 'amend') {
            amends.push({ node: st, file: f.source.path });
            break;
          }
          const name = substitute(st.name.text, settings.whonix);
          const bad = checkQubeName(name, st.name.span, settings.qubes, { dots: st.form !== 'identity' });
          if (bad) ctx.report(bad);
          const first = decls.get(name);
          if (first) {
            ctx.report(
              diag('QP2002', st.name.span, { name }, {
                related: [{ span: first.decl.node.name.span, message: 'first declared here' }],
                help: first.decl.std ? `to change the standard library's \`${name}\`, write \`amend ${name} { … }\`` : 'rename one of them',
              }),
            );
            break;
          }
          decls.set(name, { decl: { form: st.form, name, node: st, file: f.source.path, std: f.std }, amends: [] });
          break;
        }
        case 'Rule':
          rules.push({ rule: st, policyFile: settings.policyFile, file: f.source.path, stock: false });
          break;
        case 'PolicyFileBlock':
          if (!policyFileName.test(st.name.text)) {
            ctx.report(diag('QP2013', st.name.span, { value: st.name.text, what: 'policy file name' }, { help: 'write `NN-name`: two digits, `-`, then lowercase letters, digits, `_` or `-`' }));
          }
          for (const v of st.releases) {
            if (!(qubesReleases as readonly string[]).includes(v.text)) ctx.report(diag('QP2013', v.span, { value: v.text, what: 'Qubes release' }, { help: `qpc supports ${qubesReleases.map((r) => `\`${r}\``).join(' and ')}` }));
          }
          // A stock file of another release is not on this system.
          if (st.releases.length > 0 && !st.releases.some((v) => v.text === settings.qubes)) break;
          for (const r of st.rules) rules.push({ rule: r, policyFile: st.name.text, file: f.source.path, stock: st.stock });
          break;
        case 'Require':
          requires.push(st);
          break;
        case 'Expect':
          expects.push(st);
          break;
        case 'Waive':
          waives.push(st);
          break;
        case 'UseStatement':
        case 'SettingsBlock':
          break;
      }
    }
  }

  for (const a of amends) {
    const name = substitute(a.node.name.text, settings.whonix);
    const target = decls.get(name);
    if (!target) {
      const s = suggestion(name, [...decls.values()].filter((d) => d.decl.form !== 'identity').map((d) => d.decl.name), a.node.name.span);
      ctx.report(diag('QP2001', a.node.name.span, { what: 'qube', name }, { label: 'nothing to amend', ...(s.help ? { help: s.help } : {}), fixes: s.fixes }));
      continue;
    }
    if (target.decl.form === 'identity' || target.decl.form === 'adminvm') {
      ctx.report(diag('QP2004', a.node.name.span, { name, actual: target.decl.form === 'identity' ? 'an identity' : 'the admin qube', context: '`amend`', expected: 'a qube, gateway or template' }));
      continue;
    }
    target.amends.push(a.node);
  }

  const bound = new Map<string, Decl>();
  for (const [name, { decl, amends: am }] of decls) {
    bound.set(name, { ...decl, amends: am, items: [...decl.node.items, ...am.flatMap((a) => a.items)] });
  }
  const references = bindReferences(input.files, bound, settings.whonix);
  return { entry: input.entry, files: input.files, settings, decls: bound, rules, requires, expects, waives, verifiedStock, references };
}

/** The part of an endpoint that is a name (`work`, or `Q` of `@dispvm:Q`), as an offset into its text; tokens name none. */
function endpointName(e: Endpoint): { text: string; from: number } | undefined {
  const f = endpointForm(e.text);
  if (f.form === 'name') return f.name === '' ? undefined : { text: f.name, from: 0 };
  // `@dispvm:@…` is a token qrexec rejects (QP2013), not a name.
  if (f.form === 'dispvm-of' && f.value !== '' && !isKeyword(f.value)) return { text: f.value, from: e.text.length - f.value.length };
  return undefined;
}

/** Every place a name is written in the files, resolved against the declarations. */
function bindReferences(files: BindInput['files'], decls: ReadonlyMap<string, Decl>, whonix: number): ReferenceIndex {
  const out: Reference[] = [];
  let statement: Statement;
  let item: Item | undefined;
  const add = (text: string, span: Span, site: Span, role: ReferenceRole, context: string): void => {
    const name = substitute(text, whonix);
    out.push({ name, text, span, site, role, decl: decls.get(name), context, statement, ...(item ? { item } : {}) });
  };
  const word = (w: Word | undefined, role: ReferenceRole, context: string): void => {
    if (w && w.text !== '') add(w.text, w.span, w.span, role, context);
  };
  const endpoint = (e: Endpoint, context: string): void => {
    const n = endpointName(e);
    // Spans of an endpoint are on one line.
    if (n) add(n.text, n.from === 0 ? e.span : subSpan(e.span, n.from, e.text.length), e.span, 'reference', context);
  };
  const rule = (r: Rule): void => {
    endpoint(r.source, 'source');
    endpoint(r.target, 'target');
    for (const p of r.params) if (p.kind === 'EndpointParam') endpoint(p.value, p.key);
  };
  for (const f of files) {
    for (const st of f.ast.statements) {
      statement = st;
      item = undefined;
      switch (st.kind) {
        case 'Declaration':
          word(st.name, st.form === 'amend' ? 'reference' : 'declaration', st.form);
          word(st.identity, 'reference', 'in');
          for (const i of st.items) {
            item = i;
            if (i.kind === 'RefItem') word(i.target, 'reference', i.key);
            else if (i.kind === 'NetworkItem') word(i.via, 'reference', 'via');
          }
          break;
        case 'SettingsBlock':
          for (const set of st.settings) if (set.key.text === 'default-disposable' && set.value.text !== 'none') word(set.value, 'reference', 'setting');
          break;
        case 'Rule':
          rule(st);
          break;
        case 'PolicyFileBlock':
          // A rule of a block is the statement of its names.
          for (const r of st.rules) {
            statement = r;
            rule(r);
          }
          break;
        case 'Expect':
          endpoint(st.source, 'source');
          endpoint(st.target, 'target');
          for (const p of st.params) if (p.kind === 'ExpectTargets') for (const v of p.values) endpoint(v, p.key);
          break;
        case 'Require':
          word(st.subject, 'reference', 'require');
          word(st.object, 'reference', 'require');
          break;
        case 'Waive':
          word(st.subject, 'reference', 'waive');
          break;
        case 'UseStatement':
          break;
      }
    }
  }
  return new ReferenceIndex(out);
}
