/**
 * SecureDrop Workstation 1.3.0 (freedomofpress/securedrop-workstation, tag
 * 1.3.0) restated in test/deployments/securedrop-workstation.qpol: qpc must
 * check it without errors, report exactly the findings judged to be true
 * properties of the upstream deployment, and compile it with SDW's two
 * policy files emitted rule for rule; its system info and decisions are
 * upstream's.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { check, compile } from '../../compiler/index.js';
import { policyLines } from '../helpers/policy-lines.js';

const entry = 'test/deployments/securedrop-workstation.qpol';
const text = readFileSync(entry, 'utf8');

/** The codes of waiver class `explicit` that the policy waives, as its CI names them with `--allow-waived`. */
const allowWaived = ['QP3015', 'QP3030', 'QP3032'];

const { lineOf, itemOf } = policyLines(text);

// Every finding judged true (a real property of SDW 1.3.0), as code@line, once per line.
const trueFindings = [
  // debian-12-minimal and sd-base only serve as sources of clones.
  `QP2018@${lineOf('template debian-12-minimal')}`,
  `QP2018@${lineOf('template sd-base-bookworm-template')}`,
  // SDW's templates update through sys-net (stock 90-default).
  `QP3015@${lineOf('template sd-small-bookworm-template')}`,
  `QP3015@${lineOf('template sd-large-bookworm-template')}`,
  // Stock asks offer @dispvm:sd-viewer (the global default) to other qubes.
  `QP3030@${lineOf('identity securedrop {')}`,
  // The global default disposable sd-viewer serves the other compartments.
  `QP3016@${lineOf('identity usb {')}`,
  `QP3016@${lineOf('identity mgmt {')}`,
  `QP3016@${lineOf('identity fedora {')}`,
  // SDW's qubes run on its own Debian templates, not on Whonix-Workstation.
  ...['disposable sd-proxy-dvm', 'qube sd-app', 'qube sd-gpg', 'qube sd-log', 'disposable sd-viewer', 'disposable sd-devices-dvm'].map(
    (d) => `QP3009@${itemOf(d, 'template ')}`,
  ),
  // SDW's own grants across compartments or keyed on tags.
  `QP3030@${lineOf('allow securedrop.Log from @tag:sd-workstation')}`,
  `QP3030@${lineOf('allow qubes.Gpg from @tag:sd-client')}`,
  `QP3030@${lineOf('allow qubes.GpgImportKey from @tag:sd-client')}`,
  `QP3030@${lineOf('allow qubes.Gpg2 from @tag:sd-client')}`,
  `QP3030@${lineOf('allow qubes.USBAttach from sys-usb')}`,
  `QP3032@${lineOf('allow qubes.USBAttach from sys-usb')}`,
  `QP3030@${lineOf('ask qubes.USBAttach from @anyvm')}`,
  `QP3032@${lineOf('ask qubes.USBAttach from @anyvm')}`,
  `QP3030@${lineOf('allow qubes.USB from sd-devices')}`,
  `QP3032@${lineOf('allow qubes.USB from sd-devices')}`,
  `QP3030@${lineOf('ask qubes.ClipboardPaste from @tag:sd-send-app-clipboard')}`,
  `QP3030@${lineOf('ask qubes.ClipboardPaste from sd-app')}`,
  `QP3030@${lineOf('ask qubes.Filecopy from sd-log to @tag:sd-receive-logs')}`,
  `QP3030@${lineOf('allow qubes.OpenInVM from @tag:sd-client to @dispvm:sd-viewer')}`,
  `QP3030@${lineOf('allow qubes.OpenInVM from @tag:sd-client to sd-devices')}`,
  // SDW's Debian qubes go without Whonix's tags, as upstream has them (waived).
  ...['disposable sd-proxy-dvm', 'named-disposable sd-proxy', 'qube sd-app', 'qube sd-gpg', 'qube sd-log', 'disposable sd-viewer', 'disposable sd-devices-dvm', 'named-disposable sd-devices'].map(
    (d) => `QP3037@${itemOf(d, 'whonix-tags off')}`,
  ),
  // The 31 file's `ask qubes.USBAttach … @anyvm @anyvm` shadows both 32 denials (fixed upstream in #1825).
  `QP3033@${lineOf('deny qubes.USBAttach from @anyvm')}`,
  `QP3033@${lineOf('deny qubes.USBAttach from @tag:sd-workstation')}`,
].sort();

test('securedrop-workstation checks without errors', (t) => {
  const r = check(entry, { allowWaived });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  t.deepEqual(errors.map((d) => `${d.code}@${d.span?.line} ${d.message}`), []);
});

test('securedrop-workstation: without --allow-waived, its waivers of critical findings do not count', (t) => {
  const errors = check(entry).diagnostics.filter((d) => d.severity === 'error');
  t.deepEqual([...new Set(errors.map((d) => d.code))].sort(), allowWaived);
  t.true(errors.every((d) => d.notes.some((n) => n.includes(`--allow-waived ${d.code}`))));
});

test('securedrop-workstation: the findings are exactly the true ones', (t) => {
  const r = check(entry, { allowWaived });
  const found = [...new Set(r.diagnostics.filter((d) => d.span?.file === entry && d.code !== 'QP2021' && d.code !== 'QP4302').map((d) => `${d.code}@${d.span?.line}`))].sort();
  t.deepEqual(found, trueFindings);
  t.deepEqual(r.diagnostics.filter((d) => d.code === 'QP2021').map((d) => `${d.span?.line} ${d.message}`), [], 'every waiver matches a finding');
});

