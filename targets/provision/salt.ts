/**
 * `qubes/salt/qpc.sls` and `qubes/salt/qpc.top`: the same configuration as
 * provision.sh, as Salt states for `qubesctl` (reference §3.3: `qvm.vm` keys
 * and spellings, `file.managed` for policy files). Built as data and
 * serialized with the yaml library, so no value can add a key or a line.
 */
import { createRequire } from 'node:module';
import type { ModelQube, ModelStockFile, PolicyModel } from '../../compiler/model.js';
import { headerSource, policyDirectory } from '../paths.js';
import type { Inputs } from './inputs.js';
import { ownershipFunctions, resettablePrefs, saltHelperName, stateDirectory } from './ownership.js';
import { defaultDispvmOf, identityTags, prefsOf, provisioningOrder, QUBES_DEFAULT, whonixMarkers, type WhonixMarker } from './plan.js';
import { sq } from './script.js';

/** The `qvm.vm` keys this target writes; a subset of what `ext_state_qvm.py vm()` accepts (reference §3.3). */
export const qvmVmKeys: readonly string[] = ['present', 'prefs', 'service', 'features', 'tags', 'require'];
/** The `present` keys we write (reference §3.3: template label class mem vcpus root-move-from root-copy-from flags). */
export const presentKeys: readonly string[] = ['template', 'label', 'class'];
/** The `prefs` keys Salt's `qvm.prefs` accepts (reference §3.3), dash spelling. */
export const saltPrefKeys: readonly string[] = [
  'autostart', 'debug', 'default-user', 'default-dispvm', 'devices-denied', 'management-dispvm', 'guivm', 'audiovm',
  'template-for-dispvms', 'virt-mode', 'label', 'last-backup', 'include-in-backups', 'installed-by-rpm', 'ip', 'kernel',
  'kernelopts', 'mac', 'maxmem', 'memory', 'netvm', 'pci-strictreset', 'pcidevs', 'provides-network', 'template',
  'qrexec-timeout', 'updateable', 'vcpus',
];

/**
 * The first line of both files: Salt reads a first line `#!RENDERER` as the
 * renderer to use instead of its default Jinja-then-YAML, so nothing in them
 * (a file name in a comment, a policy file's text) is ever read as a Jinja
 * template: the states are exactly the YAML qpc wrote.
 */
export const SALT_RENDERER = '#!yaml';

/** The sls name qpc.top refers to (`/srv/salt/qpc.sls`). */
export const saltStateName = 'qpc';

/**
 * The yaml library, loaded the first time Salt states are written: `qpc
 * check` loads every target for its check, and would otherwise pay for the
 * library on every run (about 40 ms of start-up).
 */
let yamlLib: typeof import('yaml') | undefined;
function stringify(value: unknown, options: import('yaml').ToStringOptions & import('yaml').DocumentOptions & import('yaml').SchemaOptions & import('yaml').CreateNodeOptions): string {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLib.stringify(value, options);
}

type Yaml = string | number | boolean | Yaml[] | { [k: string]: Yaml };

function saltValue(name: string, value: string): Yaml {
  if (value === 'True' || value === 'False') return value === 'True';
  if (/^(memory|maxmem|vcpus)$/.test(name)) return Number(value);
  return value;
}

/** The id of the state that checks a stock policy file (a `:`, which no qube name has, keeps it apart from the qube states). */
export function stockStateId(name: string): string {
  return `qpc-stock-file:${name}`;
}

/**
 * The precondition provision.sh checks first: a stock policy file the policy
 * models is in dom0 with its sha256. The state fails, changing nothing,
 * unless the file matches; every other state requires it (`requireStock`),
 * so none is applied on a machine whose stock files are not those qpc
 * checked the policy with.
 */
function stockState(f: ModelStockFile): Yaml {
  const file = `${policyDirectory}/${f.name}.policy`;
  return {
    'test.fail_without_changes': [
      { name: `stock policy file ${file} is missing or its sha256 is not ${f.sha256}, as the policy says` },
      { unless: `echo '${f.sha256}  ${file}' | sha256sum --check --status` },
    ],
  };
}

