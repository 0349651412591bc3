/**
 * What the xen target refuses before it writes anything: QP4001 for what
 * xl.cfg or libvirt cannot express, QP4002 for any value outside the strict
 * allow-lists below (a quote, comma or newline could add an xl key, a vif
 * argument or an XML element; a control character in the policy's file name
 * could not be written into the header comments), QP4301 for a PV or PVH
 * domain given the grub image of the other mode, QP4302 (a warning) for the
 * PV and PVH domains with no kernel named anywhere, whose files are left out. Things the checker already refuses (PVH with
 * PCI devices, QP3014; a netvm that provides no network) are not repeated.
 */
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { qubeNamed, type ModelQube, type PolicyModel } from '../../compiler/model.js';
import { blockIdPattern, bootable, bootOf, domainQubes, domainType, kernelSource, pciIdPattern } from './domain.js';
import { grubKernels, qubeNameSyntax } from '../../compiler/qubes-values.js';
import type { Span } from '../../compiler/source.js';

/** Qubes qube names (dots from Qubes 4.3); also what xl and libvirt take as a domain name. */

/** A kernel directory name under `vm-kernels`: no `/`, no leading dot. */
export const kernelPattern = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

/**
 * Kernel options: words of letters, digits and the punctuation kernel
 * parameters use. The command line is one quoted xl string and one XML text
 * node, so a comma is harmless (`console=ttyS0,115200`); quotes, backslashes,
 * `#`, `<`, `>`, `&` and control characters are not allowed.
 */
export const kerneloptsPattern = /^[A-Za-z0-9 _.,:=+/@%~-]{0,512}$/;

/** The address Qubes gives a qube (`10.137.x.y`, §1.2). */
export const ipPattern = /^10\.137\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$/;

/** At most xvdi … xvdz for assigned block devices. */
const MAX_BLOCK_DEVICES = 18;

const cfg = 'an xl domain configuration';

function checkQube(model: PolicyModel, q: ModelQube, out: Diagnostic[]): void {
  if (!qubeNameSyntax.test(q.name)) out.push(diag('QP4002', q.span, { what: 'domain name', value: q.name, artifact: cfg }));
  if (q.netvm !== null && !qubeNameSyntax.test(q.netvm)) out.push(diag('QP4002', q.spans['netvm'] ?? q.span, { what: 'netvm name', value: q.netvm, artifact: cfg }));
  if (q.netvm !== null && !ipPattern.test(q.ip)) out.push(diag('QP4002', q.span, { what: 'address', value: q.ip, artifact: cfg }));
  if (typeof q.kernel === 'string' && !kernelPattern.test(q.kernel)) {
    out.push(diag('QP4002', q.spans['kernel'] ?? q.span, { what: 'kernel version', value: q.kernel, artifact: cfg }, { help: 'name a directory of `/var/lib/qubes/vm-kernels` (letters, digits, `.`, `_`, `+`, `-`)' }));
  }
  if (q.kernelopts !== undefined && !kerneloptsPattern.test(q.kernelopts)) {
    out.push(
      diag('QP4002', q.spans['kernelopts'] ?? q.span, { what: 'kernel command line', value: q.kernelopts, artifact: cfg }, { help: 'kernel options may use letters, digits, spaces and `_ . , : = + / @ % ~ -`, no quotes' }),
    );
  }
  let blocks = 0;
  for (const d of q.devices) {
    const id = d.id ?? '';
    if (d.deviceClass === 'pci') {
      if (!pciIdPattern.test(id)) {
        if (/^[A-Za-z][A-Za-z0-9_.-]*:/.test(id) && !id.startsWith('dom0:')) {
          out.push(diag('QP4001', d.span, { target: 'xen', what: `the PCI device \`${id}\`: Xen passes through only devices that dom0 owns` }, { help: 'write it as `qvm-pci` lists it, `dom0:BB_SS.F`' }));
        } else {
          out.push(diag('QP4002', d.span, { what: 'PCI device', value: id, artifact: cfg }, { help: 'write it as `qvm-pci` lists it: `dom0:BB_SS.F` in lower-case hex, such as `dom0:00_14.3`' }));
        }
      }
    } else if (d.deviceClass === 'block') {
      const m = blockIdPattern.exec(id);
      if (!m || id.includes('__')) {
        out.push(diag('QP4002', d.span, { what: 'block device', value: id, artifact: cfg }, { help: 'write it as `qvm-block` lists it, such as `sys-usb:sda1`' }));
      } else if (m[1] !== 'dom0' && qubeNamed(model, m[1]!) === undefined) {
        out.push(diag('QP4001', d.span, { target: 'xen', what: `a block device of \`${m[1]}\`, which this policy does not declare` }, { help: 'xl resolves the backend by name when the domain starts; declare that qube' }));
      } else if (m[1] === q.name) {
        out.push(diag('QP4001', d.span, { target: 'xen', what: `a block device that \`${q.name}\` serves to itself` }));
      } else if (++blocks > MAX_BLOCK_DEVICES) {
        out.push(diag('QP4001', d.span, { target: 'xen', what: `more than ${MAX_BLOCK_DEVICES} block devices on one qube` }));
      }
    }
    // USB devices and the microphone are attached through qrexec and the audio qube, not in the domain's configuration.
  }
}

