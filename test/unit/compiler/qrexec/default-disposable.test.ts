/**
 * Qubes' global default disposable and its precedence: a qube's own
 * `default-disposable` (`none` included) wins over its identity's
 * `disposable`, which wins over `settings { default-disposable }`; dom0 and
 * templates inherit the global one (qubes-core-admin: the `default_dispvm`
 * property of QubesVM and AdminVM defaults to the app's). The evaluator, the
 * system info, the findings and provisioning all follow that order.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { provisionTarget } from '../../../../targets/provision/index.js';
import { expectDiagnostics } from '../../../helpers/expect-diagnostics.js';
import { fakeDom0, handMadeInputs, runScript, layOut } from '../../targets/provision/harness.js';

const policy = `use "qubes"
use "whonix"
settings { default-disposable work-dvm }
template deb { tag whonix-updatevm }
identity work { network clearnet via sys-firewall; label blue }
disposable work-dvm in work { template deb }
qube work-email in work { template deb }
identity vault { network none; label black }
qube vault-gpg in vault { template deb; default-disposable none }
identity quiet { network none; disposable none; label gray }
qube quiet-notes in quiet { template deb }
gateway sys-tor-gw { tor; template whonix-gateway-18; netvm sys-firewall; label black; default-disposable none }
identity anon { network tor via sys-tor-gw; disposable anon-dvm; label red }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
`;

function checked(text: string) {
  return check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost) });
}

test('a qube\'s own `default-disposable none`, and an identity\'s `disposable none`, win over the global default', (t) => {
  const r = checked(policy + 'expect qubes.OpenInVM from vault-gpg to @dispvm: deny\nexpect qubes.OpenInVM from quiet-notes to @dispvm: deny\nexpect qubes.VMShell from sys-tor-gw to @dispvm: deny\nexpect qubes.OpenInVM from work-email to @dispvm: allow target @dispvm:work-dvm\n');
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
  const info = r.model!.systemInfo.domains;
  t.is(info.get('vault-gpg')!.defaultDispvm, null);
  t.is(info.get('quiet-notes')!.defaultDispvm, null);
  t.is(info.get('sys-tor-gw')!.defaultDispvm, null);
  t.is(info.get('work-email')!.defaultDispvm, 'work-dvm');
  t.is(info.get('anon-chat')!.defaultDispvm, 'anon-dvm', 'the identity\'s disposable wins over the global one');
});

test('templates and dom0 inherit the global default disposable, as in Qubes', (t) => {
  const info = checked(policy).model!.systemInfo.domains;
  t.is(info.get('deb')!.defaultDispvm, 'work-dvm');
  t.is(info.get('whonix-workstation-18')!.defaultDispvm, 'work-dvm');
  t.is(info.get('dom0')!.defaultDispvm, 'work-dvm');
  const none = checked(policy.replace('default-disposable work-dvm }', 'default-disposable none }')).model!.systemInfo.domains;
  t.is(none.get('deb')!.defaultDispvm, null);
});

test('the global default disposable of another identity is QP3016 for a clearnet or offline identity too', (t) => {
  const text = `use "qubes"
use "whonix"
settings { default-disposable work-dvm }
template deb
identity work { network clearnet via sys-firewall }
disposable work-dvm in work { template deb }
identity home { network clearnet via sys-firewall }
qube home-web in home { template deb }
`;
  expectDiagnostics(t, text, [{ code: 'QP3016', underline: 'home', message: /^identity `home` starts its disposables from Qubes' global default disposable template `work-dvm`, which belongs to identity `work`$/ }]);
  expectDiagnostics(t, text.replace('qube home-web in home { template deb }', 'qube home-web in home { template deb; default-disposable none }'), []);
});

test('provisioning writes the global default disposable with qubes-prefs, in provision.sh and in Salt', (t) => {
  const model = checked(policy).model!;
  const arts = provisionTarget.emit(model, handMadeInputs(model));
  const script = arts.find((a) => a.path === 'qubes/provision.sh')!.contents;
  const lines = script.split('\n');
  const global = lines.indexOf("global_pref default_dispvm 'work-dvm'");
  t.true(global > 0, 'provision.sh sets the global default');
  t.true(lines.indexOf("pref 'work-dvm' 'template_for_dispvms' 'True'") < global, 'after work-dvm is a disposable template');
  t.true(lines.indexOf("pref 'deb' 'default_dispvm' 'work-dvm'") > global, 'templates get it explicitly too');
  const sls = parse(arts.find((a) => a.path === 'qubes/salt/qpc.sls')!.contents) as Record<string, Record<string, Record<string, unknown>[]>>;
  const state = sls['qpc-global:default_dispvm']?.['cmd.run'];
  t.truthy(state);
  t.deepEqual(state?.slice(0, 2), [{ name: "qubes-prefs default_dispvm 'work-dvm'" }, { unless: `[ "$(qubes-prefs default_dispvm)" = 'work-dvm' ]` }]);
  t.true(JSON.stringify(state).includes('{"qvm":"work-dvm"}'), 'after the disposable template state');
  const prefs = Object.assign({}, ...((sls['deb']['qvm.vm'].find((x) => 'prefs' in x)?.prefs ?? []) as object[])) as Record<string, unknown>;
  t.is(prefs['default-dispvm'], 'work-dvm');
});

test('provision.sh sets the global default disposable on a dom0 that has another, and a second run changes nothing', (t) => {
  const model = checked(policy).model!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-global-dvm-'));
  try {
    const out = path.join(dir, 'out');
    layOut(out, [...handMadeInputs(model), ...provisionTarget.emit(model, handMadeInputs(model))]);
    const dom0 = fakeDom0(path.join(dir, 'dom0'), model);
    const first = runScript(out, dom0);
    t.is(first.status, 0, first.stdout + first.stderr);
    t.is(readFileSync(path.join(dom0.state, 'global/default_dispvm'), 'utf8'), 'work-dvm');
    t.is(readFileSync(path.join(dom0.state, 'qubes/vault-gpg/prefs/default_dispvm'), 'utf8'), '');
    const second = runScript(out, dom0);
    t.is(second.status, 0, second.stderr);
    t.notRegex(second.stdout, /set global/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a template may name its own default disposable, or none, over the global one', (t) => {
  const r = checked(policy + 'amend whonix-gateway-18 { default-disposable none }\namend deb { default-disposable none }\nexpect qubes.VMShell from whonix-gateway-18 to @dispvm: deny\n');
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
  t.is(r.model!.systemInfo.domains.get('whonix-gateway-18')!.defaultDispvm, null);
  t.is(r.model!.systemInfo.domains.get('deb')!.defaultDispvm, null);
  t.is(r.model!.systemInfo.domains.get('whonix-workstation-18')!.defaultDispvm, 'work-dvm');
  // A template is in no identity: one that opens the disposables of a Tor identity is a channel into it.
  const into = checked(policy + 'amend deb { default-disposable anon-dvm }\n').diagnostics.filter((d) => d.code === 'QP3030');
  t.true(into.length > 0 && into.every((d) => /from `deb` to `anon-dvm`/.test(d.message)));
});

const dispvmDefaults = `use "qubes"
use "whonix"
settings { default-disposable work-dvm }
template deb
identity work { network clearnet via sys-firewall; label blue }
disposable work-dvm in work { template deb }
identity print { network none; label gray }
disposable print-dvm in print { template deb }
named-disposable print-disp in print { template print-dvm }
qube print-queue in print { template deb; default-disposable print-dvm }
waive QP3016 on print because "print-dvm's own calls open work disposables"
`;

test("a named disposable without a default disposable of its own opens its template's, as Qubes' DispVM default has it", (t) => {
  const info = checked(dispvmDefaults).model!.systemInfo.domains;
  t.is(info.get('print-disp')!.defaultDispvm, 'print-dvm');
  t.true(info.get('print-disp')!.defaultDispvmIsDefault);
  // A disposable template at the global default: it inherits it; its disposables, which Qubes
  // gives no copy of a value the template does not set, open disposables of the template.
  t.is(info.get('print-dvm')!.defaultDispvm, 'work-dvm');
  t.true(info.get('print-dvm')!.defaultDispvmIsDefault);
  t.falsy(info.get('print-queue')!.defaultDispvmIsDefault);
  const r = checked(dispvmDefaults + 'expect qubes.OpenInVM from print-disp to @dispvm: allow target @dispvm:print-dvm\n');
  t.deepEqual(r.diagnostics.filter((d) => d.code === 'QP3035').map((d) => d.message), []);
});

test('provisioning leaves those at Qubes\' default (qvm-prefs --default, Salt *default*), once', (t) => {
  const model = checked(dispvmDefaults).model!;
  const arts = provisionTarget.emit(model, handMadeInputs(model));
  const script = arts.find((a) => a.path === 'qubes/provision.sh')!.contents;
  t.true(script.includes("\npref_default 'print-disp' 'default_dispvm'\n"));
  t.true(script.includes("\npref_default 'print-dvm' 'default_dispvm'\n"));
  t.true(script.includes("\npref 'print-queue' 'default_dispvm' 'print-dvm'\n"));
  const sls = parse(arts.find((a) => a.path === 'qubes/salt/qpc.sls')!.contents) as Record<string, Record<string, Record<string, unknown>[]>>;
  const prefs = Object.assign({}, ...((sls['print-disp']['qvm.vm'].find((x) => 'prefs' in x)?.prefs ?? []) as object[])) as Record<string, unknown>;
  t.is(prefs['default-dispvm'], '*default*');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-dispvm-default-'));
  try {
    const out = path.join(dir, 'out');
    layOut(out, [...handMadeInputs(model), ...arts]);
    const dom0 = fakeDom0(path.join(dir, 'dom0'), model);
    const first = runScript(out, dom0);
    t.is(first.status, 0, first.stdout + first.stderr);
    t.is(readFileSync(path.join(dom0.state, 'qubes/print-disp/prefs/default_dispvm'), 'utf8'), 'print-dvm');
    const second = runScript(out, dom0);
    t.is(second.status, 0, second.stderr);
    t.notRegex(second.stdout, /reset default_dispvm/);
    t.deepEqual(second.stdout.split('\n').filter((l) => l.startsWith('qpc: ') && l !== 'qpc: done'), [], 'a second run changes nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
