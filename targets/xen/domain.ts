/**
 * What Xen domain a qube becomes: the settings qubesd derives from the
 * qube's properties (reference xen.md §1.1), resolved once so that the xl.cfg
 * and the libvirt XML writers render the same domain. Pure.
 */
import { qubeNamed, type ModelDevice, type ModelQube, type PolicyModel } from '../../compiler/model.js';
import { grubKernels } from '../../compiler/qubes-values.js';
import type { Span } from '../../compiler/source.js';

/** Where Qubes keeps the kernels it boots qubes with (one directory per version, §1.1). */
export const kernelsDir = '/var/lib/qubes/vm-kernels';

/**
 * The options every Qubes kernel command line starts with: `kernelopts_common`
 * (QA `qubes/config.py`), which is the sample command line of §5.1 without the
 * default kernelopts `swiotlb=2048`.
 */
export const kernelOptsCommon = 'root=/dev/mapper/dmroot ro nomodeset console=hvc0 rd_NO_PLYMOUTH rd.plymouth.enable=0 plymouth.enable=0 xen_privcmd.unrestricted';

/** Since 2016 every qube has this MAC: each vif is a routed point-to-point link, and a per-qube MAC leaked the qid (§1.2). */
export const qubesMac = '00:16:3e:5e:6c:00';

/** The hotplug script a netvm's `xl devd` runs for a client vif (§1.2). */
export const vifScript = 'vif-route-qubes';

/** Qubes' block hotplug script (needs Qubes' patched libvirt on the XML side, §1.3). */
export const blockScript = '/etc/xen/scripts/qubes-block';

export type DomainType = 'pvh' | 'hvm' | 'pv';

export interface Disk {
  /** `xvda` … */
  readonly vdev: string;
  /** Absolute path of the block device or image in the backend domain. */
  readonly target: string;
  readonly writable: boolean;
  /** The domain that serves it; undefined for dom0. */
  readonly backend?: string;
}

export interface PciAddress {
  readonly domain: string;
  readonly bus: string;
  readonly slot: string;
  readonly func: string;
}

/** How the domain boots. */
export type Boot =
  /** A Qubes kernel directory `vm-kernels/VERSION`: `vmlinuz`, `initramfs`, `modules.img`. */
  | { readonly kind: 'version'; readonly version: string }
  /**
   * `kernel "pvgrub2-pvh"` or `"pvgrub2"`: dom0's grub image, which loads the
   * qube's own kernel from its disk; the directory holds `vmlinuz` and an
   * empty `initramfs`, no `modules.img` (qubes-linux-pvgrub2 `grub2-xen.spec`).
   */
  | { readonly kind: 'grub'; readonly image: string }
  /** `kernel none`: the qube's own kernel, through pvgrub2 (PV, PVH) or its bootloader (HVM). */
  | { readonly kind: 'own' }
  /** Neither the qube, its template nor the settings name one: Qubes' global `default_kernel`, which the policy does not know. */
  | { readonly kind: 'default' };

/** Where a qube's kernel comes from: its own `kernel` item, its template's, or the `kernel` setting. */
export interface KernelSource {
  /** A kernel directory name, or null for none (the qube's own kernel). */
  readonly kernel: string | null;
  /** The item or setting that names it. */
  readonly span: Span;
  /** The qube or template whose item it is; absent for the setting. */
  readonly qube?: string;
}

export interface Domain {
  readonly qube: ModelQube;
  readonly name: string;
  readonly type: DomainType;
  /** MiB at start. */
  readonly memory: number;
  /** MiB the domain may balloon up to; equal to `memory` when Qubes turns balancing off. */
  readonly maxmem: number;
  readonly vcpus: number;
  readonly boot: Boot;
  /** Kernel image and initramfs paths, when the domain boots a kernel from dom0. */
  readonly kernel?: string;
  readonly ramdisk?: string;
  /** The kernel command line, when a kernel is given. */
  readonly cmdline?: string;
  readonly disks: readonly Disk[];
  /** The network backend (the qube's netvm) and the qube's address. */
  readonly vif?: { readonly backend: string; readonly mac: string; readonly ip: string };
  /** The qube serves network to others. */
  readonly driverDomain: boolean;
  readonly pci: readonly PciAddress[];
}

/** A PCI device id as `qvm-pci` lists it: `dom0:BB_SS.F`, optionally with the PCI domain `dom0:DDDD_BB_SS.F`. */
export const pciIdPattern = /^dom0:(?:([0-9a-f]{4})_)?([0-9a-f]{2})_([01][0-9a-f])\.([0-7])$/;