/** The rule lines of a policy file, whitespace collapsed. */
function ruleLines(contents: string): string[] {
  return contents.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).map((l) => l.trim().split(/\s+/).join(' '));
}

test('securedrop-workstation compiles, emitting SDW\'s two policy files rule for rule', async (t) => {
  const r = await compile(entry, { allowWaived });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.span?.line} ${d.message}`), []);
  t.truthy(r.artifacts);
  const file = (n: string) => r.artifacts?.find((a) => a.path === `qubes/policy.d/${n}.policy`)?.contents;
  const upstream: Record<string, string[]> = {
    '31-securedrop-workstation': [
      'securedrop.Log * sd-log sd-log deny notify=no',
      'securedrop.Log * @tag:sd-workstation sd-log allow',
      'securedrop.Proxy * sd-app sd-proxy allow',
      'qubes.Gpg * @tag:sd-client sd-gpg allow',
      'qubes.GpgImportKey * @tag:sd-client sd-gpg allow',
      'qubes.Gpg2 * @tag:sd-client sd-gpg allow target=sd-gpg',
      'qubes.USBAttach * sys-usb sd-devices allow user=root',
      'qubes.USBAttach * @anyvm @anyvm ask',
      'qubes.USB * sd-devices sys-usb allow',
      'qubes.ClipboardPaste * @tag:sd-send-app-clipboard sd-app ask',
      'qubes.ClipboardPaste * sd-app @tag:sd-receive-app-clipboard ask',
      'qubes.Filecopy * sd-log @default ask',
      'qubes.Filecopy * sd-log @tag:sd-receive-logs ask',
      'qubes.OpenInVM * @tag:sd-client @dispvm:sd-viewer allow',
      'qubes.OpenInVM * @tag:sd-client sd-devices allow',
      'qubes.OpenInVM * sd-devices @dispvm:sd-viewer allow',
    ],
    '32-securedrop-workstation': [
      'securedrop.Log * @anyvm @anyvm deny',
      'securedrop.Proxy * @anyvm @anyvm deny',
      ...['GpgImportKey', 'Gpg', 'Gpg2', 'USBAttach', 'USB', 'PdfConvert', 'ClipboardPaste', 'FeaturesRequest', 'Filecopy', 'GetImageRGBA', 'OpenInVM', 'OpenURL', 'StartApp', 'VMRootShell', 'VMShell', 'VMExec', 'VMExecGUI'].flatMap(
        (s) => [`qubes.${s} * @anyvm @tag:sd-workstation deny`, `qubes.${s} * @tag:sd-workstation @anyvm deny`],
      ),
    ],
  };
  for (const [name, rules] of Object.entries(upstream)) t.deepEqual(ruleLines(file(name) ?? ''), rules, name);
});

interface Info {
  domains: Record<string, { tags: string[]; default_dispvm: string | null; type: string; template_for_dispvms: boolean }>;
}

test('securedrop-workstation: system info has upstream\'s disposables and SDW tags', async (t) => {
  const r = await compile(entry, { targets: ['qrexec'], allowWaived });
  const info = JSON.parse(r.artifacts?.find((a) => a.path === 'qubes/system-info.json')?.contents ?? '{}') as Info;
  const d = info.domains;
  t.is(d['dom0']?.default_dispvm, 'sd-viewer');
  t.is(d['sd-app']?.default_dispvm, 'sd-viewer');
  for (const q of ['sd-whonix', 'sd-proxy-dvm', 'sd-proxy', 'sd-gpg', 'sd-log', 'sd-viewer', 'sd-devices-dvm', 'sd-devices']) t.is(d[q]?.default_dispvm, null, q);
  t.is(d['sd-proxy']?.type, 'DispVM');
  t.is(d['sd-devices']?.type, 'DispVM');
  for (const q of ['sd-viewer', 'sd-proxy-dvm', 'sd-devices-dvm']) t.true(d[q]?.template_for_dispvms, q);
  t.true(d['sd-app']?.tags.includes('sd-client'));
  t.true(d['sd-whonix']?.tags.includes('anon-gateway'));
  for (const q of ['sd-whonix', 'sd-proxy-dvm', 'sd-proxy', 'sd-app', 'sd-gpg', 'sd-log', 'sd-viewer', 'sd-devices-dvm', 'sd-devices']) t.true(d[q]?.tags.includes('sd-workstation'), q);
});

// Qubes' Whonix add-on tags anon-vm only qubes on a Whonix-Workstation template;
// the model says `whonix-tags off` on each SDW qube.
test('securedrop-workstation: SDW\'s Debian qubes are not tagged anon-vm', async (t) => {
  const r = await compile(entry, { targets: ['qrexec'], allowWaived });
  const info = JSON.parse(r.artifacts?.find((a) => a.path === 'qubes/system-info.json')?.contents ?? '{}') as Info;
  for (const q of ['sd-proxy-dvm', 'sd-proxy', 'sd-app', 'sd-gpg', 'sd-log', 'sd-viewer', 'sd-devices-dvm', 'sd-devices']) t.false(info.domains[q]?.tags.includes('anon-vm'), q);
});

test('securedrop-workstation: every expectation (upstream\'s decisions) holds', (t) => {
  const r = check(entry, { allowWaived });
  t.deepEqual(r.diagnostics.filter((d) => d.code === 'QP3035').map((d) => `${d.span?.line} ${d.message}`), []);
});
