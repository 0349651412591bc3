/**
 * The output directory layout (targets/paths.ts): where each target writes,
 * and the policy name as the artifacts' header lines show it.
 */
import test from 'ava';
import {
  headerSource,
  libvirtPath,
  manifestPath,
  policyDirectory,
  policyFilePath,
  provisionScriptPath,
  saltStatePath,
  saltTopPath,
  systemInfoPath,
  xlConfigPath,
} from '../../../targets/paths.js';

test('policy files go to qubes/policy.d/NAME.policy, the name dom0 installs them under', (t) => {
  t.is(policyFilePath('30-qpc'), 'qubes/policy.d/30-qpc.policy');
  t.is(policyFilePath('50-config-filecopy'), 'qubes/policy.d/50-config-filecopy.policy');
  t.is(policyDirectory, '/etc/qubes/policy.d');
});

test('xen artifacts: one xl.cfg per qube under xen/, its libvirt XML under xen/libvirt/', (t) => {
  t.is(xlConfigPath('work-web'), 'xen/work-web.cfg');
  t.is(libvirtPath('work-web'), 'xen/libvirt/work-web.xml');
  // A qube named `libvirt` keeps its xl.cfg apart from the XML folder.
  t.not(xlConfigPath('libvirt'), 'xen/libvirt');
});

test('every fixed path is relative, plain and distinct (the CLI writes them under --out)', (t) => {
  const fixed = [systemInfoPath, provisionScriptPath, saltStatePath, saltTopPath, manifestPath];
  t.is(new Set(fixed).size, fixed.length);
  for (const p of fixed) {
    t.false(p.startsWith('/'), p);
    t.false(p.split('/').some((s) => s === '' || s === '.' || s === '..'), p);
  }
  t.is(manifestPath, 'manifest.json');
  // The policy files and the system information share qubes/ but never a name.
  t.false(systemInfoPath.startsWith('qubes/policy.d/'));
});

test('headerSource keeps printable ASCII as it is', (t) => {
  t.is(headerSource('examples/journalist.qpol'), 'examples/journalist.qpol');
  t.is(headerSource(' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az|~'), ' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az|~');
});

test('headerSource: a line break cannot end the comment, nor any other control or non-ASCII character survive', (t) => {
  t.is(headerSource('a\nrm -rf /.qpol'), 'a?rm -rf /.qpol');
  t.is(headerSource('a\r\t\x00\x1f\x7fb'), 'a?????b');
  t.is(headerSource('caf\u00e9.qpol'), 'caf?.qpol');
  t.is(headerSource('\u202eloq.qpol'), '?loq.qpol', 'a BIDI override is not carried into a file a reviewer reads');
  for (const s of ['a\u2028b', '\u{1F600}', '\u00a0', '\ufeff']) t.regex(headerSource(s), /^[\x20-\x7e]*$/, JSON.stringify(s));
});

test('headerSource: braces go, so no Jinja delimiter survives in a file Salt might render', (t) => {
  const out = headerSource('{{ salt.cmd.run("id") }}{% if 1 %}{# x #}.qpol');
  t.is(out, '?? salt.cmd.run("id") ???% if 1 %??# x #?.qpol');
  t.false(/[{}]/.test(out));
  t.false(/\{\{|\{%|\{#/.test(out));
});
