import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { checkText, expectDiagnostics, testPath } from '../../../helpers/expect-diagnostics.js';

const head = 'use "qubes"\nuse "whonix"\n';

test('unknown references get "did you mean" with the declaration as related span', (t) => {
  expectDiagnostics(t, head + 'template debian-12\ngateway sys-vpn { template debian-12; netvm sys-firewal }\n', [
    { code: 'QP2001', underline: 'sys-firewal', help: /did you mean `sys-firewall`\?/, message: /^unknown gateway `sys-firewal`$/ },
  ]);
});

test('a standard library name without its `use` says which module declares it', (t) => {
  expectDiagnostics(t, 'template d\ngateway g { template d; netvm sys-firewall }\n', [{ code: 'QP2001', underline: 'sys-firewall', help: /add `use "qubes"`/ }]);
});

test('duplicate declarations point at both', (t) => {
  expectDiagnostics(t, head + 'identity a { network none }\nidentity a { network none }\nqube q in a\n', [{ code: 'QP2002', underline: 'a', line: 4 }]);
  expectDiagnostics(t, head + 'template d\ngateway sys-firewall { template d }\n', [{ code: 'QP2002', underline: 'sys-firewall', help: /amend sys-firewall/ }]);
});

test('names follow Qubes rules for the release', (t) => {
  const q = (name: string) => `${head}identity i { network none }\nqube ${name} in i\n`;
  expectDiagnostics(t, q('2fa'), [{ code: 'QP2003', underline: '2fa', message: /start with a letter/ }]);
  expectDiagnostics(t, q('a'.repeat(32)), [{ code: 'QP2003', message: /32 characters/ }]);
  expectDiagnostics(t, q('default'), [{ code: 'QP2003', message: /reserves/ }]);
  expectDiagnostics(t, q('Domain-0'), [{ code: 'QP2003' }]);
  expectDiagnostics(t, q('work-dm'), [{ code: 'QP2003', message: /-dm/ }]);
  expectDiagnostics(t, q('my$qube'), [{ code: 'QP2003', message: /`\$` is not allowed/ }]);
  expectDiagnostics(t, q('work.mail'), [{ code: 'QP2022', underline: 'work.mail' }]);
  expectDiagnostics(t, 'settings { qubes 4.3 }\n' + q('work.mail'), []);
  expectDiagnostics(t, q('vаult'), [{ code: 'QP2008', message: /U\+0430/ }]);
});

test('$whonix follows the settings', (t) => {
  expectDiagnostics(t, head + 'settings { whonix 17 }\nidentity anon { network tor via sys-whonix }\nqube a in anon { template whonix-workstation-17 }\n', []);
  expectDiagnostics(t, head + 'settings { whonix 17 }\nidentity anon { network tor via sys-whonix }\nqube a in anon { template whonix-workstation-18 }\n', [
    { code: 'QP2001', underline: 'whonix-workstation-18', help: /whonix-workstation-17/ },
  ]);
});

test('settings are checked and given once', (t) => {
  expectDiagnostics(t, 'settings { qubes 4.1; whonix 16; policy-file 30-My_Policy }\n', [
    { code: 'QP2013', underline: '4.1' },
    { code: 'QP2013', underline: '16' },
    { code: 'QP2013', underline: '30-My_Policy' },
  ]);
  expectDiagnostics(t, 'settings { qubes 4.2 }\nsettings { qubes 4.3 }\n', [{ code: 'QP2011', line: 2 }]);
});

