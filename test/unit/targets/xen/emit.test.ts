/**
 * The xen target's artifacts: a golden file for every artifact of every
 * example and in-memory case, and the Qubes facts each artifact must carry.
 */
import test from 'ava';
import * as path from 'node:path';
import { xenTarget } from '../../../../targets/xen/index.js';
import { resolveDomain } from '../../../../targets/xen/domain.js';
import { xlConfig } from '../../../../targets/xen/emit-xl.js';
import { qubeNamed } from '../../../../compiler/model.js';
import { expectGoldenArtifacts } from '../../../helpers/golden.js';
import { cases, examples, modelOf, policy } from './support.js';

const goldenRoot = 'test/golden/targets/xen';

const inputs: [string, string, string | undefined][] = [
  ...examples.map((e): [string, string, string | undefined] => [path.basename(e, '.qpol'), e, undefined]),
  ...Object.entries(cases).map(([name, text]): [string, string, string | undefined] => [`case-${path.basename(name, '.qpol')}`, name, text]),
];

for (const [golden, entry, text] of inputs) {
  test(`${entry}: every artifact matches its golden file`, (t) => {
    const model = modelOf(entry, text);
    t.deepEqual(xenTarget.check(model), []);
    const artifacts = xenTarget.emit(model, []);
    expectGoldenArtifacts(t, path.join(goldenRoot, golden), text === undefined ? { example: entry } : { text }, artifacts);
  });

  test(`${entry}: one xl.cfg and one libvirt XML per domain, dom0 none, deterministic text`, (t) => {
    const model = modelOf(entry, text);
    const artifacts = xenTarget.emit(model, []);
    const domains = model.qubes.filter((q) => q.klass !== 'AdminVM').map((q) => q.name);
    t.true(domains.length > 0);
    const expected = domains.flatMap((n) => [`xen/${n}.cfg`, `xen/libvirt/${n}.xml`]).sort();
    t.deepEqual(artifacts.map((a) => a.path), expected);
    t.false(artifacts.some((a) => a.path.includes('dom0')));
    for (const a of artifacts) {
      t.true(a.contents.endsWith('\n'), a.path);
      t.false(a.contents.includes('\r'), a.path);
    }
    t.deepEqual(xenTarget.emit(modelOf(entry, text), []), artifacts);
  });
}

function artifact(entry: string, text: string | undefined, p: string): string {
  const a = xenTarget.emit(modelOf(entry, text), []).find((x) => x.path === p);
  if (!a) throw new Error(`no ${p}`);
  return a.contents;
}

test('a qube behind a netvm gets one vif with the netvm as backend and its qid address', (t) => {
  const model = modelOf('examples/journalist.qpol');
  for (const q of model.qubes.filter((x) => x.klass !== 'AdminVM')) {
    const cfg = artifact('examples/journalist.qpol', undefined, `xen/${q.name}.cfg`);
    const vifs = cfg.split('\n').filter((l) => l.startsWith('vif'));
    if (q.netvm === null) {
      t.deepEqual(vifs, [], q.name);
    } else {
      t.deepEqual(vifs, [`vif = [ "backend=${q.netvm},mac=00:16:3e:5e:6c:00,ip=${q.ip},script=vif-route-qubes,untrusted" ]`], q.name);
    }
    t.is(cfg.includes('\ndriver_domain = 1\n'), q.providesNetwork, q.name);
  }
});

test('PCI devices: HVM by default, BDF form, no ballooning, kernelopts without swiotlb; PV adds e820_host', (t) => {
  const net = artifact('pci.qpol', cases['pci.qpol'], 'xen/sys-net.cfg');
  t.regex(net, /^type = "hvm"$/m);
  t.regex(net, /^memory = 400\nmaxmem = 400$/m);
  t.regex(net, /^pci = \[\n {4}"0000:00:14\.3",\n {4}"0000:03:00\.0",\n\]$/m);
  t.notRegex(net, /e820_host/);
  t.regex(net, /^device_model_stubdomain_override = 1$/m);
  const pv = artifact('pci.qpol', cases['pci.qpol'], 'xen/usb-pv.cfg');
  t.regex(pv, /^type = "pv"$/m);
  t.regex(pv, /^maxmem = 400$/m);
  t.regex(pv, /^pci = \[ "0000:00:0d\.0" \]$/m);
  t.regex(pv, /^e820_host = 1$/m);
  t.regex(pv, /^cmdline = "root=\/dev\/mapper\/dmroot [^"]*xen_privcmd\.unrestricted"$/m);
  t.regex(artifact('pci.qpol', cases['pci.qpol'], 'xen/libvirt/sys-net.xml'), /<address domain="0x0000" bus="0x03" slot="0x00" function="0x0"\/>/);
});

