/**
 * How a qube becomes a Xen domain (targets/xen/domain.ts): the device id
 * rules, the kernel, virt mode and memory qubesd would resolve (with their
 * template chain and defaults), the disk layout, and the walls that refuse a
 * model the checks should have refused.
 */
import test from 'ava';
import { qubeNamed, type ModelQube, type PolicyModel } from '../../../../compiler/model.js';
import {
  blockIdPattern,
  bootable,
  bootOf,
  domainQubes,
  domainType,
  kernelSource,
  pciAddress,
  qubesMac,
  resolveDomain,
} from '../../../../targets/xen/domain.js';
import { defaultKernel, modelOf, policy } from './support.js';

const base = modelOf('domain.qpol', policy([
  'template fedora-41-xfce { kernel "6.12.11-1.fc41"; memory 600; vcpus 4; virt-mode pv; kernelopts "quiet" }',
  'identity work { network clearnet via sys-firewall; label blue }',
  'identity keys { network none; label black }',
  'qube plain in work { template debian-12-xfce }',
  'qube fed in work { template fedora-41-xfce }',
  'qube vault in keys { template debian-12-xfce }',
].join('\n')));

const q = (name: string): ModelQube => qubeNamed(base, name)!;

/** The base model with qubes replaced or added, and optionally other settings. */
function withQubes(qubes: ModelQube[], settings: Partial<PolicyModel['settings']> = {}): PolicyModel {
  const names = new Set(qubes.map((x) => x.name));
  return { ...base, settings: { ...base.settings, ...settings }, qubes: [...base.qubes.filter((x) => !names.has(x.name)), ...qubes] };
}

/** A qube derived from `plain`. */
const qube = (change: Partial<ModelQube>): ModelQube => ({ ...q('plain'), ...change });
const dev = (deviceClass: string, id: string) => ({ deviceClass, id, span: q('plain').span });

test('pciAddress: qvm-pci ids with and without the PCI domain; anything else is no address', (t) => {
  t.deepEqual(pciAddress('dom0:00_14.3'), { domain: '0000', bus: '00', slot: '14', func: '3' });
  t.deepEqual(pciAddress('dom0:0001_03_1f.7'), { domain: '0001', bus: '03', slot: '1f', func: '7' });
  for (const bad of ['dom0:00_20.0', 'dom0:00_14.8', 'dom0:00_1F.0', 'sys-net:00_14.3', 'dom0:0_14.3', 'dom0:00_14', 'dom0:00:14.3', ' dom0:00_14.3', 'dom0:00_14.3\n', '']) {
    t.is(pciAddress(bad), undefined, JSON.stringify(bad));
  }
});

test('blockIdPattern: BACKEND:IDENT with `_` for `/` below /dev, nothing that walks out of it', (t) => {
  for (const ok of ['sys-usb:sda', 'sys-usb:sda1', 'dom0:mapper_luks-1', 'dom0:disk_by-id_x']) t.true(blockIdPattern.test(ok), ok);
  for (const bad of ['sys-usb:', ':sda', 'sys-usb:_sda', 'sys-usb:sda_', 'sys-usb:sda__x', 'sys-usb:..', 'sys-usb:sda/x', 'sys-usb:.x', '-x:sda', 'sys-usb:a_b_c_d_e', 'sys usb:sda']) {
    t.false(blockIdPattern.test(bad), bad);
  }
});

test('bootOf: no name is Qubes\' default, null the qube\'s own, the grub images by name, anything else a version', (t) => {
  t.deepEqual(bootOf(undefined), { kind: 'default' });
  t.deepEqual(bootOf(null), { kind: 'own' });
  t.deepEqual(bootOf('pvgrub2'), { kind: 'grub', image: 'pvgrub2' });
  t.deepEqual(bootOf('pvgrub2-pvh'), { kind: 'grub', image: 'pvgrub2-pvh' });
  t.deepEqual(bootOf('6.6.63-1.fc37'), { kind: 'version', version: '6.6.63-1.fc37' });
});

test('domainQubes: every qube but dom0, templates included', (t) => {
  const names = domainQubes(base).map((x) => x.name);
  t.false(names.includes('dom0'));
  t.true(names.includes('fedora-41-xfce'));
  t.is(names.length, base.qubes.length - 1);
});

