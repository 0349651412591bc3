/**
 * The xen target's check: QP4001 for what xl.cfg or libvirt cannot express,
 * QP4002 for values outside the allow-lists, each at the span of the item
 * that wrote it; and the refusals it leaves to the checker.
 */
import test from 'ava';
import type { ModelQube, PolicyModel } from '../../../../compiler/model.js';
import { xenTarget } from '../../../../targets/xen/index.js';
import { compile } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { checkPolicy, examples, modelOf, policy } from './support.js';

const entry = 'xen-check.qpol';

/** The xen findings of a policy, as `CODE underlined-text`; `kernel` is the `kernel` setting (null: none). */
function findings(body: string, kernel?: string | null): string[] {
  const text = kernel === undefined ? policy(body) : policy(body, kernel);
  const model = modelOf(entry, text);
  return xenTarget.check(model).map((d) => `${d.code} ${d.span && d.span.file === entry ? text.slice(d.span.start, d.span.end) : '?'}`);
}

test('the examples need nothing refused', (t) => {
  for (const e of examples) t.deepEqual(xenTarget.check(modelOf(e)), [], e);
});

test('QP4002: kernel options with a quote, a backslash or XML markup, at the kernelopts item', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; kernelopts "quiet x='1'" }`), [`QP4002 kernelopts "quiet x='1'"`]);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; kernelopts "a\\\\b" }`), ['QP4002 kernelopts "a\\\\b"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; kernelopts "x=<y>" }`), ['QP4002 kernelopts "x=<y>"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; kernelopts "console=ttyS0,115200 quiet" }`), []);
});

test('QP4302: the PVH and PV domains that neither they, their templates nor the settings give a kernel are named once, as information, and get no files', async (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  const text = policy(`${id}\nqube a in work { template debian-12-xfce }\nqube p in work { template debian-12-xfce; virt-mode pv }\nqube h in work { template debian-12-xfce; virt-mode hvm }`, null);
  const model = modelOf(entry, text);
  const found = xenTarget.check(model);
  t.deepEqual(found.map((d) => `${d.code} ${d.severity}`), ['QP4302 info'], 'one finding, not one per domain');
  const d = found[0];
  t.is(text.slice(d.span!.start, d.span!.end), 'a', "at the first of the policy's own domains");
  t.regex(d.message, /^the Xen files of \d+ PV\/PVH domains are not written, since neither they, their templates nor the settings name a kernel: `[^`]+`(, `[^`]+`){4} and \d+ more$/);
  t.regex(d.help ?? '', /`kernel "VERSION"` to `settings` .*default_kernel.*`kernel none`/);
  // Only the bootable domains are written: the HVM ones (h, sys-net).
  const written = xenTarget.emit(model, []).map((a) => a.path).filter((p) => p.endsWith('.cfg'));
  t.deepEqual(written, ['xen/h.cfg', 'xen/sys-net.cfg']);
});

test('QP4302 is gone once the settings, the template or the qube name a kernel, or `kernel none`', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce }`), []);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce }`, 'none'), []);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce }`, '"pvgrub2-pvh"'), []);
  const text = policy(`${id}\ntemplate t2 { kernel "6.6.63-1.fc37" }\nqube a in work { template t2 }\nqube b in work { template debian-12-xfce; kernel none }`, null);
  const [d, ...rest] = xenTarget.check(modelOf(entry, text));
  t.deepEqual(rest, []);
  t.is(d?.code, 'QP4302');
  t.false(/`a`|`b`|`t2`/.test(d?.message ?? ''), d?.message);
  t.regex(d?.message ?? '', /`debian-12-xfce`/, 'the others still have none');
});

test('QP4301: a grub image of the other mode, at the qube\'s own item, else at the qube with the item or setting that gave it', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; kernel "pvgrub2" }`), ['QP4301 kernel "pvgrub2"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; virt-mode pv; kernel "pvgrub2-pvh" }`), ['QP4301 kernel "pvgrub2-pvh"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; virt-mode pv; kernel "pvgrub2" }`), []);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; virt-mode hvm; kernel "pvgrub2" }`), [], 'HVM starts its firmware, not the image');
  const text = policy(`${id}\nqube a in work { template debian-12-xfce; virt-mode pv }`, '"pvgrub2-pvh"');
  const [d, ...rest] = xenTarget.check(modelOf(entry, text));
  t.deepEqual(rest, []);
  t.is(text.slice(d!.span!.start, d!.span!.end), 'a');
  t.is(d!.message, '`a` has no way to boot: `pvgrub2-pvh` is the grub image for PVH domains, and `a` is a PV domain');
  t.regex(d!.help ?? '', /kernel "pvgrub2"/);
  t.deepEqual(d!.related.map((r) => [text.slice(r.span.start, r.span.end), r.message]), [['"pvgrub2-pvh"', 'the default kernel']]);
  const viaTemplate = policy(`${id}\ntemplate t { virt-mode pvh; kernel "pvgrub2" }\nqube a in work { template t }`);
  const found = xenTarget.check(modelOf(entry, viaTemplate)).map((x) => [viaTemplate.slice(x.span!.start, x.span!.end), x.related.map((r) => [viaTemplate.slice(r.span.start, r.span.end), r.message])]);
  t.deepEqual(found, [['a', [['kernel "pvgrub2"', 'the kernel of `t`']]], ['kernel "pvgrub2"', []]]);
});