/** A block device id `BACKEND:IDENT` (`sys-usb:sda`, `dom0:mapper_luks-1`): ident `_` stands for `/` under `/dev`. */
export const blockIdPattern = /^([A-Za-z][A-Za-z0-9_.-]{0,30}):([A-Za-z0-9][A-Za-z0-9-]{0,63}(?:_[A-Za-z0-9][A-Za-z0-9-]{0,63}){0,3})$/;

export function pciAddress(id: string): PciAddress | undefined {
  const m = pciIdPattern.exec(id);
  if (!m) return undefined;
  return { domain: m[1] ?? '0000', bus: m[2]!, slot: m[3]!, func: m[4]! };
}

/** The qubes that become domains: all but dom0, which is the host itself. Templates are included: Qubes starts them as domains to update them. */
export function domainQubes(model: PolicyModel): readonly ModelQube[] {
  return model.qubes.filter((q) => q.klass !== 'AdminVM');
}

/**
 * Whether xl can start the domain from what the policy says: HVM always (its
 * firmware), PV and PVH only with a kernel from the qube, its template or the
 * settings. The others are left out of the output (QP4302).
 */
export function bootable(model: PolicyModel, q: ModelQube): boolean {
  return domainType(model, q) === 'hvm' || kernelSource(model, q) !== undefined;
}

/** A property of a qube, else of its template chain (`_default_with_template`, §1.1). */
function inherited<T>(model: PolicyModel, q: ModelQube, get: (q: ModelQube) => T | undefined): T | undefined {
  const seen = new Set<string>();
  let cur: ModelQube | undefined = q;
  while (cur && !seen.has(cur.name)) {
    const v = get(cur);
    if (v !== undefined) return v;
    seen.add(cur.name);
    cur = cur.template ? qubeNamed(model, cur.template) : undefined;
  }
  return undefined;
}

/**
 * A qube's kernel as qubesd resolves it: its own, else its template's (which
 * is the template's own, else the global default), else the global
 * `default_kernel` (`kernel` default `_default_with_template("kernel",
 * app.default_kernel)`, qubes-core-admin `qubes/vm/qubesvm.py`). Undefined
 * when nothing names one.
 */
export function kernelSource(model: PolicyModel, q: ModelQube): KernelSource | undefined {
  const seen = new Set<string>();
  for (let cur: ModelQube | undefined = q; cur && !seen.has(cur.name); cur = cur.template ? qubeNamed(model, cur.template) : undefined) {
    if (cur.kernel !== undefined) return { kernel: cur.kernel, span: cur.spans['kernel'] ?? cur.span, qube: cur.name };
    seen.add(cur.name);
  }
  const s = model.settings;
  if (s.defaultKernel === undefined) return undefined;
  return { kernel: s.defaultKernel, span: s.defaultKernelSpan ?? q.span };
}

/** How a kernel name boots: a grub image, else a kernel version. */
export function bootOf(kernel: string | null | undefined): Boot {
  if (kernel === undefined) return { kind: 'default' };
  if (kernel === null) return { kind: 'own' };
  if (kernel === grubKernels.pv || kernel === grubKernels.pvh) return { kind: 'grub', image: kernel };
  return { kind: 'version', version: kernel };
}

/** `_default_virt_mode`: the qube's own, else HVM when PCI devices are assigned, else the template's, else PVH (§1.1). */
export function domainType(model: PolicyModel, q: ModelQube): DomainType {
  const pci = q.devices.some((d) => d.deviceClass === 'pci');
  return q.virtMode ?? (pci ? 'hvm' : inherited(model, q, (x) => x.virtMode) ?? 'pvh');
}

/** The device-mapper name of a Qubes LVM volume: VG `qubes_dom0`, LV `vm-NAME-VOLUME`; device-mapper doubles each `-` of both (§5.1). */
function lvmPath(qube: string, volume: string): string {
  const dm = (s: string) => s.replace(/-/g, '--');
  return `/dev/mapper/${dm('qubes_dom0')}-${dm(`vm-${qube}-${volume}`)}`;
}

/** `xvda` … `xvdz`. */
function vdev(index: number): string {
  return `xvd${String.fromCharCode(0x61 + index)}`;
}

