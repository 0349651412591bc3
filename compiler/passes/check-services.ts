/**
 * Checks the service and argument of every rule and `expect` against what
 * Qubes ships: a service name one edit from a stock service is a likely typo
 * (QP2026, a warning: people define services of their own), and an argument
 * a service always refuses is an error (QP2027). Emits QP2026, QP2027.
 */
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { editDistance, replaceFix } from '../diagnostics/suggest.js';
import type { Word } from '../syntax/ast.js';

/**
 * The services the standard library's rules name: the stock policy files of
 * Qubes 4.2 and 4.3 and Whonix's 80-whonix, as policies/*.qpol model them
 * (a test keeps this list and the standard library in step).
 */
const standardLibraryServices = [
  'admin.property.GetAll', 'admin.vm.Create.AppVM', 'admin.vm.Create.StandaloneVM',
  'admin.vm.Create.TemplateVM', 'admin.vm.List', 'admin.vm.feature.Set',
  'admin.vm.firewall.Set', 'admin.vm.property.Get', 'admin.vm.property.GetAll',
  'admin.vm.property.Set', 'admin.vm.tag.Set', 'admin.vm.volume.Import',
  'admin.vm.volume.ImportWithSize', 'admin.vm.volume.Info', 'admin.vm.volume.List',
  'admin.vm.volume.Set.revisions_to_keep', 'policy.RegisterArgument', 'qubes.ClipboardPaste',
  'qubes.ConnectTCP', 'qubes.FeaturesRequest', 'qubes.Filecopy',
  'qubes.GetDate', 'qubes.GetImageRGBA', 'qubes.GetRandomizedTime',
  'qubes.Notifications', 'qubes.NotifyTools', 'qubes.NotifyUpdates',
  'qubes.OpenInVM', 'qubes.OpenURL', 'qubes.ReceiveUpdates',
  'qubes.RestoreById', 'qubes.StartApp', 'qubes.SyncAppMenus',
  'qubes.USB', 'qubes.UpdatesProxy', 'qubes.VMExec',
  'qubes.VMExecGUI', 'qubes.VMRootShell', 'qubes.VMShell',
  'qubes.WindowIconUpdater', 'sdwdate-gui.Connect', 'sdwdate-gui.ConnectCheck',
  'sdwdate.Connect', 'sdwdate.ConnectCheck', 'whonix.GatewayCommand',
  'whonix.NewStatus', 'whonix.SdwdateStatus',
];

/**
 * The Admin API and policy API methods the stock 90-admin-default and
 * 90-admin-policy-default files name in `!include-service` lines (Qubes 4.2
 * and 4.3; qubes-core-admin `qubes/api/admin.py`, qubes-core-qrexec
 * `policy.d/90-admin-policy-default.policy`). The standard library models
 * those files as empty, since their includes hold no rule.
 */
