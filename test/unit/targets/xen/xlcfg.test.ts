/**
 * Every emitted xl.cfg is parsed by libxlutil, the parser of xl itself
 * (test/tools/xlcfg-check.c), for every example and the in-memory cases.
 * xl ignores unknown keys and unknown vif arguments and puts a NIC in dom0
 * when `backend=` is wrong or missing (reference xen.md §2.1, §2.3, §6), so
 * the keys and vif arguments it found are held to allow-lists here, and the
 * backend to the qube's netvm; every PVH and PV domain must name a kernel
 * it can boot (xl refuses such a domain without one); mutation tests show
 * each check catching what libxlutil itself lets through.
 */
import type { ExecutionContext } from 'ava';
import type { PolicyModel } from '../../../../compiler/model.js';
import { xenTarget } from '../../../../targets/xen/index.js';
import { toolTest } from '../../../helpers/tools.js';
import { buildProbe, cases, examples, modelOf, parseProbe, vifArgs, vifArguments, vifFlags, xlKeys, xlListKeys, type ParsedCfg } from './support.js';

const tools = ['gcc', '/usr/include/libxlutil.h'];

/** What is wrong with a parsed xl.cfg of qube `name`; empty when nothing. */
function problems(model: PolicyModel, name: string, p: ParsedCfg): string[] {
  const out: string[] = [];
  const q = model.qubes.find((x) => x.name === name);
  if (!q) return [`no qube ${name}`];
  const seen = new Set<string>();
  for (const k of p.settings) {
    if (!xlKeys.has(k)) out.push(`unknown key ${k}`);
    if (seen.has(k)) out.push(`key ${k} assigned twice`);
    seen.add(k);
    if (xlListKeys.has(k) !== p.items.has(k)) out.push(`key ${k} has the wrong shape`);
  }
  if (p.values.get('name') !== name) out.push(`name is ${p.values.get('name')}`);
  if (!['pvh', 'hvm', 'pv'].includes(p.values.get('type') ?? '')) out.push(`type is ${p.values.get('type')}`);
  const memory = Number(p.values.get('memory'));
  const maxmem = Number(p.values.get('maxmem'));
  if (!(memory > 0 && maxmem >= memory && Number(p.values.get('vcpus')) >= 1)) out.push('memory, maxmem or vcpus out of range');
  const vifs = p.items.get('vif') ?? [];
  if (q.netvm === null && vifs.length > 0) out.push('a vif on a qube without netvm');
  if (q.netvm !== null && vifs.length !== 1) out.push(`${vifs.length} vifs on a qube with a netvm`);
  for (const spec of vifs) {
    const args = vifArguments(spec);
    const keys = new Set<string>();
    for (const a of args) {
      if (a.value === undefined ? !vifFlags.has(a.key) : !vifArgs.has(a.key)) out.push(`unknown vif argument ${a.key}`);
      if (keys.has(a.key)) out.push(`vif argument ${a.key} twice`);
      keys.add(a.key);
    }
    const backend = args.find((a) => a.key === 'backend')?.value;
    const netvm = model.qubes.find((x) => x.name === backend);
    if (backend === undefined) out.push('vif without backend: the NIC would sit in dom0');
    else if (backend !== q.netvm) out.push(`vif backend ${backend} is not the netvm ${q.netvm}`);
    if (backend !== undefined && !netvm?.providesNetwork) out.push(`vif backend ${backend} provides no network`);
    if (args.find((a) => a.key === 'ip')?.value !== q.ip) out.push('vif ip is not the qube address');
    if (args.find((a) => a.key === 'mac')?.value !== '00:16:3e:5e:6c:00') out.push('vif mac is not the Qubes MAC');
    if (args.find((a) => a.key === 'script')?.value !== 'vif-route-qubes') out.push('vif script is not vif-route-qubes');
  }
  const disks = p.items.get('disk') ?? [];
  if (p.disks.length !== disks.length || disks.length < 3) out.push('disks missing or unparsed');
  const vdevs = p.disks.map((d) => d['vdev']);
  if (new Set(vdevs).size !== vdevs.length) out.push('duplicate vdev');
  for (const d of p.disks) {
    if (d['backend'] !== 'phy' || d['script'] !== '/etc/xen/scripts/qubes-block' || !d['target']?.startsWith('/')) out.push(`disk ${d['vdev']} parsed as ${JSON.stringify(d)}`);
  }
  const pci = q.devices.filter((d) => d.deviceClass === 'pci').map((d) => d.id!.replace(/^dom0:(?:([0-9a-f]{4})_)?(..)_(..)\.(.)$/, (_m, dom: string | undefined, b: string, s: string, f: string) => `${dom ?? '0000'}:${b}:${s}.${f}`));
  if (JSON.stringify(p.pci) !== JSON.stringify(pci)) out.push(`pci ${p.pci.join(' ')} is not ${pci.join(' ')}`);
  if (pci.length > 0 && p.values.get('type') === 'pvh') out.push('PCI passthrough with PVH');
  if (p.values.has('driver_domain') !== q.providesNetwork) out.push('driver_domain does not match provides_network');
  out.push(...bootProblems(p));
  return out;
}

