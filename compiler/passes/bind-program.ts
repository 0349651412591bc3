/**
 * Builds the symbol table of a policy set: settings, declarations by name
 * (with `$whonix` replaced), amendments, and rules with their policy file.
 * Emits QP2001 (amend of an unknown name), QP2002, QP2003, QP2008, QP2011,
 * QP2013 (setting values), QP2022.
 */
import { diag, type Reporter } from '../diagnostics/diagnostic.js';
import { suggestion } from '../diagnostics/suggest.js';
import { defaultSettings, qubesReleases, whonixVersions, type BoundRule, type Decl, type Program, type QubesRelease, type Settings } from '../program.js';
import type { Declaration, Expect, PolicyFile, Require, Setting, Waive } from '../syntax/ast.js';
import type { SourceFile } from '../source.js';
import { checkQubeName, substitute } from './names.js';

export interface BindInput {
  readonly entry: string;
  readonly files: readonly { readonly source: SourceFile; readonly ast: PolicyFile; readonly std: boolean }[];
}

/** Qubes accepts policy file names of `[0-9a-z_.-]`; the policy admin API refuses dots. We also require an `NN-` order prefix. */
export const policyFileName = /^[0-9]{2}-[0-9a-z_-]{1,60}$/;

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
  return { entry: input.entry, files: input.files, settings, decls: bound, rules, requires, expects, waives };
}