const adminServices = [
  'admin.Events', 'admin.backup.Cancel', 'admin.backup.Execute',
  'admin.backup.Info', 'admin.deviceclass.List', 'admin.label.Create',
  'admin.label.Get', 'admin.label.Index', 'admin.label.List',
  'admin.label.Remove', 'admin.pool.Add', 'admin.pool.Info',
  'admin.pool.List', 'admin.pool.ListDrivers', 'admin.pool.Remove',
  'admin.pool.Set.ephemeral_volatile', 'admin.pool.Set.revisions_to_keep', 'admin.pool.UsageDetails',
  'admin.pool.volume.List', 'admin.property.Get', 'admin.property.GetAll',
  'admin.property.GetDefault', 'admin.property.Help', 'admin.property.List',
  'admin.property.Reset', 'admin.property.Set', 'admin.vm.Console',
  'admin.vm.Create.AppVM', 'admin.vm.Create.DispVM', 'admin.vm.Create.RemoteVM',
  'admin.vm.Create.StandaloneVM', 'admin.vm.Create.TemplateVM', 'admin.vm.CreateDisposable',
  'admin.vm.CreateInPool.AppVM', 'admin.vm.CreateInPool.DispVM', 'admin.vm.CreateInPool.RemoteVM',
  'admin.vm.CreateInPool.StandaloneVM', 'admin.vm.CreateInPool.TemplateVM', 'admin.vm.CurrentState',
  'admin.vm.Kill', 'admin.vm.List', 'admin.vm.Pause',
  'admin.vm.Remove', 'admin.vm.Resume', 'admin.vm.Shutdown',
  'admin.vm.Start', 'admin.vm.Stats', 'admin.vm.Suspend',
  'admin.vm.Unpause', 'admin.vm.device.block.Assign', 'admin.vm.device.block.Assigned',
  'admin.vm.device.block.Attach', 'admin.vm.device.block.Attached', 'admin.vm.device.block.Available',
  'admin.vm.device.block.Detach', 'admin.vm.device.block.List', 'admin.vm.device.block.Set.assignment',
  'admin.vm.device.block.Set.persistent', 'admin.vm.device.block.Unassign', 'admin.vm.device.denied.Add',
  'admin.vm.device.denied.List', 'admin.vm.device.denied.Remove', 'admin.vm.device.mic.Assign',
  'admin.vm.device.mic.Assigned', 'admin.vm.device.mic.Attach', 'admin.vm.device.mic.Attached',
  'admin.vm.device.mic.Available', 'admin.vm.device.mic.Detach', 'admin.vm.device.mic.List',
  'admin.vm.device.mic.Set.assignment', 'admin.vm.device.mic.Set.persistent', 'admin.vm.device.mic.Unassign',
  'admin.vm.device.pci.Assign', 'admin.vm.device.pci.Assigned', 'admin.vm.device.pci.Attach',
  'admin.vm.device.pci.Attached', 'admin.vm.device.pci.Available', 'admin.vm.device.pci.Detach',
  'admin.vm.device.pci.List', 'admin.vm.device.pci.Set.assignment', 'admin.vm.device.pci.Set.persistent',
  'admin.vm.device.pci.Unassign', 'admin.vm.device.usb.Assign', 'admin.vm.device.usb.Assigned',
  'admin.vm.device.usb.Attach', 'admin.vm.device.usb.Attached', 'admin.vm.device.usb.Available',
  'admin.vm.device.usb.Detach', 'admin.vm.device.usb.List', 'admin.vm.device.usb.Set.assignment',
  'admin.vm.device.usb.Set.persistent', 'admin.vm.device.usb.Unassign', 'admin.vm.feature.CheckWithAdminVM',
  'admin.vm.feature.CheckWithNetvm', 'admin.vm.feature.CheckWithTemplate', 'admin.vm.feature.CheckWithTemplateAndAdminVM',
  'admin.vm.feature.Get', 'admin.vm.feature.List', 'admin.vm.feature.Remove',
  'admin.vm.feature.Set', 'admin.vm.firewall.Get', 'admin.vm.firewall.Reload',
  'admin.vm.firewall.Set', 'admin.vm.notes.Get', 'admin.vm.notes.Set',
  'admin.vm.property.Get', 'admin.vm.property.GetAll', 'admin.vm.property.GetDefault',
  'admin.vm.property.Help', 'admin.vm.property.List', 'admin.vm.property.Reset',
  'admin.vm.property.Set', 'admin.vm.tag.Get', 'admin.vm.tag.List',
  'admin.vm.tag.Remove', 'admin.vm.tag.Set', 'admin.vm.volume.Clear',
  'admin.vm.volume.CloneFrom', 'admin.vm.volume.CloneTo', 'admin.vm.volume.Import',
  'admin.vm.volume.ImportWithSize', 'admin.vm.volume.Info', 'admin.vm.volume.List',
  'admin.vm.volume.ListSnapshots', 'admin.vm.volume.Resize', 'admin.vm.volume.Revert',
  'admin.vm.volume.Set.ephemeral', 'admin.vm.volume.Set.revisions_to_keep', 'admin.vm.volume.Set.rw',
  'admin.vmclass.List', 'policy.Get', 'policy.GetFiles',
  'policy.List', 'policy.Remove', 'policy.Replace',
  'policy.include.Get', 'policy.include.List', 'policy.include.Remove',
  'policy.include.Replace',
];

/**
 * Services of the per-service stock files of Qubes 4.0 and 4.1
 * (/etc/qubes-rpc/policy/SERVICE, read on later releases through
 * `!compat-4.0`): qubes-core-admin's and the app packages' (split GPG,
 * input proxy).
 */