/**
 * How a parsed domain boots (reference xen.md §1.1, §2.2): a PVH or PV domain
 * has no firmware, so xl needs `kernel=`; qpc writes a Qubes kernel directory
 * (`vm-kernels/VERSION/vmlinuz`, its initramfs, its modules on xvdd) or the
 * grub image of the domain's mode (`pvgrub2-pvh` for PVH, `pvgrub2` for PV:
 * the bootloader form, loading the kernel from the qube's disk), never xl's
 * `bootloader=` (pygrub runs in dom0) or `firmware=`.
 */
function bootProblems(p: ParsedCfg): string[] {
  const out: string[] = [];
  const type = p.values.get('type');
  const kernel = p.values.get('kernel');
  if (p.values.has('bootloader') || p.values.has('firmware')) out.push('a bootloader or firmware key');
  if (type === 'hvm') return out;
  const m = kernel === undefined ? null : /^\/var\/lib\/qubes\/vm-kernels\/([^/]+)\/vmlinuz$/.exec(kernel);
  if (!m) return [...out, `${type} domain without a kernel= it can boot (${kernel ?? 'none'})`];
  const dir = m[1]!;
  const grub = dir === 'pvgrub2' || dir === 'pvgrub2-pvh';
  if (grub && dir !== (type === 'pvh' ? 'pvgrub2-pvh' : 'pvgrub2')) out.push(`${type} domain booting the grub image ${dir}`);
  const ramdisk = p.values.get('ramdisk');
  if (ramdisk !== undefined && ramdisk !== `/var/lib/qubes/vm-kernels/${dir}/initramfs`) out.push(`ramdisk ${ramdisk} is not the kernel's`);
  const modules = p.disks.find((d) => d['vdev'] === 'xvdd')?.['target'];
  if (grub ? modules !== undefined : modules !== `/var/lib/qubes/vm-kernels/${dir}/modules.img`) out.push(`xvdd is ${modules ?? 'missing'} for kernel ${dir}`);
  return out;
}

const inputs: [string, string | undefined][] = [...examples.map((e): [string, undefined] => [e, undefined]), ...Object.entries(cases)];

function checkAll(t: ExecutionContext, probe: ReturnType<typeof buildProbe>['probe'], entry: string, text: string | undefined): void {
  const model = modelOf(entry, text);
  const cfgs = xenTarget.emit(model, []).filter((a) => a.path.endsWith('.cfg'));
  t.true(cfgs.length > 3);
  for (const a of cfgs) {
    const r = probe(a.contents);
    t.is(r.status, 0, `${entry} ${a.path}: ${r.stderr}`);
    t.is(r.stderr, '', `${entry} ${a.path}`);
    const name = a.path.replace(/^xen\/(.*)\.cfg$/, '$1');
    t.deepEqual(problems(model, name, parseProbe(r.stdout)), [], `${entry} ${a.path}`);
  }
}

toolTest('libxlutil parses every emitted xl.cfg; keys, vif arguments, backends, disks and PCI specs pass', tools, (t) => {
  const { probe, cleanup } = buildProbe();
  try {
    for (const [entry, text] of inputs) checkAll(t, probe, entry, text);
  } finally {
    cleanup();
  }
});