test('the default kernel setting: a version, a pvgrub2 image or none; anything else at the string', (t) => {
  const settingsOf = (text: string) => check(testPath, { host: overlayHost(new Map([[testPath, text]]), nodeHost) }).program?.settings;
  const version = settingsOf('settings { kernel "6.6.63-1.fc37" }\n');
  t.is(version?.defaultKernel, '6.6.63-1.fc37');
  t.is(version?.defaultKernelSpan?.line, 1);
  t.is(version?.defaultKernelSpan?.column, 19);
  t.is(settingsOf('settings { kernel "pvgrub2-pvh" }\n')?.defaultKernel, 'pvgrub2-pvh');
  t.is(settingsOf('settings { kernel "pvgrub2" }\n')?.defaultKernel, 'pvgrub2');
  t.is(settingsOf('settings { kernel "6.12.11-1.qubes.fc41" }\n')?.defaultKernel, '6.12.11-1.qubes.fc41');
  t.is(settingsOf('settings { kernel none }\n')?.defaultKernel, null);
  t.false('defaultKernel' in (settingsOf('settings { qubes 4.2 }\n') ?? {}), 'absent when not given: Qubes keeps its own default_kernel');
  for (const bad of ['', 'none', 'linux', 'pvgrub3', '6', '../6.6.1', '6.6.1/vmlinuz', '6.6 1', '6.6.1-', 'x'.repeat(70)]) {
    const text = `settings { kernel ${JSON.stringify(bad)} }\n`;
    expectDiagnostics(t, text, [{ code: 'QP2013', underline: JSON.stringify(bad), message: /not a valid kernel/, help: /pvgrub2-pvh/ }]);
  }
  expectDiagnostics(t, 'settings { kernel "6.6.1" }\nsettings { kernel none }\n', [{ code: 'QP2011', line: 2 }]);
});

test('kernel items take the same forms as the setting', (t) => {
  const q = (kernel: string) => `${head}template debian-12-xfce { kernel ${kernel} }\n`;
  for (const ok of ['"6.6.63-1.fc37"', '"pvgrub2-pvh"', '"pvgrub2"', 'none']) expectDiagnostics(t, q(ok), []);
  expectDiagnostics(t, q('"linux"'), [{ code: 'QP2013', underline: '"linux"', help: /pvgrub2-pvh/ }]);
  expectDiagnostics(t, q('""'), [{ code: 'QP2013', underline: '""', help: /kernel none/ }]);
});

test('amend adds to a declaration made elsewhere and must name one', (t) => {
  expectDiagnostics(t, head + 'amend sys-firewall { memory 500 }\n', []);
  expectDiagnostics(t, head + 'amend sys-firewal { memory 500 }\n', [{ code: 'QP2001', underline: 'sys-firewal', help: /sys-firewall/ }]);
  expectDiagnostics(t, head + 'amend sys-firewall { network none }\n', [{ code: 'QP2014', underline: 'network' }]);
});

// ---------------------------------------------------------------- stock blocks (QP2023)

const digest = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const related = (src: string) => checkText(src).map((d) => d.related.map((r) => `${r.span.file}:${r.span.line} ${r.message}`));

test('a stock block without sha256 cannot shadow a grant: QP2023 at its name', (t) => {
  const policy = [
    head,
    'template debian-12-xfce',
    'identity anon { network tor via sys-whonix; label red }',
    'identity work { network clearnet via sys-firewall; label blue }',
    'qube anon-chat in anon { template whonix-workstation-18 }',
    'qube work-web in work { template debian-12-xfce }',
    'policy-file 29-site stock {',
    '  deny qubes.OpenURL from anon-chat to work-web',
    '}',
    'allow qubes.OpenURL from anon-chat to @tag:identity-work',
    '',
  ].join('\n');
  expectDiagnostics(t, policy, [{ code: 'QP2023', underline: '29-site', message: /^stock block `29-site` names no sha256, so qpc cannot verify that dom0 has it: add `sha256 "…"`/, help: /sha256sum \/etc\/qubes\/policy\.d\/29-site\.policy/ }]);
  // With the file's digest the block is accepted: provisioning verifies it.
  const verified = policy.replace('policy-file 29-site stock {', `policy-file 29-site stock sha256 "${digest}" {`);
  t.false(checkText(verified).some((d) => d.code === 'QP2023'));
});

