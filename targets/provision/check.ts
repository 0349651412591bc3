/**
 * What the provision target refuses before it writes a line (QP4001 for what
 * it cannot express, QP4002 for a value outside the allow-lists below). Every
 * name and value the script passes to a `qvm-*` command or writes into YAML
 * is checked here against a strict pattern, so single quotes in the script
 * are a second wall, not the only one.
 */
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import type { ModelQube, PolicyModel } from '../../compiler/model.js';
import type { Span } from '../../compiler/source.js';
import { provisionScriptPath } from '../paths.js';
import { qubeLabels, qubeNameSyntax } from '../../compiler/qubes-values.js';
import { whonixMarkerFeature } from './plan.js';

/** Tags: `Tags.validate_tag` (reference §1.8). */
export const tagPattern = /^[A-Za-z0-9_-]+$/;
/** Feature keys (`service.x`, `menu-items`, …) and service names. */
export const featureKeyPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const serviceNamePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/**
 * Feature values and kernel options: printable ASCII without quotes,
 * backslash, `$`, backquote, `#`, `;`, `&`, `|`, `<`, `>` and without a leading
 * dash or space (argparse would read a leading dash as an option). Empty is
 * allowed (a false feature).
 */
export const textValuePattern = /^(?:[A-Za-z0-9_.,:/@+=%][A-Za-z0-9_.,:/@+=% -]*)?$/;
/** A kernel version as `qvm-prefs kernel` takes it: a directory name under /var/lib/qubes/vm-kernels, no slash. */
export const kernelPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/**
 * A device as `qvm-device` names it: the backend qube, a colon, the port
 * (`dom0:00_14.3` for PCI, `sys-usb:2-1` for USB, `sys-usb:sda` for a block
 * device), and on R4.3 optionally a colon and the device's own id.
 */
export const deviceIdPattern = /^[A-Za-z][A-Za-z0-9_.-]{0,30}:[A-Za-z0-9_][A-Za-z0-9_.+-]*(?::[A-Za-z0-9_][A-Za-z0-9_.+-]*)?$/;
/** The device classes provisioning assigns (`qvm-device CLASS`). */
export const deviceClasses: readonly string[] = ['pci', 'usb', 'block', 'mic'];
/** Qubes refuses longer kernel options (reference §3.2). */
export const maxKerneloptsLength = 512;

const artifact = provisionScriptPath;
const whonixMarkerFeatures: ReadonlySet<string> = new Set(Object.values(whonixMarkerFeature));

function unsafe(span: Span, what: string, value: string): Diagnostic {
  return diag('QP4002', span, { what, value, artifact });
}

function checkQube(q: ModelQube, out: Diagnostic[]): void {
  const at = (key: string): Span => q.spans[key] ?? q.span;
  if (!qubeNameSyntax.test(q.name)) out.push(unsafe(q.span, 'qube name', q.name));
  for (const [key, v] of [['template', q.template], ['netvm', q.netvm], ['default-disposable', q.defaultDispvm]] as const) {
    if (typeof v === 'string' && !qubeNameSyntax.test(v)) out.push(unsafe(at(key), `${key} name`, v));
  }
  if (q.label !== undefined && !qubeLabels.includes(q.label)) out.push(unsafe(at('label'), 'label', q.label));
  for (const t of q.tags) if (!tagPattern.test(t)) out.push(unsafe(at('tag'), 'tag', t));
  for (const f of q.features) {
    if (!featureKeyPattern.test(f.key)) out.push(unsafe(f.span, 'feature name', f.key));
    if (!textValuePattern.test(f.value)) out.push(unsafe(f.span, 'feature value', f.value));
    // Whonix's markers are the machine's word that a template is Whonix's
    // (provision.sh verifies them); a policy that set them would vouch for itself.
    if (whonixMarkerFeatures.has(f.key)) {
      out.push(diag('QP4001', f.span, { target: 'provision', what: `the Whonix marker feature \`${f.key}\` on \`${q.name}\` (a Whonix template requests it from dom0 itself; provisioning verifies it and never sets it)` }));
    }
  }
  for (const s of q.services) if (!serviceNamePattern.test(s.name)) out.push(unsafe(s.span, 'service name', s.name));
  if (typeof q.kernel === 'string' && !kernelPattern.test(q.kernel)) out.push(unsafe(at('kernel'), 'kernel', q.kernel));
  if (q.kernelopts !== undefined && (!textValuePattern.test(q.kernelopts) || q.kernelopts.length > maxKerneloptsLength)) {
    out.push(unsafe(at('kernelopts'), 'kernel options', q.kernelopts));
  }
  for (const [key, v] of [['memory', q.memory], ['maxmem', q.maxmem], ['vcpus', q.vcpus]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) out.push(unsafe(at(key === 'maxmem' ? 'memory' : key), key, String(v)));
  }

  // Device assignment (`qvm-device`): only a device named by its
  // backend-qualified id can be assigned.
  for (const d of q.devices) {
    if (!deviceClasses.includes(d.deviceClass)) out.push(unsafe(d.span, 'device class', d.deviceClass));
    else if (d.id === undefined) {
      out.push(diag('QP4001', d.span, { target: 'provision', what: `device \`${d.deviceClass}\` on \`${q.name}\` without its id (name it as \`qvm-device ${d.deviceClass} list\` does, \`BACKEND:ID\`)` }));
    } else if (!deviceIdPattern.test(d.id)) out.push(unsafe(d.span, 'device id', d.id));
    if (q.klass === 'AdminVM') out.push(diag('QP4001', d.span, { target: 'provision', what: `a device assigned to dom0` }));
  }

  if (q.preexisting) return;
  // Only qubes qpc creates from here on.
  if (q.klass === 'TemplateVM' || q.klass === 'AdminVM') {
    out.push(diag('QP4001', q.span, { target: 'provision', what: `the creation of ${q.klass} \`${q.name}\` (install templates with qvm-template)` }));
  }
  if (q.label === undefined) {
    // `qvm-create` refuses to run without `--label` (reference §3.1) and no
    // default colour would say anything true about the qube's trust level.
    out.push(diag('QP4001', q.span, { target: 'provision', what: `qube \`${q.name}\` without a label (\`qvm-create\` needs one: give the qube or its identity a \`label\`)` }));
  }
  if (q.klass === 'DispVM' && q.template === undefined) {
    out.push(diag('QP4001', q.span, { target: 'provision', what: `named disposable \`${q.name}\` without its disposable template` }));
  }
}

/** The provision target's check: QP4001/QP4002 at the spans that wrote the values. */
export function checkProvision(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const q of model.qubes) checkQube(q, out);
  for (const i of model.identities) if (!tagPattern.test(i.tag)) out.push(unsafe(i.span, 'identity tag', i.tag));
  for (const f of model.policyFiles) {
    // Policy Admin API names (`^[\w-]+$`, reference §1.1) and the daemon's filename charset.
    if (!/^[0-9a-z_-]+$/.test(f.name)) out.push(diag('QP4002', undefined, { what: 'policy file name', value: f.name, artifact }));
  }
  for (const f of model.verifiedStock) {
    // provision.sh and the Salt states check these files in the policy directory.
    if (!/^[0-9a-z_-]+$/.test(f.name)) out.push(unsafe(f.span, 'stock policy file name', f.name));
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) out.push(unsafe(f.span, 'sha256 of a stock policy file', f.sha256));
  }
  return out;
}