/** Makes every state of `doc` but the stock checks require the stock checks. */
function requireStock(doc: Record<string, Yaml>, model: PolicyModel): void {
  const checks = model.verifiedStock.map((f) => stockStateId(f.name));
  if (checks.length === 0) return;
  for (const [id, body] of Object.entries(doc)) {
    if (checks.includes(id)) continue;
    for (const args of Object.values(body as Record<string, Yaml[]>)) {
      const requisites = checks.map((c): Yaml => ({ test: c }));
      const item = args.find((a): a is { require: Yaml[] } => typeof a === 'object' && !Array.isArray(a) && Array.isArray(a.require));
      if (item) item.require.push(...requisites);
      else args.push({ require: requisites });
    }
  }
}

/** The id of the state that checks one Whonix marker (`:` keeps it apart from qube states, as for the stock checks). */
function markerStateId(m: WhonixMarker): string {
  return `qpc-whonix-marker:${m.template}:${m.feature}`;
}

/**
 * The precondition provision.sh checks first: a template the Tor proof takes
 * for Whonix's carries Whonix's own marker feature. `test.fail_without_changes`
 * fails, changing nothing, unless the feature is `1` (`unless` is a global
 * state argument: the state is skipped, successfully, when the command exits
 * 0). Every qube and policy state requires it.
 */
function markerState(m: WhonixMarker): Yaml {
  return {
    'test.fail_without_changes': [
      { name: `template ${m.template} lacks Whonix's marker feature ${m.feature}=1, so it is not known to be the Whonix ${m.role} template the policy declares` },
      { unless: `[ "$(qvm-features ${sq(m.template)} ${sq(m.feature)})" = 1 ]` },
    ],
  };
}

function qubeState(model: PolicyModel, q: ModelQube, inModel: ReadonlySet<string>, checks: readonly Yaml[]): Yaml[] {
  const otherIdentityTags = q.klass === 'AdminVM' ? [] : identityTags(model).filter((t) => !q.tags.includes(t));
  const state: Yaml[] = [];
  if (!q.preexisting) {
    const present: Yaml[] = [];
    if (q.template !== undefined) present.push({ template: q.template });
    if (q.label !== undefined) present.push({ label: q.label });
    present.push({ class: q.klass });
    state.push({ present });
  }
  const prefs = prefsOf(q, model).map((p): Yaml => ({ [p.name.replace(/_/g, '-')]: saltValue(p.name, p.value) }));
  if (prefs.length > 0) state.push({ prefs });
  const enabled = q.services.filter((s) => s.enabled).map((s) => s.name);
  const disabled = q.services.filter((s) => !s.enabled).map((s) => s.name);
  const service: Yaml[] = [];
  if (enabled.length > 0) service.push({ enable: enabled });
  if (disabled.length > 0) service.push({ disable: disabled });
  if (service.length > 0) state.push({ service });
  if (q.features.length > 0) state.push({ features: [{ set: q.features.map((f): Yaml => ({ [f.key]: f.value })) }] });
  // The tags of other identities go, as provision.sh's untag_stale removes them.
  const tags: Yaml[] = [];
  if (q.tags.length > 0) tags.push({ add: [...q.tags] });
  if (otherIdentityTags.length > 0) tags.push({ del: otherIdentityTags });
  if (tags.length > 0) state.push({ tags });
  // Template and netvm first (as in provision.sh); the default disposable
  // too, since Qubes refuses a default_dispvm that is not yet a disposable template.
  const value = q.klass === 'AdminVM' ? '' : defaultDispvmOf(model, q);
  // At Qubes' default, the qube it names is still needed first (a named disposable's template).
  const dd = value === QUBES_DEFAULT ? model.systemInfo.domains.get(q.name)?.defaultDispvm ?? undefined : value || undefined;
  const deps = [q.template, q.netvm ?? undefined, dd].filter(
    (d): d is string => d !== undefined && d !== q.name && inModel.has(d),
  );
  const unique = [...new Set(deps)].sort();
  // Nothing before the Whonix templates are verified.
  const require = [...unique.map((d): Yaml => ({ qvm: d })), ...checks, claimRequisite];
  if (require.length > 0) state.push({ require });
  return state;
}

/** The ids of the ownership states (`:` keeps them apart from the qube states). */
export const ownStateIds = { helper: 'qpc-own:helper', claim: 'qpc-own:claim', prune: 'qpc-own:prune' } as const;
const claimRequisite: Yaml = { cmd: ownStateIds.claim };