test('domainType: the qube\'s own, else HVM for PCI devices, else the template\'s, else PVH', (t) => {
  t.is(domainType(base, q('plain')), 'pvh');
  t.is(domainType(base, q('fed')), 'pv', 'from its template');
  t.is(domainType(base, { ...q('fed'), devices: [dev('pci', 'dom0:00_14.3')] }), 'hvm', 'PCI devices before the template');
  t.is(domainType(base, { ...q('fed'), virtMode: 'pvh', devices: [dev('pci', 'dom0:00_14.3')] }), 'pvh', 'its own before anything');
  t.is(domainType(base, { ...q('plain'), devices: [dev('block', 'sys-usb:sda')] }), 'pvh', 'other devices change nothing');
});

test('kernelSource: the qube\'s own item, else its template\'s, else the setting, else none', (t) => {
  t.deepEqual(kernelSource(base, q('fed')), { kernel: '6.12.11-1.fc41', span: q('fedora-41-xfce').spans['kernel'], qube: 'fedora-41-xfce' });
  const own = { ...q('fed'), kernel: null };
  t.is(kernelSource(base, own)?.kernel, null, '`kernel none` is a kernel source too');
  t.is(kernelSource(base, own)?.qube, 'fed');
  const fromSetting = kernelSource(base, q('plain'));
  t.is(fromSetting?.kernel, defaultKernel);
  t.is(fromSetting?.qube, undefined);
  t.deepEqual(fromSetting?.span, base.settings.defaultKernelSpan);
  const none = withQubes([], { defaultKernel: undefined, defaultKernelSpan: undefined });
  t.is(kernelSource(none, q('plain')), undefined);
});

test('kernelSource and domainType follow a template loop without hanging', (t) => {
  const a = qube({ name: 'loop-a', template: 'loop-b', kernel: undefined, virtMode: undefined });
  const b = qube({ name: 'loop-b', template: 'loop-a', kernel: undefined, virtMode: undefined });
  const m = withQubes([a, b], { defaultKernel: undefined, defaultKernelSpan: undefined });
  t.is(kernelSource(m, a), undefined);
  t.is(domainType(m, a), 'pvh');
});

test('bootable: HVM always; PVH and PV only with a kernel from the qube, its template or the setting', (t) => {
  const none = withQubes([], { defaultKernel: undefined, defaultKernelSpan: undefined });
  t.true(bootable(base, q('plain')));
  t.false(bootable(none, q('plain')));
  t.true(bootable(none, q('fed')), 'its template names one');
  t.true(bootable(none, { ...q('plain'), virtMode: 'hvm' }));
});

test('memory and vcpus: the qube\'s, else its template\'s, else 400 MiB and 2', (t) => {
  const plain = resolveDomain(base, q('plain'));
  t.is(plain.memory, 400);
  t.is(plain.vcpus, 2);
  const fed = resolveDomain(base, q('fed'));
  t.is(fed.memory, 600);
  t.is(fed.vcpus, 4);
});

test('maxmem: declared, else ten times memory for a Linux qube, else 4000; never below memory; memory with PCI or `max 0`', (t) => {
  t.is(resolveDomain(base, q('plain')).maxmem, 4000);
  t.is(resolveDomain(base, { ...q('plain'), memory: 500, features: [{ key: 'os', value: 'Linux', span: q('plain').span }] }).maxmem, 5000);
  t.is(resolveDomain(base, { ...q('plain'), memory: 500, maxmem: 2000 }).maxmem, 2000);
  t.is(resolveDomain(base, { ...q('plain'), memory: 5000 }).maxmem, 5000, 'the default maximum below memory');
  t.is(resolveDomain(base, { ...q('plain'), memory: 500, maxmem: 300 }).maxmem, 500);
  t.is(resolveDomain(base, { ...q('plain'), memory: 500, maxmem: 0 }).maxmem, 500, '`max 0` turns balancing off');
  t.is(resolveDomain(base, { ...q('plain'), memory: 500, maxmem: 8000, virtMode: 'hvm', devices: [dev('pci', 'dom0:00_14.3')] }).maxmem, 500, 'no ballooning with PCI passthrough');
});

test('a version kernel: vmlinuz, initramfs, the common command line with the options, and the modules disk', (t) => {
  const d = resolveDomain(base, q('fed'));
  t.is(d.type, 'pv');
  t.is(d.kernel, '/var/lib/qubes/vm-kernels/6.12.11-1.fc41/vmlinuz');
  t.is(d.ramdisk, '/var/lib/qubes/vm-kernels/6.12.11-1.fc41/initramfs');
  t.regex(d.cmdline!, /^root=\/dev\/mapper\/dmroot ro .* quiet$/);
  t.deepEqual(d.disks.find((x) => x.vdev === 'xvdd'), { vdev: 'xvdd', target: '/var/lib/qubes/vm-kernels/6.12.11-1.fc41/modules.img', writable: false });
});