test('PCI ids: QP4002 for a malformed id, QP4001 for a device not owned by dom0, at the device item', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device pci "dom0:00_1F.3" }`), ['QP4002 device pci "dom0:00_1F.3"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device pci "dom0:00_14.3:7" }`), ['QP4002 device pci "dom0:00_14.3:7"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device pci "dom0:00_34.0" }`), ['QP4002 device pci "dom0:00_34.0"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device pci "sys-net:00_14.3" }`), ['QP4001 device pci "sys-net:00_14.3"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device pci "dom0:0000_00_14.3" }`), []);
});

test('block devices: QP4001 for a backend the policy does not declare or the qube itself, QP4002 for a path trick', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device block "sys-usb:sda" }`), ['QP4001 device block "sys-usb:sda"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device block "a:sda" }`), ['QP4001 device block "a:sda"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device block "sys-net:mapper__x" }`), ['QP4002 device block "sys-net:mapper__x"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device block "sys-net:.._sda" }`), ['QP4002 device block "sys-net:.._sda"']);
  t.deepEqual(findings(`${id}\nqube a in work { template debian-12-xfce; device block "dom0:mapper_luks-1" }`), []);
});

/** A model with one qube changed, for values the checker already refuses (the target must not rely on that). */
function mutate(model: PolicyModel, name: string, change: Partial<ModelQube>): PolicyModel {
  return { ...model, qubes: model.qubes.map((q) => (q.name === name ? { ...q, ...change } : q)) };
}

test('QP4002 also for values that reach the model past the checker: a comma in a kernel, a quote in the default kernel, a newline in options, a comma in a device id, a quote in a netvm', (t) => {
  const model = modelOf('examples/journalist.qpol');
  const work = model.qubes.find((q) => q.name === 'work-web')!;
  const codes = (m: PolicyModel) => xenTarget.check(m).map((d) => `${d.code} ${d.message}`);
  t.deepEqual(codes(mutate(model, 'work-web', { kernel: '6.1,backend=dom0' })), ['QP4002 kernel version `6.1,backend=dom0` cannot be written safely into an xl domain configuration']);
  t.deepEqual(codes({ ...model, settings: { ...model.settings, defaultKernel: '6.1"x' } }), ['QP4002 kernel version `6.1"x` cannot be written safely into an xl domain configuration']);
  t.regex(codes(mutate(model, 'work-web', { kernelopts: 'quiet\nvif = [ "" ]' })).join(), /^QP4002 kernel command line/);
  t.regex(codes(mutate(model, 'work-web', { devices: [{ deviceClass: 'pci', id: 'dom0:00_14.3,permissive=1', span: work.span }] })).join(), /^QP4002 PCI device/);
  t.regex(codes(mutate(model, 'work-web', { netvm: 'sys-firewall",backend=dom0' })).join(), /^QP4002 netvm name/);
  t.regex(codes(mutate(model, 'work-web', { name: 'work web' })).join(), /^QP4002 domain name/);
});

test('the checker already refuses PVH with PCI devices and a netvm that provides no network; the target does not repeat it', (t) => {
  const id = 'identity work { network clearnet via sys-firewall; label blue }';
  const pvh = checkPolicy(entry, policy(`${id}\nqube a in work { template debian-12-xfce; virt-mode pvh; device pci "dom0:00_14.3" }`));
  t.truthy(pvh.diagnostics.find((d) => d.code === 'QP3014' && d.severity === 'error'));
  t.is(pvh.model, undefined);
  const net = checkPolicy(entry, policy(`${id}\nqube a in work { template debian-12-xfce }\nqube b in work { template debian-12-xfce; netvm a }`));
  t.truthy(net.diagnostics.find((d) => d.severity === 'error'), 'a netvm that is not a gateway is an error');
  t.is(net.model, undefined);
});

test('QP4002: a policy file name with a control character, at the start of the entry file, for the xen target as for the others', async (t) => {
  const text = policy(['identity work { network clearnet via sys-firewall; label blue }', 'qube a in work { template debian-12-xfce }'].join('\n'));
  for (const name of ['a\x01b.qpol', 'a\x1b[31mb.qpol', 'a\x7fb.qpol', 'a\u0085b.qpol']) {
    const model = modelOf(name, text);
    const found = xenTarget.check(model);
    t.deepEqual(found.map((d) => `${d.code} ${d.span?.file === name ? `${d.span.line}:${d.span.column}` : '?'}`), ['QP4002 1:1'], JSON.stringify(name));
    t.regex(found[0]!.message, /^source file name `.*` cannot be written safely into the header comment of the Xen files$/);
    // Every target refuses the name with a finding or writes a safe header; none fails with an internal error.
    for (const target of ['xen', 'qrexec', 'provision', 'whonix']) {
      const r = await compile(name, { host: overlayHost(new Map([[name, text]]), nodeHost), targets: [target] });
      t.false(r.diagnostics.some((d) => d.code === 'QP9001'), `${target}: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
      if (r.artifacts) for (const a of r.artifacts) t.notRegex(a.contents, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, `${target} ${a.path}`);
      else t.true(r.diagnostics.some((d) => d.code === 'QP4002'), target);
    }
  }
});
