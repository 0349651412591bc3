/**
 * Machines for the plan's tests: the recorded snapshots as plan states,
 * policies planned against them, and a plan state written back as a
 * snapshot directory (docs/snapshot.md, format 1) that `readSnapshot` and
 * `qpc plan --snapshot` read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { produce } from 'immer';
import { nodeHost, overlayHost, readSnapshot } from '../../../../compiler/index.js';
import { planOn, viewOfSnapshot, type MachineSource, type MachineView, type PlanResult } from '../../../../compiler/index.js';
import { sha256 } from '../../../../compiler/hash.js';
import { ownedLine } from '../../../../compiler/snapshot/read.js';
import { sourceOfSnapshot } from '../../../../compiler/plan/plan.js';

/**
 * The policy the plan's tests provision the recorded machine qubes-4.2-whonix
 * with (Whonix 17, fedora-40-xfce): its own work qube, two Tor qubes (one
 * with an app on a dedicated SocksPort Whonix does not provide), a second
 * policy file of denies.
 */
export const basePolicy = `use "whonix"
settings { qubes 4.2; whonix 17; policy-file 30-qpc }
template fedora-40-xfce
amend sys-net { template fedora-40-xfce }
amend sys-firewall { template fedora-40-xfce }
identity office { network clearnet via sys-firewall; label blue }
identity anon { network tor via sys-whonix; label red }
qube work in office { template fedora-40-xfce }
qube anon-chat in anon {
  template whonix-workstation-17
  app hexchat { socks dedicated isolate client-protocol }
}
qube anon-web in anon { template whonix-workstation-17 }
policy-file 40-extra {
  deny qubes.VMShell from @anyvm to @anyvm because "no shells"
}
`;

/**
 * The policy the recorded machine plan-owned was provisioned with: the base
 * policy with work's memory, vcpus, a tag, a feature, a service and a USB
 * device, and one more policy file; and the policy planned on it after,
 * which has none of them and no app with a launcher, so that provisioning
 * takes each kind of item back.
 */
export const ownedPolicy = basePolicy
  .replace('qube work in office { template fedora-40-xfce }', 'qube work in office {\n  template fedora-40-xfce\n  memory 800\n  vcpus 3\n  tag mine\n  feature gui-allow-fullscreen "1"\n  service cups on\n  device usb "sys-usb:2-1"\n}')
  .replace('policy-file 40-extra {', 'policy-file 41-gone {\n  deny qubes.Filecopy from work to @anyvm because "no copies"\n}\npolicy-file 40-extra {');
export const laterPolicy = basePolicy.replace(/\n\s*app hexchat[^\n]*/, '');

/** The line someone added to 41-gone.policy on plan-owned after qpc installed it. */
export const editedLine = 'qubes.Gpg * work vault deny\n';

/** qubes-4.2-whonix with work's memory and vcpus at Qubes' defaults, as qvm-prefs lists them on a real machine (the recorded snapshot leaves them out). */
export function withSizes(view: MachineView): MachineView {
  return produce(view, (d) => {
    d.qubes.work!.prefs.memory = { value: '400', isDefault: true };
    d.qubes.work!.prefs.vcpus = { value: '2', isDefault: true };
  });
}

export const fixture = (name: string): string => `test/fixtures/snapshots/${name}`;