/** Resolves the domain of one qube. */
export function resolveDomain(model: PolicyModel, q: ModelQube): Domain {
  const pci = q.devices.filter((d) => d.deviceClass === 'pci');
  const addresses = pci.map((d) => pciAddress(d.id ?? ''));
  if (addresses.some((a) => a === undefined)) throw new Error(`xen: unchecked PCI device id on ${q.name}`);
  const type = domainType(model, q);
  if (type === 'pvh' && pci.length > 0) throw new Error(`xen: PVH with PCI devices on ${q.name} passed the checker`);
  const memory = inherited(model, q, (x) => x.memory) ?? 400;
  const vcpus = inherited(model, q, (x) => x.vcpus) ?? 2;
  // Ballooning is impossible with PCI devices (PoD cannot coexist with passthrough, §2.6); `max 0` turns it off.
  // Without a maximum, Qubes' default is 4000 MiB (memory × 10 for a qube whose own `os` feature says Linux),
  // capped by qubesd at half the host's RAM, which the policy cannot know.
  const linux = q.features.some((f) => f.key === 'os' && f.value === 'Linux');
  const declaredMax = inherited(model, q, (x) => x.maxmem);
  const defaultMax = declaredMax ?? (linux ? memory * 10 : 4000);
  const maxmem = pci.length > 0 || defaultMax === 0 ? memory : Math.max(defaultMax, memory);

  const boot = bootOf(kernelSource(model, q)?.kernel);
  if (type !== 'hvm' && (boot.kind === 'default' || (boot.kind === 'grub' && boot.image !== grubKernels[type]))) {
    throw new Error(`xen: ${type.toUpperCase()} domain ${q.name} without a kernel it can boot passed the check`);
  }
  const opts = inherited(model, q, (x) => x.kernelopts) ?? (pci.length > 0 ? '' : 'swiotlb=2048');
  let kernelPath: string | undefined;
  let ramdisk: string | undefined;
  let cmdline: string | undefined;
  if (boot.kind === 'version' || boot.kind === 'grub') {
    // A named kernel directory: its vmlinuz, its initramfs (a grub image's is an empty stub, which
    // qubesd passes all the same) and the command line, as for any kernel Qubes boots (§1.1).
    const dir = `${kernelsDir}/${boot.kind === 'version' ? boot.version : boot.image}`;
    kernelPath = `${dir}/vmlinuz`;
    ramdisk = `${dir}/initramfs`;
    cmdline = opts === '' ? kernelOptsCommon : `${kernelOptsCommon} ${opts}`;
  } else if (boot.kind === 'own' && type !== 'hvm') {
    // The qube's own kernel is loaded by pvgrub2 from its root volume (§1.1).
    kernelPath = `${kernelsDir}/${type === 'pvh' ? grubKernels.pvh : grubKernels.pv}/vmlinuz`;
  }

  const disks: Disk[] = [
    { vdev: 'xvda', target: lvmPath(q.name, 'root-snap'), writable: true },
    { vdev: 'xvdb', target: lvmPath(q.name, 'private-snap'), writable: true },
    { vdev: 'xvdc', target: `${lvmPath(q.name, 'volatile')}@crypt`, writable: true },
  ];
  // The kernel's modules, when it has them: a grub image has no modules.img, and qubesd then attaches no xvdd (§1.3).
  if (boot.kind === 'version') disks.push({ vdev: 'xvdd', target: `${kernelsDir}/${boot.version}/modules.img`, writable: false });
  // Persistently assigned block devices come after the qube's volumes, from xvdi (§1.3).
  q.devices
    .filter((d: ModelDevice) => d.deviceClass === 'block')
    .forEach((d, i) => {
      const m = blockIdPattern.exec(d.id ?? '');
      if (!m) throw new Error(`xen: unchecked block device id on ${q.name}`);
      const backend = m[1]!;
      disks.push({ vdev: vdev(8 + i), target: `/dev/${m[2]!.replace(/_/g, '/')}`, writable: true, ...(backend === 'dom0' ? {} : { backend }) });
    });

  return {
    qube: q,
    name: q.name,
    type,
    memory,
    maxmem,
    vcpus,
    boot,
    ...(kernelPath ? { kernel: kernelPath } : {}),
    ...(ramdisk ? { ramdisk } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
    disks,
    ...(q.netvm !== null ? { vif: { backend: q.netvm, mac: qubesMac, ip: q.ip } } : {}),
    driverDomain: q.providesNetwork,
    pci: addresses as PciAddress[],
  };
}
