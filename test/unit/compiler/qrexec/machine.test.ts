/**
 * The proof holds on the real machine (DESIGN §4.2–4.3): qubes a dom0 has
 * at run time without the policy declaring them (running disposables, qubes
 * outside the policy of every type and tag), running targets, and every form
 * of request Qubes accepts. Each case is a policy `qpc check --deny-warnings`
 * once passed while Qubes' own evaluator let a Tor identity reach the
 * clearnet or another identity.
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { runQpc } from '../../../helpers/cli.js';

const base = `use "qubes"
use "whonix"
template debian-12-xfce
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue; disposable work-dvm }
disposable work-dvm in work { template debian-12-xfce }
qube work-web in work { template debian-12-xfce }
`;

function findings(extra: string, src = base) {
  const host = overlayHost(new Map([['p.qpol', `${src}${extra}\n`]]), nodeHost);
  return check('p.qpol', { host }).diagnostics.filter((d) => d.severity !== 'info' && d.code !== 'QP2018');
}

const cases: readonly { readonly name: string; readonly rule: string; readonly code: string; readonly message: RegExp }[] = [
  {
    name: 'a running disposable of a Tor identity is a source (`@type:DispVM`)',
    rule: 'allow qubes.OpenURL from @type:DispVM to work-web',
    code: 'QP3030',
    message: /from a running disposable of `anon-dvm` \(Tor identity `anon`\) to `work-web`/,
  },
  {
    name: 'a running disposable of another identity is a target (`@type:DispVM`)',
    rule: 'allow qubes.OpenURL from anon to @type:DispVM',
    code: 'QP3030',
    message: /to a running disposable of `work-dvm` \(identity `work`\)|to a DispVM outside the policy/,
  },
  {
    name: 'a disposable template outside the policy carries `anon-vm` (`@dispvm:@tag:anon-vm`)',
    rule: 'allow qubes.OpenURL from anon to @dispvm:@tag:anon-vm',
    code: 'QP3031',
    message: /opens a disposable of a disposable template outside the policy tagged `anon-vm`, which belongs to no identity$/,
  },
  {
    name: 'a standalone qube outside the policy (`@type:StandaloneVM`)',
    rule: 'allow qubes.OpenURL from anon to @type:StandaloneVM',
    code: 'QP3030',
    message: /to a StandaloneVM outside the policy/,
  },
  {
    name: 'a tag no declared qube carries (`@tag:personal`)',
    rule: 'allow qubes.OpenURL from anon to @tag:personal',
    code: 'QP3030',
    message: /to a qube outside the policy tagged `personal`/,
  },
  {
    name: 'a grant with `no-autostart` reaches a running target',
    rule: 'allow qubes.OpenURL from anon-chat to @anyvm no-autostart',
    code: 'QP3030',
    message: /from `anon-chat` \(Tor identity `anon`\) to `work-(web|dvm)` \(identity `work`\)/,
  },
  {
    name: 'a request for a new disposable of another identity (`@dispvm:work-dvm`)',
    rule: 'allow qubes.VMShell from anon-chat to @dispvm:work-dvm',
    code: 'QP3031',
    message: /^`@dispvm:work-dvm` from `anon-chat` of Tor identity `anon` opens a disposable of `work-dvm`, which belongs to identity `work`$/,
  },
  {
    name: 'a request to dom0 redirected to another identity (`@adminvm target work-web`)',
    rule: 'allow qubes.Gpg from anon-chat to @adminvm target work-web',
    code: 'QP3030',
    message: /`qubes.Gpg` is allowed from `anon-chat` \(Tor identity `anon`\) to `work-web` \(identity `work`\)/,
  },
];

for (const c of cases) {
  test(`${c.name}: ${c.code}`, (t) => {
    const ds = findings(c.rule);
    const hit = ds.filter((d) => d.code === c.code && c.message.test(d.message));
    t.true(hit.length > 0, `expected ${c.code} matching ${c.message}, got:\n${ds.map((d) => `${d.code} ${d.message}`).join('\n')}`);
    // The finding is on the user's rule, where the author can fix or waive it.
    t.true(hit.every((d) => d.span?.file === 'p.qpol' && d.span.line === base.split('\n').length), 'the finding points at the rule');
  });
}

test('QP3032 does not exempt a shell in a new disposable of another identity', (t) => {
  const ds = findings('allow qubes.VMShell from anon-chat to @dispvm:work-dvm');
  t.true(ds.some((d) => d.code === 'QP3032'), ds.map((d) => `${d.code} ${d.message}`).join('\n'));
  // A shell in a new disposable of the caller's own identity stays exempt.
  t.deepEqual(findings('allow qubes.VMShell from anon-chat to @dispvm:anon-dvm').map((d) => d.code), []);
  t.deepEqual(findings('allow qubes.VMShell from anon-chat to @dispvm').map((d) => d.code), []);
});

test('the journalist example: a shell in a clearnet disposable or a redirect through dom0 breaks its requirement', async (t) => {
  const { readFileSync } = await import('node:fs');
  const journalist = readFileSync('examples/journalist.qpol', 'utf8');
  for (const rule of ['allow qubes.VMShell from source-web to @dispvm:work-dvm', 'allow qubes.Gpg from source-web to @adminvm target work-web']) {
    const host = overlayHost(new Map([['examples/journalist.qpol', `${journalist}${rule}\n`]]), nodeHost);
    const ds = check('examples/journalist.qpol', { host }).diagnostics;
    t.true(ds.some((d) => d.code === 'QP3036' && /source-contact isolated-from work/.test(d.message)), `${rule}:\n${ds.map((d) => `${d.code} ${d.message}`).join('\n')}`);
  }
});

test('`expect … deny` fails when the call succeeds while the target runs, and says so', (t) => {
  const ds = findings('allow qubes.OpenURL from anon-chat to work-web no-autostart because "test"\nexpect qubes.OpenURL from anon-chat to work-web: deny');
  const e = ds.find((d) => d.code === 'QP3035');
  t.truthy(e, ds.map((d) => `${d.code} ${d.message}`).join('\n'));
  t.regex(e!.message, /gives allow \(target work-web\) when the qubes it names are running/);
});

test('`qpc query` tells both power states of a `no-autostart` grant', (t) => {
  const host = overlayHost(new Map([['p.qpol', `${base}allow qubes.OpenURL from anon-chat to work-web no-autostart because "test"\n`]]), nodeHost);
  const r = runQpc(['query', '--format', 'json', '--allow-waived', 'QP3030', 'p.qpol', 'qubes.OpenURL anon-chat work-web', 'qubes.OpenURL anon-chat anon-dvm'], { host });
  t.is(r.code, 0, r.stderr);
  const [a, b] = JSON.parse(r.stdout) as { action: string; reason?: string; whenRunning?: { action: string; target?: string } }[];
  t.is(a.action, 'deny');
  t.is(a.reason, 'requires autostart');
  t.deepEqual(a.whenRunning, { action: 'allow', target: 'work-web', notify: false, autostart: false });
  t.is(b.whenRunning, undefined, 'no second state where no rule says no-autostart');
  const human = runQpc(['query', 'p.qpol', 'qubes.OpenURL anon-chat work-web'], { host });
  t.regex(human.stdout, /when the qubes it names are running: allow \(target work-web\)/);
});

test('the examples stay clean under the open world', (t) => {
  for (const f of ['examples/journalist.qpol', 'examples/developer.qpol', 'examples/personas.qpol']) {
    const ds = check(f, { host: nodeHost }).diagnostics.filter((d) => d.severity === 'error');
    t.deepEqual(ds.map((d) => `${d.code} ${d.message}`), [], f);
  }
});

test("Whonix's own services from a workstation to its gateway stay open beside gateways outside the policy", (t) => {
  for (const release of ['4.2', '4.3']) {
    const src = base.replace('use "whonix"\n', `use "whonix"\nsettings { qubes ${release} }\n`);
    const host = overlayHost(new Map([['p.qpol', src]]), nodeHost);
    const r = runQpc(['query', '--format', 'json', 'p.qpol', 'whonix.NewStatus anon-chat sys-whonix', 'whonix.SdwdateStatus anon-chat sys-whonix'], { host });
    t.is(r.code, 0, r.stderr);
    for (const a of JSON.parse(r.stdout) as { rule: { stock: boolean; text: string } | null }[]) t.true(a.rule?.stock === true, `${release}: decided by ${a.rule?.text}`);
  }
});
