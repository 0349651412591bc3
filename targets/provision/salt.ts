/**
 * `qubes/salt/qpc.sls` and `qubes/salt/qpc.top`: the same configuration as
 * provision.sh, as Salt states for `qubesctl` (reference §3.3: `qvm.vm` keys
 * and spellings, `file.managed` for policy files). Built as data and
 * serialized with the yaml library, so no value can add a key or a line.
 */
import { stringify } from 'yaml';
import type { ModelQube, ModelStockFile, PolicyModel } from '../../compiler/model.js';
import { headerSource, policyDirectory } from '../paths.js';
import type { Inputs } from './inputs.js';
import { defaultDispvmOf, prefsOf, provisioningOrder, QUBES_DEFAULT, whonixMarkers, type WhonixMarker } from './plan.js';
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
  if (q.tags.length > 0) state.push({ tags: [{ add: [...q.tags] }] });
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
  const require = [...unique.map((d): Yaml => ({ qvm: d })), ...checks];
  if (require.length > 0) state.push({ require });
  return state;
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
  const require = [...(value !== null && inModel.has(value) ? [{ qvm: value } as Yaml] : []), ...checks];
  return {
    'cmd.run': [{ name: `qubes-prefs default_dispvm ${v}` }, { unless: `[ "$(qubes-prefs default_dispvm)" = ${v} ]` }, ...(require.length > 0 ? [{ require }] : [])],
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
        ...(qubes.length + checks.length > 0 ? [{ require: [...qubes.map((q): Yaml => ({ qvm: q.name })), ...checks] }] : []),
      ],
    };
  }
  requireStock(doc, model);
  const header = [
    SALT_RENDERER,
    `# generated by qpc from ${headerSource(model.source)}; do not edit`,
    '# The qubes, properties, tags, features, services and qrexec policy files of',
    '# the policy as Salt states. Copy to /srv/salt/ in dom0 and apply with',
    '# `qubesctl top.enable qpc && qubesctl --targets=dom0 state.apply`.',
    '# The Whonix files inside qubes are installed by provision.sh only.',
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