/**
 * The helper the ownership states run (ownership.ts): \`claim\` records what
 * the states will write, before they run; \`prune\` takes back what an
 * earlier run wrote and this policy no longer has, after them. It speaks
 * Salt's \`stateful\` protocol: its last line says whether it changed anything.
 */
export function saltHelper(model: PolicyModel, inputs: Inputs): string {
  const claims: string[] = [];
  for (const q of stateQubes(model)) {
    const n = sq(q.name);
    for (const t of q.tags) claims.push(`  own_tag ${n} ${sq(t)}`);
    for (const f of q.features) claims.push(`  own_feature ${n} ${sq(f.key)} ${sq(f.value)}`);
    for (const s of q.services) claims.push(`  own_service ${n} ${sq(s.name)} ${sq(s.enabled ? 'on' : 'off')}`);
    for (const p of prefsOf(q, model)) if (resettablePrefs.includes(p.name)) claims.push(`  own_pref ${n} ${sq(p.name)} ${sq(p.value)}`);
  }
  for (const q of model.qubes) for (const d of q.devices) if (d.id !== undefined) claims.push(`  if exists ${sq(q.name)}; then own_device ${sq(q.name)} ${sq(d.deviceClass)} ${sq(d.id)}; else own 0 ${sq(`device ${q.name} ${d.deviceClass} ${d.id}`)}; fi`);
  for (const p of inputs.policies) claims.push(`  own 0 ${sq(`policy ${p.name} ${p.sha256}`)}`);
  return [
    '#!/bin/sh',
    '# generated by qpc (see the header of qpc.sls); do not edit',
    "# The ownership record of qpc's Salt states (qpc.sls runs it): `claim` before",
    '# the qube and policy states, `prune` after them; the same functions as',
    '# provision.sh. Salt installs no files inside qubes, so the files provision.sh',
    '# pushed stay recorded for its next run.',
    'set -eu',
    'dry_run=0',
    'changed=0',
    `qubes_release=${sq(model.settings.qubes)}`,
    `policy_dir="\${QPC_POLICY_DIR:-${policyDirectory}}"`,
    `say() { printf 'qpc: %s\n' "$*"; }`,
    `die() { printf 'qpc: error: %s\n' "$*" >&2; exit 1; }`,
    'change() {',
    '  say "$1"',
    '  changed=1',
    '  shift',
    '  "$@"',
    '}',
    'exists() { qvm-check "$1" > /dev/null 2>&1; }',
    '',
    ownershipFunctions,
    '',
    'claim() {',
    '  start_record "$state_dir/owned.next"',
    '  if [ -f "$record" ]; then',
    "    grep '^file ' \"$record\" >> \"$next_record\" || true",
    '  fi',
    ...claims,
    '}',
    '',
    'prune() {',
    '  next_record="$state_dir/owned.next"',
    '  [ -f "$next_record" ] || die "$next_record is missing: the claim state runs first"',
    '  prune_qubes',
    '  prune_policies',
    '  finish_record',
    '  rm -f "$next_record"',
    '}',
    '',
    'case "${1:-}" in',
    '  claim) claim ;;',
    '  prune) prune ;;',
    '  has-device) shift; if has_device "$@"; then exit 0; else exit 1; fi ;;',
    '  has-device-option) shift; if has_device_option "$@"; then exit 0; else exit 1; fi ;;',
    `  *) die "usage: sh ${stateDirectory}/${saltHelperName} claim|prune" ;;`,
    'esac',
    "# Salt's stateful protocol: the last line says whether anything changed.",
    'if [ "$changed" = 1 ] || [ "$record_changed" = 1 ]; then',
    `  printf '\n%s\n' "changed=yes comment='qpc ownership record updated'"`,
    'else',
    `  printf '%s\n' 'changed=no'`,
    'fi',
    '',
  ].join('\n');
}