const bootHelp =
  'add `kernel "VERSION"` to `settings` (Qubes\' `default_kernel`, a directory of /var/lib/qubes/vm-kernels, as `qubes-prefs default_kernel` shows it), or give the qube or its template `kernel "VERSION"`, or `kernel none` (the kernel on its own disk, through pvgrub2)';

/**
 * QP4301: xl starts a PVH or PV domain only from a kernel image in dom0
 * (`kernel=`; reference xen.md §2.2): a domain for which neither the qube,
 * its template nor the settings name a kernel has none, and a grub image
 * built for the other mode cannot start it.
 */
function checkBoot(model: PolicyModel, q: ModelQube, out: Diagnostic[]): void {
  const type = domainType(model, q);
  if (type === 'hvm') return; // HVM starts its firmware, which boots the disk (§1.1).
  const source = kernelSource(model, q);
  if (!source) return; // Left out of the output (QP4302, below).
  const boot = bootOf(source.kernel);
  const mode = type === 'pvh' ? 'PVH' : 'PV';
  if (boot.kind !== 'grub' || boot.image === grubKernels[type]) return;
  const other = type === 'pvh' ? 'PV' : 'PVH';
  const reason = `\`${boot.image}\` is the grub image for ${other} domains, and \`${q.name}\` is a ${mode} domain`;
  const help = `write \`kernel "${grubKernels[type]}"\`, or \`kernel none\`, which picks the grub image of the domain's mode`;
  // At the item that names the image when it is the qube's own; else at the qube, with the item or setting that gave it.
  if (source.qube === q.name) out.push(diag('QP4301', source.span, { name: q.name, reason }, { help }));
  else out.push(diag('QP4301', q.span, { name: q.name, reason }, { help, related: [{ span: source.span, message: source.qube ? `the kernel of \`${source.qube}\`` : 'the default kernel' }] }));
}

/** What may follow `generated by qpc from` in the header comments: printable ASCII (the xl header shows it as it is). */
export const sourcePattern = /^[\x20-\x7e]{1,4096}$/;

/** A span at the start of the entry file, for findings about the file as a whole. */
function entrySpan(model: PolicyModel): Span {
  return { file: model.entry, start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

/** The xen target's findings for a model. */
export function checkXen(model: PolicyModel): readonly Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!sourcePattern.test(model.source)) {
    out.push(diag('QP4002', entrySpan(model), { what: 'source file name', value: model.source, artifact: 'the header comment of the Xen files' }, { help: 'name the policy with a path of printable ASCII characters' }));
  }
  const dk = model.settings.defaultKernel;
  if (typeof dk === 'string' && !kernelPattern.test(dk)) {
    out.push(diag('QP4002', model.settings.defaultKernelSpan ?? entrySpan(model), { what: 'kernel version', value: dk, artifact: cfg }));
  }
  for (const q of domainQubes(model)) {
    checkQube(model, q, out);
    checkBoot(model, q, out);
  }
  // On Qubes these domains boot Qubes' own default_kernel, which the policy
  // need not know: the Xen files, which cannot name it, are left out, once.
  const left = domainQubes(model).filter((q) => !bootable(model, q));
  if (left.length > 0) {
    const names = left.slice(0, 5).map((q) => `\`${q.name}\``).join(', ') + (left.length > 5 ? ` and ${left.length - 5} more` : '');
    const at = left.find((q) => q.span.file === model.source) ?? left[0];
    out.push(diag('QP4302', at.span, { count: String(left.length), names }, { help: bootHelp }));
  }
  return out;
}
