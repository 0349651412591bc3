/**
 * Qubes' own value tables (reference qrexec-and-provisioning §1.8), in one
 * place: the checker reports values outside them, the targets check every
 * value again before they write it, and the language server completes them.
 */

/** The Qubes releases qpc writes for (`settings { qubes … }`). */
export type QubesRelease = '4.2' | '4.3';

export const qubesReleases: readonly QubesRelease[] = ['4.2', '4.3'];

/** The labels Qubes ships (qubes-core-admin's default labels). */
export const qubeLabels: readonly string[] = ['red', 'orange', 'yellow', 'green', 'gray', 'blue', 'purple', 'black'];

/** The characters and length of a qube name on any release; Qubes 4.2 also refuses dots. */
export const qubeNameSyntax = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/;
const qubeNameSyntax42 = /^[A-Za-z][A-Za-z0-9_-]{0,30}$/;

/** The name syntax of one release. */
export function qubeNameSyntaxOf(release: QubesRelease): RegExp {
  return release === '4.2' ? qubeNameSyntax42 : qubeNameSyntax;
}

/**
 * The two directories of `/var/lib/qubes/vm-kernels` that hold a bootloader,
 * not a kernel: grub2-xen's `pvgrub2` (a PV image) and grub2-xen-pvh's
 * `pvgrub2-pvh` (a PVH image) load the kernel from the qube's own disk, and
 * ship an empty initramfs and no `modules.img` (qubes-linux-pvgrub2
 * `grub2-xen.spec`; qubes-core-admin `QubesVM.is_kernel_from_vm`).
 */
export const grubKernels = { pv: 'pvgrub2', pvh: 'pvgrub2-pvh' } as const;

/**
 * A kernel version as Qubes' kernel packages name its directory under
 * `/var/lib/qubes/vm-kernels`: `UPSTREAM-RELEASE.DIST`, such as
 * `6.6.63-1.fc37` (qubes-linux-kernel `kernel.spec.in`, `vm_install_dir`).
 * Digits, a dot and digits, then runs of letters and digits each after one
 * `.`, `-`, `+` or `_`; at most 64 characters.
 */
export const kernelVersionSyntax = /^(?=.{1,64}$)[0-9]+\.[0-9]+(?:[._+-][A-Za-z0-9]+)*$/;

/** Whether `kernel "NAME"` names a kernel Qubes can boot: a version or a grub image. */
export function isKernelName(name: string): boolean {
  return kernelVersionSyntax.test(name) || name === grubKernels.pv || name === grubKernels.pvh;
}

/** The help line for a kernel outside {@link isKernelName}. */
export const kernelHelp = 'name a kernel version installed in dom0 (a directory of `/var/lib/qubes/vm-kernels`, such as `6.6.63-1.fc37`), `pvgrub2-pvh` or `pvgrub2` (the qube\'s own kernel, through grub), or write `kernel none`';