toolTest('every PVH and PV domain of every example and case has a kernel= xl boots from: a Qubes kernel or the grub image of its mode', tools, (t) => {
  const { probe, cleanup } = buildProbe();
  try {
    const seen = { pvh: 0, pv: 0, grub: 0 };
    for (const [entry, text] of inputs) {
      const model = modelOf(entry, text);
      for (const a of xenTarget.emit(model, []).filter((x) => x.path.endsWith('.cfg'))) {
        const r = probe(a.contents);
        t.is(r.status, 0, `${entry} ${a.path}: ${r.stderr}`);
        const p = parseProbe(r.stdout);
        const type = p.values.get('type');
        if (type !== 'pvh' && type !== 'pv') continue;
        seen[type]++;
        if (/pvgrub2/.test(p.values.get('kernel') ?? '')) seen.grub++;
        t.regex(p.values.get('kernel') ?? '', /^\/var\/lib\/qubes\/vm-kernels\/[^/]+\/vmlinuz$/, `${entry} ${a.path}`);
        t.deepEqual(bootProblems(p), [], `${entry} ${a.path}`);
      }
    }
    t.true(seen.pvh > 40 && seen.pv >= 3 && seen.grub >= 4, JSON.stringify(seen));
  } finally {
    cleanup();
  }
});

toolTest('mutations libxlutil accepts are caught: misspelled key, misspelled or missing vif backend, a backend that is not the netvm, no kernel', tools, (t) => {
  const { probe, cleanup } = buildProbe();
  try {
    const model = modelOf('examples/journalist.qpol');
    const original = xenTarget.emit(model, []).find((a) => a.path === 'xen/work-web.cfg')!.contents;
    const clean = probe(original);
    t.deepEqual(problems(model, 'work-web', parseProbe(clean.stdout)), []);
    const mutants: [string, string, RegExp][] = [
      ['memroy', original.replace('\nmemory = ', '\nmemroy = '), /unknown key memroy/],
      ['bakend', original.replace('"backend=sys-firewall,', '"bakend=sys-firewall,'), /unknown vif argument bakend/],
      ['no backend', original.replace('"backend=sys-firewall,', '"'), /without backend/],
      ['backend not the netvm', original.replace('backend=sys-firewall,', 'backend=sys-whonix,'), /is not the netvm sys-firewall/],
      ['backend provides no network', original.replace('backend=sys-firewall,', 'backend=vault-gpg,'), /vault-gpg provides no network/],
      ['vif gateway argument', original.replace(',untrusted"', ',gateway=10.137.0.1,untrusted"'), /unknown vif argument gateway/],
      ['key twice', original + 'memory = 8000\n', /memory assigned twice/],
      ['PCI device not in the policy', original + 'pci = [ "0000:00:14.3" ]\n', /pci 0000:00:14\.3 is not/],
      ['no kernel', original.replace(/^kernel = .*\n/m, ''), /pvh domain without a kernel= it can boot/],
      ['pygrub', original.replace(/^kernel = .*\n/m, 'bootloader = "pygrub"\n'), /a bootloader or firmware key/],
      ['grub image of the other mode', original.replace(/^kernel = .*$/m, 'kernel = "/var/lib/qubes/vm-kernels/pvgrub2/vmlinuz"'), /booting the grub image pvgrub2/],
      ['modules of another kernel', original.replace(/6\.6\.63-1\.fc37\/modules\.img/, '6.1.90-1.fc37/modules.img'), /xvdd is .*6\.1\.90/],
    ];
    for (const [what, text, expected] of mutants) {
      t.not(text, original, what);
      const r = probe(text);
      t.is(r.status, 0, `libxlutil accepts the ${what} mutant: ${r.stderr}`);
      t.regex(problems(model, 'work-web', parseProbe(r.stdout)).join('\n'), expected, what);
    }
    const pciModel = modelOf('pci.qpol', cases['pci.qpol']);
    const net = xenTarget.emit(pciModel, []).find((a) => a.path === 'xen/sys-net.cfg')!.contents;
    t.deepEqual(problems(pciModel, 'sys-net', parseProbe(probe(net).stdout)), []);
    const pvh = probe(net.replace('type = "hvm"', 'type = "pvh"'));
    t.is(pvh.status, 0);
    t.regex(problems(pciModel, 'sys-net', parseProbe(pvh.stdout)).join('\n'), /PCI passthrough with PVH/);
    // What libxlutil refuses by itself: an upper-case key, a size with a unit, a bad PCI spec.
    t.is(probe(original.replace('\nmemory = ', '\nMemory = ')).status, 1);
    t.is(probe(original.replace('\nmemory = 400', '\nmemory = 400MB')).status, 1);
    t.is(probe(original + 'pci = [ "00:1g.3" ]\n').status, 3);
    t.is(probe(original + 'pci = [ "00:14.3,bogus=1" ]\n').status, 3);
  } finally {
    cleanup();
  }
});
