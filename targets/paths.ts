/**
 * The layout of the output directory, shared by the targets that write a
 * file and the targets that refer to it (provisioning installs what the
 * others emit).
 */

/** `qubes/policy.d/NN-NAME.policy`. */
export function policyFilePath(name: string): string {
  return `qubes/policy.d/${name}.policy`;
}

export const systemInfoPath = 'qubes/system-info.json';
export const provisionScriptPath = 'qubes/provision.sh';
export const saltStatePath = 'qubes/salt/qpc.sls';
export const saltTopPath = 'qubes/salt/qpc.top';
export const manifestPath = 'manifest.json';

/** Where dom0 keeps qrexec policy files. */
export const policyDirectory = '/etc/qubes/policy.d';

export function xlConfigPath(qube: string): string {
  return `xen/${qube}.cfg`;
}

export function libvirtPath(qube: string): string {
  return `xen/libvirt/${qube}.xml`;
}