test('a stock block must not name a file qpc writes', (t) => {
  expectDiagnostics(t, head + `policy-file 30-qpc stock sha256 "${digest}" { deny qubes.Filecopy from @anyvm to @anyvm }\n`, [
    { code: 'QP2023', underline: '30-qpc', message: /^stock block `30-qpc` names the policy file qpc writes/, help: /main policy file/ },
  ]);
  const named = head + `settings { policy-file 20-main }\npolicy-file 20-main stock sha256 "${digest}" {}\n`;
  expectDiagnostics(t, named, [{ code: 'QP2023', underline: '20-main', line: 4, message: /names the policy file qpc writes/ }]);
  t.deepEqual(related(named), [['test.qpol:3 qpc writes `20-main.policy` (named here)']]);
  // The default name is free once settings name another main file.
  expectDiagnostics(t, head + `settings { policy-file 20-main }\npolicy-file 30-qpc stock sha256 "${digest}" {}\n`, []);
  const block = head + `policy-file 40-deny { deny qubes.VMShell from @anyvm to @anyvm }\npolicy-file 40-deny stock sha256 "${digest}" {}\n`;
  expectDiagnostics(t, block, [{ code: 'QP2023', underline: '40-deny', line: 4, message: /^stock block `40-deny` names a policy file qpc writes/ }]);
  t.deepEqual(related(block), [['test.qpol:3 qpc writes `40-deny.policy` from this block']]);
  // In another file of the policy set too.
  expectDiagnostics(t, head + `use "./more.qpol"\npolicy-file 40-deny stock sha256 "${digest}" {}\n`, [{ code: 'QP2023', underline: '40-deny' }], {
    'more.qpol': 'policy-file 40-deny { deny qubes.VMShell from @anyvm to @anyvm }\n',
  });
});

test('a stock block must not name a file the standard library models, for any release', (t) => {
  const merged = head + `policy-file 90-default stock sha256 "${digest}" for 4.2 { allow qubes.Filecopy from @anyvm to @anyvm }\n`;
  expectDiagnostics(t, merged, [{ code: 'QP2023', underline: '90-default', message: /^stock block `90-default` names a file the standard library models/ }]);
  t.deepEqual(related(merged), [['policies/qubes-policy.qpol:135 the standard library models `90-default.policy` here']]);
  // A file of another release than the policy's, and a Whonix file.
  expectDiagnostics(t, head + `policy-file 91-admin-default-deny stock sha256 "${digest}" {}\n`, [{ code: 'QP2023', underline: '91-admin-default-deny' }]);
  expectDiagnostics(t, head + `policy-file 80-whonix stock sha256 "${digest}" for 4.2 {}\n`, [{ code: 'QP2023', underline: '80-whonix' }]);
  // Also when the policy does not load the module that models it.
  expectDiagnostics(t, `use "qubes"\npolicy-file 80-whonix stock sha256 "${digest}" {}\n`, [{ code: 'QP2023', underline: '80-whonix', help: /`use "whonix"` models this file/ }]);
  expectDiagnostics(t, `policy-file 90-default stock sha256 "${digest}" {}\n`, [{ code: 'QP2023', underline: '90-default', help: /`use "qubes"`/ }]);
  // The standard library's own stock blocks need no digest.
  expectDiagnostics(t, head, []);
});

test('a stock sha256 is 64 lowercase hex digits, one per file and release', (t) => {
  expectDiagnostics(t, head + `policy-file 29-site stock sha256 "${digest.toUpperCase()}" {}\n`, [{ code: 'QP2013', underline: `"${digest.toUpperCase()}"`, message: /not a valid sha256 digest/ }]);
  expectDiagnostics(t, head + `policy-file 29-site stock sha256 "${digest.slice(1)}" {}\n`, [{ code: 'QP2013', underline: `"${digest.slice(1)}"` }]);
  expectDiagnostics(t, head + 'policy-file 29-site stock sha256 "" {}\n', [{ code: 'QP2013', underline: '""' }]);
  const other = 'a'.repeat(64);
  expectDiagnostics(t, head + `policy-file 29-site stock sha256 "${digest}" for 4.2 {}\npolicy-file 29-site stock sha256 "${other}" for 4.3 {}\n`, []);
  expectDiagnostics(t, head + `policy-file 29-site stock sha256 "${digest}" {}\npolicy-file 29-site stock sha256 "${other}" for 4.2 {}\n`, [
    { code: 'QP2023', underline: '29-site', line: 4, message: /two different sha256 digests for Qubes 4\.2/ },
  ]);
});