const legacyServices = [
  'qubes.ClipboardPaste', 'qubes.ConnectTCP', 'qubes.Filecopy', 'qubes.GetDate',
  'qubes.Gpg', 'qubes.GpgImportKey', 'qubes.InputKeyboard', 'qubes.InputMouse',
  'qubes.InputTablet', 'qubes.OpenInVM', 'qubes.OpenURL', 'qubes.StartApp',
  'qubes.UpdatesProxy', 'qubes.VMShell',
];

/**
 * Services whose rules Qubes' Global Config writes into its `50-config-*`
 * files (split GPG 2 of qubes-app-linux-split-gpg2, U2F of qubes-app-u2f);
 * no stock file names them, but they are as common as the stock ones.
 */
const globalConfigServices = ['qubes.Gpg2', 'u2f.Authenticate', 'u2f.Register'];

/** Every service a stock policy file, Global Config or the standard library names. */
export const knownServices: ReadonlySet<string> = new Set([...standardLibraryServices, ...adminServices, ...legacyServices, ...globalConfigServices]);

/** An argument format: why `value` (the argument without its `+`) is refused, or undefined when it is valid. */
export interface ArgumentFormat {
  /** What the argument is, for the help: "`+PORT`, a TCP port from 1 to 65535". */
  readonly help: string;
  readonly refuse: (value: string) => string | undefined;
}

/**
 * The services whose argument has a format qrexec checks, and the format.
 * `qubes.ConnectTCP` is a link to `/dev/tcp/127.0.0.1` (qubes-core-agent-linux
 * `qubes-rpc/Makefile`): qrexec takes the whole argument as the port and
 * refuses one that is not a decimal number from 1 to 65535 with no leading
 * zero (qubes-core-qrexec `libqrexec/exec.c`, `validate_port`; doc/execution.rst).
 */
export const argumentFormats: Readonly<Record<string, ArgumentFormat>> = {
  'qubes.ConnectTCP': {
    help: 'write `+PORT`, the TCP port of the target qube, from 1 to 65535 (for example `+22`)',
    refuse: (value) => {
      if (value === '') return 'it needs a TCP port, from 1 to 65535';
      if (!/^[0-9]+$/.test(value)) return 'a TCP port is a number from 1 to 65535';
      if (/^0/.test(value) && /[1-9]/.test(value)) return 'qrexec refuses a port with a leading zero; ports run from 1 to 65535';
      const port = Number(value);
      if (port < 1 || port > 65535) return 'TCP ports run from 1 to 65535';
      return undefined;
    },
  },
};

const nearCache = new Map<string, string | undefined>();

/** The known service one edit from `service` (case ignored), if any; of several, the one that sorts first. */
export function nearKnownService(service: string): string | undefined {
  if (nearCache.has(service)) return nearCache.get(service);
  let best: string | undefined;
  if (!knownServices.has(service)) {
    const lower = service.toLowerCase();
    for (const k of knownServices) {
      if (editDistance(lower, k.toLowerCase(), 1) <= 1 && (best === undefined || k < best)) best = k;
    }
  }
  if (nearCache.size < 10000) nearCache.set(service, best);
  return best;
}

/** QP2026 for a service one edit from a known one, or undefined. `because` is the reason on the rule, which may waive it. */
export function checkServiceName(service: Word, because?: string): Diagnostic | undefined {
  if (service.text === '*') return undefined;
  const near = nearKnownService(service.text);
  if (near === undefined) return undefined;
  const d = diag('QP2026', service.span, { service: service.text }, {
    label: 'matches no call of a stock service',
    help: `did you mean \`${near}\`?`,
    notes: ['qrexec matches service names exactly; a service of your own this close to a stock one is easy to confuse with it'],
    fixes: [replaceFix(service.span, near)],
  });
  return because === undefined ? d : { ...d, because };
}

/** QP2027 for an argument the service's format refuses, or undefined. */
export function checkServiceArgument(service: Word, argument: Word): Diagnostic | undefined {
  const format = Object.hasOwn(argumentFormats, service.text) ? argumentFormats[service.text] : undefined;
  if (format === undefined || !argument.text.startsWith('+')) return undefined;
  const reason = format.refuse(argument.text.slice(1));
  if (reason === undefined) return undefined;
  return diag('QP2027', argument.span, { argument: argument.text, service: service.text, reason }, { label: 'qrexec refuses this argument', help: format.help });
}
