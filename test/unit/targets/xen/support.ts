/**
 * Shared pieces of the xen target tests: models of examples and in-memory
 * policies, the libxlutil probe built from test/tools/xlcfg-check.c, and the
 * allow-lists of xl.cfg keys and vif arguments the emitter may use.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import type { ModelQube, PolicyModel } from '../../../../compiler/model.js';
import type { Domain } from '../../../../targets/xen/domain.js';
import { runPipeline } from '../../../../compiler/pipeline.js';
import type { Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { run } from '../../../helpers/tools.js';

export const examples = fs
  .readdirSync('examples')
  .filter((f) => f.endsWith('.qpol'))
  .sort()
  .map((f) => `examples/${f}`);

/** Checks a policy and returns its diagnostics and model (present when there is no error). */
export function checkPolicy(entry: string, text?: string): { diagnostics: readonly Diagnostic[]; model?: PolicyModel } {
  const host = text === undefined ? nodeHost : overlayHost(new Map([[entry, text]]), nodeHost);
  const r = runPipeline(entry, host, 'all');
  return { diagnostics: r.diagnostics, ...(r.model ? { model: r.model } : {}) };
}

/** The model of a policy that must check without errors. */
export function modelOf(entry: string, text?: string): PolicyModel {
  const r = checkPolicy(entry, text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.model || errors.length > 0) throw new Error(`${entry} does not check: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return r.model;
}

/** The kernel the in-memory policies name in their settings (`qubes-prefs default_kernel`). */
export const defaultKernel = '6.6.63-1.fc37';

/**
 * A small policy around the standard library, with `body` added, and the
 * `kernel` setting `kernel` (a string as written, or `none`; null for no
 * kernel setting).
 */
export function policy(body: string, kernel: string | null = `"${defaultKernel}"`): string {
  const settings = `settings { qubes 4.2; whonix 18${kernel === null ? '' : `; kernel ${kernel}`} }`;
  return ['use "qubes"', 'use "whonix"', settings, 'template debian-12-xfce', 'amend sys-net { template debian-12-xfce }', 'amend sys-firewall { template debian-12-xfce }', body, ''].join('\n');
}

/**
 * In-memory policies covering what the target writes: PVH, HVM and PV, PCI
 * devices (HVM and PV), a qube without netvm, a kernel version with options,
 * `kernel none`, the kernel of the qube, its template and the settings, the
 * grub images, a user gateway and a Whonix gateway with their clients.
 */
export const cases: Readonly<Record<string, string>> = {
  'modes.qpol': policy(
    [
      'identity work { network clearnet via sys-firewall; label blue }',
      'identity keys { network none; label black }',
      'qube w-pvh in work { template debian-12-xfce; memory 500 max 5000; vcpus 3; kernel "6.6.63-1.fc37"; kernelopts "console=ttyS0,115200 quiet" }',
      'qube w-hvm in work { template debian-12-xfce; virt-mode hvm; kernel none }',
      'qube w-pv in work { template debian-12-xfce; virt-mode pv; kernel none; memory 300 max 0 }',
      'qube k-vault in keys { template debian-12-xfce; memory 300 max 1000 }',
    ].join('\n'),
  ),
  'pci.qpol': policy(
    [
      'amend sys-net { device pci "dom0:00_14.3"; device pci "dom0:0000_03_00.0" }',
      'identity work { network clearnet via sys-firewall; label blue }',
      'qube usb-pv in work { template debian-12-xfce; virt-mode pv; kernel "6.6.63-1.fc37"; device pci "dom0:00_0d.0"; memory 400 max 4000 }',
      'qube backup in work { template debian-12-xfce; device block "sys-net:sda1"; device usb "sys-net:2-1" }',
    ].join('\n'),
  ),
  'kernels.qpol': policy(
    [
      'template fedora-41-xfce { kernel "6.12.11-1.fc41" }',
      'template grub-pvh { kernel "pvgrub2-pvh" }',
      'identity work { network clearnet via sys-firewall; label blue }',
      'qube k-settings in work { template debian-12-xfce }',
      'qube k-template in work { template fedora-41-xfce }',
      'qube k-own in work { template fedora-41-xfce; kernel "6.1.90-1.fc37" }',
      'qube k-none in work { template fedora-41-xfce; kernel none }',
      'qube k-grub in work { template grub-pvh }',
      'qube k-grub-pv in work { template debian-12-xfce; virt-mode pv; kernel "pvgrub2"; kernelopts "" }',
    ].join('\n'),
  ),
  'gateways.qpol': policy(
    [
      'template debian-12-minimal',
      'gateway sys-vpn { template debian-12-minimal; netvm sys-firewall; label orange }',
      'identity home { network clearnet via sys-vpn; label yellow }',
      'identity anon { network tor via sys-whonix; label red }',
      'qube home-web in home { template debian-12-xfce }',
      'qube anon-web in anon { template whonix-workstation-18 }',
    ].join('\n'),
  ),
};

/** The xl.cfg keys the emitter means to use (xl.cfg(5) of Xen 4.17; reference xen.md §2.2). */
export const xlKeys = new Set([
  'name', 'type', 'memory', 'maxmem', 'vcpus', 'kernel', 'ramdisk', 'cmdline',
  'boot', 'pae', 'acpi', 'apic', 'viridian', 'nestedhvm', 'tsc_mode',
  'device_model_version', 'device_model_stubdomain_override',
  'on_poweroff', 'on_reboot', 'on_crash', 'disk', 'vif', 'driver_domain', 'pci', 'e820_host',
]);

/** Keys whose value is a list. */
export const xlListKeys = new Set(['disk', 'vif', 'pci']);

/** vif arguments of xl 4.17 we use (`parse_nic_config`; reference xen.md §2.3). */
export const vifArgs = new Set(['backend', 'mac', 'ip', 'script']);
export const vifFlags = new Set(['untrusted']);

export interface ParsedCfg {
  /** Every assignment in file order. */
  readonly settings: readonly string[];
  readonly values: ReadonlyMap<string, string>;
  readonly items: ReadonlyMap<string, readonly string[]>;
  /** `disk` items as xlu_disk_parse read them. */
  readonly disks: readonly Readonly<Record<string, string>>[];
  /** `pci` items as `DDDD:BB:SS.F`. */
  readonly pci: readonly string[];
}

export function parseProbe(stdout: string): ParsedCfg {
  const settings: string[] = [];
  const values = new Map<string, string>();
  const items = new Map<string, string[]>();
  const disks: Record<string, string>[] = [];
  const pci: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    if (f[0] === 'setting') settings.push(f[1]!);
    else if (f[0] === 'value') values.set(f[1]!, f[2]!);
    else if (f[0] === 'item') items.set(f[1]!, [...(items.get(f[1]!) ?? []), f.slice(3).join('\t')]);
    else if (f[0] === 'disk') disks.push(Object.fromEntries(f.slice(2).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
    else if (f[0] === 'pci') pci.push(f[2]!);
    else throw new Error(`unexpected probe line ${line}`);
  }
  return { settings, values, items, disks, pci };
}

/** Builds the libxlutil probe into a fresh temporary directory. */
export function buildProbe(): { probe: (cfgText: string) => { status: number | null; stdout: string; stderr: string }; dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  const exe = path.join(dir, 'xlcfg-check');
  const cc = run('gcc', ['-Wall', '-Werror', '-o', exe, path.resolve('test/tools/xlcfg-check.c'), '-lxlutil', '-lxenlight']);
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  let n = 0;
  return {
    dir,
    probe: (cfgText: string) => {
      const file = path.join(dir, `probe-${n++}.cfg`);
      fs.writeFileSync(file, cfgText);
      return run(exe, [file]);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Splits a vif spec into arguments: `key=value` pairs and bare flags. */
export function vifArguments(spec: string): { key: string; value?: string }[] {
  return spec.split(',').map((a) => {
    const i = a.indexOf('=');
    return i < 0 ? { key: a } : { key: a.slice(0, i), value: a.slice(i + 1) };
  });
}

/** A PVH domain with one disk (`xvda`) and no network, as the xen target's writers take it; `change` for the case at hand. */
export function handMadeDomain(change: Partial<Domain> = {}): Domain {
  return {
    qube: { name: 'q' } as ModelQube,
    name: 'q',
    type: 'pvh',
    memory: 400,
    maxmem: 4000,
    vcpus: 2,
    boot: { kind: 'version', version: '6.6' },
    kernel: '/k/vmlinuz',
    ramdisk: '/k/initramfs',
    cmdline: 'root=/dev/mapper/dmroot ro',
    disks: [{ vdev: 'xvda', target: '/dev/a', writable: true }],
    driverDomain: false,
    pci: [],
    ...change,
  };
}