test('the model lists the verified stock files of the release, sorted, each once', (t) => {
  const other = 'a'.repeat(64);
  const src = head + `policy-file 50-b stock sha256 "${digest}" { deny x from @anyvm to @anyvm }\npolicy-file 29-a stock sha256 "${other}" for 4.2 {}\npolicy-file 29-a stock sha256 "${other}" {}\npolicy-file 40-c stock sha256 "${digest}" for 4.3 {}\n`;
  const r = check(testPath, { host: overlayHost(new Map([[testPath, src]]), nodeHost) });
  t.truthy(r.model, r.diagnostics.map((d) => d.message).join('\n'));
  t.deepEqual(
    r.model!.verifiedStock.map((f) => [f.name, f.sha256, f.span.file, f.span.line]),
    [
      ['29-a', other, testPath, 4],
      ['50-b', digest, testPath, 3],
    ],
  );
});

test('the binder records every name use once: where, as written, what it names, in which construct', (t) => {
  const text = `${head}settings { whonix 17 }
template debian-12
identity anon { network tor via sys-whonix; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-$whonix }
qube a in anon { template whonix-workstation-17 }
policy-file 40-x for 4.3 {
  allow qubes.Filecopy from a to nowhere
}
allow qubes.Filecopy from a to @dispvm:anon-dvm target @dispvm:anon-dvm
allow qubes.Filecopy from @anyvm to uuid:00000000-0000-0000-0000-000000000000
require a isolated-from sys-whonix
waive QP3001 on a because "a test"
`;
  const r = check('/t/main.qpol', { host: overlayHost(new Map([['/t/main.qpol', text]]), nodeHost), until: 'bind' });
  const refs = r.program!.references.all.filter((x) => x.span.file === '/t/main.qpol');
  const show = refs.map((x) => `${text.slice(x.span.start, x.span.end)}|${x.name}|${x.role}|${x.context}|${x.decl?.form ?? '-'}`);
  t.deepEqual(show, [
    'debian-12|debian-12|declaration|template|template',
    'anon|anon|declaration|identity|identity',
    'sys-whonix|sys-whonix|reference|via|gateway',
    'anon-dvm|anon-dvm|reference|disposable|disposable',
    'anon-dvm|anon-dvm|declaration|disposable|disposable',
    'anon|anon|reference|in|identity',
    'whonix-workstation-$whonix|whonix-workstation-17|reference|template|template',
    'a|a|declaration|qube|qube',
    'anon|anon|reference|in|identity',
    'whonix-workstation-17|whonix-workstation-17|reference|template|template',
    // A block of another release is written in the file: its names are recorded, unresolved ones too.
    'a|a|reference|source|qube',
    'nowhere|nowhere|reference|target|-',
    'a|a|reference|source|qube',
    // Exactly the name of `@dispvm:Q`; tokens and `uuid:` name nothing.
    'anon-dvm|anon-dvm|reference|target|disposable',
    'anon-dvm|anon-dvm|reference|target|disposable',
    'a|a|reference|require|qube',
    'sys-whonix|sys-whonix|reference|require|gateway',
    'a|a|reference|waive|qube',
  ]);
  // The item and the statement of each are at hand, and the site of `@dispvm:Q` is the whole endpoint.
  const viaRef = refs[2]!;
  t.is(viaRef.item?.kind, 'NetworkItem');
  t.is(viaRef.statement.kind, 'Declaration');
  const dispvm = refs[13]!;
  t.is(text.slice(dispvm.site.start, dispvm.site.end), '@dispvm:anon-dvm');
  t.is(r.program!.references.site(dispvm.site), dispvm);
  t.is(r.program!.references.at('/t/main.qpol', dispvm.span.end), dispvm);
  t.is(r.program!.references.at('/t/main.qpol', dispvm.span.start - 1), undefined);
  t.deepEqual(r.program!.references.of('anon-dvm', true).map((x) => x.role), ['declaration', 'reference', 'reference', 'reference']);
});