function ownStates(model: PolicyModel, inputs: Inputs, checks: readonly Yaml[], after: readonly Yaml[]): Record<string, Yaml> {
  const helper = `${stateDirectory}/${saltHelperName}`;
  return {
    [ownStateIds.helper]: {
      'file.managed': [
        { name: helper },
        { contents: saltHelper(model, inputs) },
        { user: 'root' },
        { group: 'root' },
        { mode: '0700' },
        { makedirs: true },
        ...(checks.length > 0 ? [{ require: [...checks] }] : []),
      ],
    },
    [ownStateIds.claim]: {
      'cmd.run': [{ name: `sh ${helper} claim` }, { stateful: true }, { require: [{ file: ownStateIds.helper }, ...checks] }],
    },
    [ownStateIds.prune]: {
      'cmd.run': [{ name: `sh ${helper} prune` }, { stateful: true }, { require: [{ cmd: ownStateIds.claim }, ...after, ...checks] }],
    },
  };
}

/** The id of the state that sets Qubes' global default disposable (a `:` keeps it apart from the qube states). */
export const globalStateId = 'qpc-global:default_dispvm';

/**
 * Qubes' global `default_dispvm` (`qubes-prefs`, which no `qvm.*` state
 * sets), after the disposable template it names is one. dom0 and every qube
 * without a value of its own inherit it; provisioning sets every declared
 * qube's own value anyway, so this is what dom0 and the other qubes get.
 */
function globalDispvmState(value: string | null, inModel: ReadonlySet<string>, checks: readonly Yaml[]): Yaml {
  const v = sq(value ?? '');
  const require = [...(value !== null && inModel.has(value) ? [{ qvm: value } as Yaml] : []), ...checks, claimRequisite];
  return {
    'cmd.run': [{ name: `qubes-prefs default_dispvm ${v}` }, { unless: `[ "$(qubes-prefs default_dispvm)" = ${v} ]` }, ...(require.length > 0 ? [{ require }] : [])],
  };
}

/** The id of the state that sets Qubes' global default kernel. */
export const globalKernelStateId = 'qpc-global:default_kernel';

/**
 * Qubes' global `default_kernel` (`qubes-prefs`; no `qvm.*` state sets it):
 * the kernel of every qube whose own and whose template's are unset, `''`
 * for none (such qubes boot their own kernel through pvgrub2).
 */
function globalKernelState(value: string | null, checks: readonly Yaml[]): Yaml {
  const v = sq(value ?? '');
  return {
    'cmd.run': [{ name: `qubes-prefs default_kernel ${v}` }, { unless: `[ "$(qubes-prefs default_kernel)" = ${v} ]` }, { require: [...checks, claimRequisite] }],
  };
}

/** The qube names that get a `qvm.vm` state (dom0 only when it carries tags or features). */
function stateQubes(model: PolicyModel): ModelQube[] {
  return provisioningOrder(model).filter((q) => q.klass !== 'AdminVM' || q.tags.length > 0 || q.features.length > 0);
}