test('kernels: the qube\'s own, else its template\'s, else the settings\' default, as qubesd resolves `kernel`', (t) => {
  const kernelOf = (name: string) => /^kernel = "(.*)"$/m.exec(artifact('kernels.qpol', cases['kernels.qpol'], `xen/${name}.cfg`))?.[1];
  t.is(kernelOf('k-settings'), '/var/lib/qubes/vm-kernels/6.6.63-1.fc37/vmlinuz');
  t.is(kernelOf('debian-12-xfce'), '/var/lib/qubes/vm-kernels/6.6.63-1.fc37/vmlinuz', 'a template without a kernel takes the default too');
  t.is(kernelOf('k-template'), '/var/lib/qubes/vm-kernels/6.12.11-1.fc41/vmlinuz');
  t.is(kernelOf('fedora-41-xfce'), '/var/lib/qubes/vm-kernels/6.12.11-1.fc41/vmlinuz');
  t.is(kernelOf('k-own'), '/var/lib/qubes/vm-kernels/6.1.90-1.fc37/vmlinuz');
  t.is(kernelOf('k-none'), '/var/lib/qubes/vm-kernels/pvgrub2-pvh/vmlinuz', '`kernel none` overrides the template and the default');
  const settings = artifact('kernels.qpol', cases['kernels.qpol'], 'xen/k-settings.cfg');
  t.regex(settings, /^ramdisk = "\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/initramfs"$/m);
  t.regex(settings, /vdev=xvdd,access=ro,script=\/etc\/xen\/scripts\/qubes-block,target=\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/modules\.img/);
  t.notRegex(settings, /^# kernel:/m);
  t.regex(artifact('kernels.qpol', cases['kernels.qpol'], 'xen/libvirt/k-template.xml'), /<kernel>\/var\/lib\/qubes\/vm-kernels\/6\.12\.11-1\.fc41\/vmlinuz<\/kernel>/);
  const none = modelOf('none.qpol', policy('identity work { network clearnet via sys-firewall; label blue }\nqube a in work { template debian-12-xfce }', 'none'));
  const a = xenTarget.emit(none, []).find((x) => x.path === 'xen/a.cfg')!.contents;
  t.regex(a, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2-pvh\/vmlinuz"$/m, '`settings { kernel none }`: Qubes\' empty default_kernel, pvgrub2');
  t.notRegex(a, /^(ramdisk|cmdline) =|xvdd/m);
});

test('kernels: `pvgrub2-pvh` and `pvgrub2` are dom0\'s grub images: their vmlinuz and stub initramfs and the command line, no modules disk', (t) => {
  const pvh = artifact('kernels.qpol', cases['kernels.qpol'], 'xen/k-grub.cfg');
  t.regex(pvh, /^type = "pvh"$/m);
  t.regex(pvh, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2-pvh\/vmlinuz"\nramdisk = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2-pvh\/initramfs"\ncmdline = "root=\/dev\/mapper\/dmroot [^"]* swiotlb=2048"$/m);
  t.notRegex(pvh, /xvdd|modules\.img/, 'grub2-xen-pvh ships no modules.img; qubesd attaches no kernel volume');
  t.is((pvh.match(/vdev=/g) ?? []).length, 3);
  const xml = artifact('kernels.qpol', cases['kernels.qpol'], 'xen/libvirt/k-grub.xml');
  t.regex(xml, /<kernel>\/var\/lib\/qubes\/vm-kernels\/pvgrub2-pvh\/vmlinuz<\/kernel>\n\s*<initrd>\/var\/lib\/qubes\/vm-kernels\/pvgrub2-pvh\/initramfs<\/initrd>/);
  t.notRegex(xml, /modules\.img/);
  const pv = artifact('kernels.qpol', cases['kernels.qpol'], 'xen/k-grub-pv.cfg');
  t.regex(pv, /^type = "pv"$/m);
  t.regex(pv, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2\/vmlinuz"\nramdisk = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2\/initramfs"\ncmdline = "root=\/dev\/mapper\/dmroot [^"]*xen_privcmd\.unrestricted"$/m);
  t.notRegex(pv, /xvdd|modules\.img/);
});

test('kernels: a version gives the Qubes kernel directory and modules disk; none gives pvgrub2; an HVM qube without any names no path', (t) => {
  const pvh = artifact('modes.qpol', cases['modes.qpol'], 'xen/w-pvh.cfg');
  t.regex(pvh, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/vmlinuz"\nramdisk = "\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/initramfs"$/m);
  t.regex(pvh, /^cmdline = "root=\/dev\/mapper\/dmroot ro nomodeset console=hvc0 rd_NO_PLYMOUTH rd\.plymouth\.enable=0 plymouth\.enable=0 xen_privcmd\.unrestricted console=ttyS0,115200 quiet"$/m);
  t.regex(pvh, /vdev=xvdd,access=ro,script=\/etc\/xen\/scripts\/qubes-block,target=\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/modules\.img/);
  t.regex(pvh, /^memory = 500\nmaxmem = 5000\nvcpus = 3$/m);
  const pv = artifact('modes.qpol', cases['modes.qpol'], 'xen/w-pv.cfg');
  t.regex(pv, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/pvgrub2\/vmlinuz"$/m);
  t.notRegex(pv, /ramdisk|cmdline|xvdd|nestedhvm/);
  t.regex(pv, /^memory = 300\nmaxmem = 300$/m, '`max 0` turns ballooning off');
  const hvm = artifact('modes.qpol', cases['modes.qpol'], 'xen/w-hvm.cfg');
  t.notRegex(hvm, /^(kernel|ramdisk|cmdline) =/m, 'an HVM qube with its own kernel boots its disk');
  const vault = artifact('modes.qpol', cases['modes.qpol'], 'xen/k-vault.cfg');
  t.regex(vault, /^kernel = "\/var\/lib\/qubes\/vm-kernels\/6\.6\.63-1\.fc37\/vmlinuz"$/m, 'the default kernel of the settings');
  t.notRegex(vault, /^(vif =|# kernel:)/m);
  const unset = modelOf('unset.qpol', policy('identity work { network clearnet via sys-firewall; label blue }\nqube h in work { template debian-12-xfce; virt-mode hvm }', null));
  const hvm2 = xlConfig(resolveDomain(unset, qubeNamed(unset, 'h')!), unset.source);
  t.notRegex(hvm2, /^(kernel|ramdisk|cmdline) =/m, 'its firmware boots the disk');
  t.regex(hvm2, /^# kernel: Qubes' global default_kernel/m);
});

test('disks follow the Qubes LVM layout, device-mapper escaped, and assigned block devices name their backend', (t) => {
  const cfg = artifact('pci.qpol', cases['pci.qpol'], 'xen/backup.cfg');
  t.true(cfg.includes('"backendtype=phy,vdev=xvda,access=rw,script=/etc/xen/scripts/qubes-block,target=/dev/mapper/qubes_dom0-vm--backup--root--snap"'));
  t.true(cfg.includes('"backendtype=phy,vdev=xvdc,access=rw,script=/etc/xen/scripts/qubes-block,target=/dev/mapper/qubes_dom0-vm--backup--volatile@crypt"'));
  t.true(cfg.includes('"backendtype=phy,vdev=xvdi,access=rw,backend=sys-net,script=/etc/xen/scripts/qubes-block,target=/dev/sda1"'));
  t.notRegex(cfg, /2-1/, 'USB devices are attached through qrexec, not in the domain configuration');
  const xml = artifact('pci.qpol', cases['pci.qpol'], 'xen/libvirt/backup.xml');
  t.regex(xml, /<source dev="\/dev\/sda1"\/>\n\s*<target dev="xvdi"\/>\n\s*<backenddomain name="sys-net"\/>/);
});