test('kernel options: the qube\'s or its template\'s, else swiotlb=2048, else none with PCI devices', (t) => {
  t.true(resolveDomain(base, q('plain')).cmdline!.endsWith(' swiotlb=2048'));
  const pci = resolveDomain(base, { ...q('plain'), virtMode: 'hvm', devices: [dev('pci', 'dom0:00_14.3')] });
  t.false(pci.cmdline!.includes('swiotlb'));
  t.false(pci.cmdline!.endsWith(' '), 'no trailing space for empty options');
});

test('`kernel none`: pvgrub2 of the domain\'s mode loads the qube\'s own kernel; HVM boots its disk with no kernel path', (t) => {
  const pvh = resolveDomain(base, { ...q('plain'), kernel: null });
  t.is(pvh.kernel, '/var/lib/qubes/vm-kernels/pvgrub2-pvh/vmlinuz');
  t.is(pvh.ramdisk, undefined);
  t.is(pvh.cmdline, undefined);
  t.is(resolveDomain(base, { ...q('plain'), kernel: null, virtMode: 'pv' }).kernel, '/var/lib/qubes/vm-kernels/pvgrub2/vmlinuz');
  const hvm = resolveDomain(base, { ...q('plain'), kernel: null, virtMode: 'hvm' });
  t.is(hvm.kernel, undefined);
  t.false(hvm.disks.some((x) => x.vdev === 'xvdd'));
});

test('disks: the Qubes LVM volumes device-mapper escaped, then assigned block devices from xvdi with their backend', (t) => {
  const d = resolveDomain(base, { ...q('plain'), name: 'my-qube', devices: [dev('block', 'sys-usb:sda1'), dev('block', 'dom0:mapper_luks-1'), dev('usb', 'sys-usb:2-1')] });
  t.deepEqual(d.disks.slice(0, 3).map((x) => x.target), [
    '/dev/mapper/qubes_dom0-vm--my--qube--root--snap',
    '/dev/mapper/qubes_dom0-vm--my--qube--private--snap',
    '/dev/mapper/qubes_dom0-vm--my--qube--volatile@crypt',
  ]);
  t.deepEqual(d.disks.slice(4), [
    { vdev: 'xvdi', target: '/dev/sda1', writable: true, backend: 'sys-usb' },
    { vdev: 'xvdj', target: '/dev/mapper/luks-1', writable: true },
  ]);
});

test('network: a vif to the netvm with Qubes\' one MAC and the qube\'s address; none without a netvm; a gateway is a driver domain', (t) => {
  const plain = resolveDomain(base, q('plain'));
  t.deepEqual(plain.vif, { backend: q('plain').netvm!, mac: qubesMac, ip: q('plain').ip });
  t.is(resolveDomain(base, q('vault')).vif, undefined);
  t.false(plain.driverDomain);
  t.true(resolveDomain(base, q('sys-firewall')).driverDomain);
});

test('walls: an unchecked PCI or block id, PVH with PCI, or a PV/PVH domain with no kernel it can boot throws', (t) => {
  t.throws(() => resolveDomain(base, { ...q('plain'), virtMode: 'hvm', devices: [dev('pci', 'dom0:00_14.9')] }), { message: /unchecked PCI device id/ });
  t.throws(() => resolveDomain(base, { ...q('plain'), devices: [dev('block', 'sys-usb:../x')] }), { message: /unchecked block device id/ });
  t.throws(() => resolveDomain(base, { ...q('plain'), virtMode: 'pvh', devices: [dev('pci', 'dom0:00_14.3')] }), { message: /PVH with PCI/ });
  const none = withQubes([], { defaultKernel: undefined, defaultKernelSpan: undefined });
  t.throws(() => resolveDomain(none, q('plain')), { message: /PVH domain plain without a kernel/ });
  t.throws(() => resolveDomain(base, { ...q('plain'), kernel: 'pvgrub2' }), { message: /PVH domain/ }, 'the PV grub image on PVH');
  t.throws(() => resolveDomain(base, { ...q('plain'), virtMode: 'pv', kernel: 'pvgrub2-pvh' }), { message: /PV domain/ });
  t.notThrows(() => resolveDomain(none, { ...q('plain'), virtMode: 'hvm' }));
});