/** A recorded snapshot as the plan's base state, and where it came from. */
export function recorded(name: string): { view: MachineView; source: MachineSource } {
  const r = readSnapshot(fixture(name), nodeHost);
  if (r.diagnostics.length > 0) throw new Error(`fixture ${name}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const s = r.state;
  return { view: viewOfSnapshot(s), source: sourceOfSnapshot(s) };
}

/** The plan of the policy `text` (as `plan-test.qpol`, without a lock file: its ports are allocated afresh, the same way each time) on `view`. */
export function planText(text: string, view: MachineView, source: MachineSource = { coverage: 'snapshot' }): PlanResult {
  const entry = 'plan-test.qpol';
  return planOn(entry, view, source, { host: overlayHost(new Map([[entry, text]]), nodeHost) });
}

/** The machine a plan leaves: its desired state, as the next snapshot would record it. */
export function provisioned(r: PlanResult): MachineView {
  if (!r.plan) throw new Error(`no plan: ${r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return r.plan.desired;
}

/** `view` with one more file in /etc/qubes/policy.d (a user's own). */
export function withPolicyFile(view: MachineView, name: string, text: string): MachineView {
  return produce(view, (d) => {
    d.policy[name] = text;
  });
}

const col = (rows: readonly (readonly string[])[]): string => {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + (rows.length > 0 ? '\n' : '');
};

/**
 * Writes `view` into `dir` as `sh snapshot.sh DIR` would have recorded the
 * machine (the tools' output formats of docs/snapshot.md, the manifest and
 * the state hash). A property at Qubes' default whose value is not known is
 * written with an empty value. The ownership record as the script copies it:
 * `ownedText` (the record's own text) or the lines of its items.
 */
export function writeSnapshot(view: MachineView, dir: string, date = '2026-01-01T00:00:00Z', ownedText?: string): void {
  const files = new Map<string, string>();
  const pref = (p: { value: string | null; isDefault: boolean } | undefined): string => (p?.value ?? '');
  const ls: string[] = [];
  for (const name of Object.keys(view.qubes).sort()) {
    const q = view.qubes[name]!;
    const v = (k: string): string => (q.prefs[k] === undefined ? '-' : pref(q.prefs[k]) === '' ? '-' : pref(q.prefs[k]));
    ls.push([name, q.class, q.running ? 'Running' : 'Halted', q.label ?? '-', q.template ?? '-', v('netvm'), q.class === 'AdminVM' ? '-' : v('provides_network'), v('template_for_dispvms'), v('default_dispvm')].join('|'));
    const prefs: Record<string, { value: string | null; isDefault: boolean }> = { ...q.prefs };
    if (q.label !== null) prefs.label = { value: q.label, isDefault: false };
    if (q.template !== null) prefs.template = { value: q.template, isDefault: false };
    files.set(`qubes/${name}.prefs`, col(Object.keys(prefs).sort().map((k) => [k, prefs[k]!.isDefault ? 'D' : '-', pref(prefs[k]) === '' ? 'None' : pref(prefs[k])])));
    files.set(`qubes/${name}.tags`, Object.keys(q.tags).sort().map((t) => `${t}\n`).join(''));
    files.set(`qubes/${name}.features`, col(Object.keys(q.features).sort().map((k) => (q.features[k] === '' ? [k] : [k, q.features[k]!]))));
    files.set(`qubes/${name}.services`, col(Object.keys(q.services).sort().map((k) => [k, q.services[k] ? 'on' : 'off'])));
  }
  files.set('qvm-ls.txt', ls.map((l) => `${l}\n`).join(''));
  files.set('qubes-prefs.txt', col(Object.keys(view.globalPrefs).sort().map((k) => [k, view.globalPrefs[k]!.isDefault ? 'D' : '-', pref(view.globalPrefs[k])])));
  for (const devclass of ['pci', 'usb', 'block', 'mic']) {
    const users = new Map<string, string[]>();
    for (const [name, q] of Object.entries(view.qubes)) {
      for (const [key, d] of Object.entries(q.devices)) {
        const [c, id] = key.split(' ');
        if (c !== devclass) continue;
        const opts = Object.entries(d.options).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
        users.set(id!, [...(users.get(id!) ?? []), opts.length > 0 ? `${name} (${opts.join(', ')})` : name]);
      }
    }
    files.set(`devices/${devclass}.txt`, col([...users].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, u]) => [id, 'a device', u.join(', ')])));
  }
  for (const [p, text] of Object.entries(view.policy)) files.set(`policy.d/${p}`, text);
  for (const [gw, g] of Object.entries(view.whonix)) for (const [p, text] of Object.entries(g)) files.set(`whonix/${gw}/${p}`, text);
  files.set('whonix/skipped', '');
  if (view.owned.status === 'recorded') files.set('owned', ownedText ?? view.owned.items.map((i) => `${ownedLine(i)}\n`).join(''));
  else if (view.owned.status !== 'not-recorded') files.set('owned.unread', `${view.owned.status === 'absent' ? 'absent' : view.owned.reason ?? ''}\n`);
  const manifest = [...files.keys()].sort().map((p) => `${sha256(files.get(p)!)}  ${p}\n`).join('');
  files.set('files.sha256', manifest);
  files.set('state.sha256', `${sha256(manifest)}\n`);
  files.set('version', `qpc-snapshot 1\nrelease Qubes release 4.2.3 (R4.2)\ndate ${date}\n`);
  for (const [p, text] of files) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), text);
  }
}