/** The text of `qubes/salt/qpc.sls`. */
export function saltStates(model: PolicyModel, inputs: Inputs): string {
  const qubes = stateQubes(model);
  const inModel = new Set(qubes.map((q) => q.name));
  const doc: Record<string, Yaml> = {};
  for (const f of model.verifiedStock) doc[stockStateId(f.name)] = stockState(f);
  const markers = whonixMarkers(model);
  for (const m of markers) doc[markerStateId(m)] = markerState(m);
  const checks = markers.map((m): Yaml => ({ test: markerStateId(m) }));
  for (const q of qubes) doc[q.name] = { 'qvm.vm': qubeState(model, q, inModel, checks) };
  if (model.settings.defaultDisposable !== undefined) doc[globalStateId] = globalDispvmState(model.settings.defaultDisposable, inModel, checks);
  if (model.settings.defaultKernel !== undefined) doc[globalKernelStateId] = globalKernelState(model.settings.defaultKernel, checks);
  for (const p of inputs.policies) {
    doc[`${policyDirectory}/${p.name}.policy`] = {
      'file.managed': [
        { contents: p.contents },
        { user: 'root' },
        { group: 'root' },
        { mode: '0644' },
        // Salt writes the file only when the linter accepts it: a malformed
        // policy file would deny every qrexec call (reference §1.1).
        { check_cmd: 'qubes-policy-lint' },
        { require: [...qubes.map((q): Yaml => ({ qvm: q.name })), ...checks, claimRequisite] },
      ],
    };
  }
  // Persistent device assignments (qvm-device; Salt's qvm.devices attaches
  // without --persistent on R4.2 and knows no R4.3 assign), once the qube exists.
  const helper = `${stateDirectory}/${saltHelperName}`;
  const deviceStates: string[] = [];
  for (const q of model.qubes) {
    for (const d of q.devices) {
      if (d.id === undefined) continue;
      const id = `qpc-device:${q.name}:${d.deviceClass}:${d.id}`;
      const verb = (model.settings.qubes === '4.2' ? 'attach --persistent' : d.deviceClass === 'pci' ? 'assign --required' : 'assign') + (d.noStrictReset ? ' -o no-strict-reset=True' : '');
      const args = [q.name, d.deviceClass, d.id].map(sq);
      const assign = `qvm-device ${sq(d.deviceClass)} ${verb} ${args[0]} ${args[2]}`;
      // With no-strict-reset, an assignment without the option is made again with it.
      const undo = `qvm-device ${sq(d.deviceClass)} ${model.settings.qubes === '4.2' ? 'detach' : 'unassign'} ${args[0]} ${args[2]}`;
      doc[id] = {
        'cmd.run': [
          { name: d.noStrictReset ? `if sh ${helper} has-device ${args.join(' ')}; then ${undo}; fi && ${assign}` : assign },
          { unless: `sh ${helper} has-device ${args.join(' ')}${d.noStrictReset ? ` && sh ${helper} has-device-option ${args.join(' ')} no-strict-reset=True` : ''}` },
          { require: [...(inModel.has(q.name) ? [{ qvm: q.name } as Yaml] : []), ...checks, claimRequisite] },
        ],
      };
      deviceStates.push(id);
    }
  }
  const after: Yaml[] = [
    ...deviceStates.map((id): Yaml => ({ cmd: id })),
    ...qubes.map((q): Yaml => ({ qvm: q.name })),
    ...inputs.policies.map((p): Yaml => ({ file: `${policyDirectory}/${p.name}.policy` })),
    ...(model.settings.defaultDisposable !== undefined ? [{ cmd: globalStateId } as Yaml] : []),
    ...(model.settings.defaultKernel !== undefined ? [{ cmd: globalKernelStateId } as Yaml] : []),
  ];
  Object.assign(doc, ownStates(model, inputs, checks, after));
  requireStock(doc, model);
  const header = [
    SALT_RENDERER,
    `# generated by qpc from ${headerSource(model.source)}; do not edit`,
    '# The qubes, properties, tags, features, services and qrexec policy files of',
    '# the policy as Salt states. Copy to /srv/salt/ in dom0 and apply with',
    '# `qubesctl top.enable qpc && qubesctl --targets=dom0 state.apply`.',
    '# Do not preview them with test=True: qvm.prefs sets properties even in test',
    '# mode (qubes-issues #9279; prefs() in qubes-mgmt-salt-dom0-qvm',
    '# _modules/ext_module_qvm.py has no test-mode check, for any value, not only',
    "# ''), so a netvm would change while nothing else does. Preview with",
    '# `sh qubes/provision.sh --dry-run`, which reads only and shows the same changes.',
    '# The Whonix files inside qubes are installed by provision.sh only.',
    `# ${ownStateIds.claim} records in ${stateDirectory}/owned what the states write, before`,
    `# they run; ${ownStateIds.prune} then takes back what an earlier run wrote and this`,
    '# policy no longer has (the same record and functions as provision.sh).',
    ...(markers.length > 0 ? ["# Every qube and policy state requires the qpc-whonix-marker checks: the Whonix", "# templates must carry Whonix's own marker feature, or none is applied."] : []),
    ...(model.verifiedStock.length > 0 ? ['# Every state requires the qpc-stock-file checks: the stock policy files the', '# policy models must be in dom0 with their sha256, or none is applied.'] : []),
  ];
  // One state at a time gives the same text as the whole mapping at once, about twice as fast on
  // large policies; no anchors, so equal values are written out each time.
  const body = Object.entries(doc)
    .map(([id, state]) => stringify({ [id]: state }, { lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false }))
    .join('');
  return header.join('\n') + '\n' + (body === '' ? stringify({}, { lineWidth: 0 }) : body);
}

/** The text of `qubes/salt/qpc.top`. */
export function saltTop(model: PolicyModel): string {
  const header = `${SALT_RENDERER}\n# generated by qpc from ${headerSource(model.source)}; do not edit\n`;
  return header + stringify({ base: { dom0: [saltStateName] } }, { lineWidth: 0, indentSeq: true });
}
