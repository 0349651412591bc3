/**
 * Waivers by class: an `author` finding is waived by the policy alone, an
 * `explicit` one (critical for anonymity) only when the command line names
 * its code too, a `never` one not at all (the waiver is itself an error).
 */
import test from 'ava';
import { check } from '../../../../compiler/index.js';
import { nodeHost, overlayHost } from '../../../../compiler/host.js';
import { allCodes, codes, waiverClass, type CodeSpec } from '../../../../compiler/diagnostics/codes.js';
import { runQpc } from '../../../helpers/cli.js';

const head = `use "qubes"
use "whonix"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
identity work { network clearnet via sys-firewall; label blue }
qube work-email in work { template debian-12-xfce }
`;
const bypass = head + 'qube anon-chat in anon { template whonix-workstation-18; netvm sys-firewall }\nwaive QP3004 on anon-chat because "testing"\n';
const channel = head + 'qube anon-chat in anon { template whonix-workstation-18 }\nallow qubes.Filecopy from anon-chat to work-email because "x"\n';

function findings(text: string, allowWaived?: readonly string[]) {
  const host = overlayHost(new Map([['p.qpol', text]]), nodeHost);
  return check('p.qpol', { host, ...(allowWaived ? { allowWaived } : {}) }).diagnostics.filter((d) => d.code !== 'QP2018');
}

test('a waived Tor bypass (QP3004) stays an error without --allow-waived, with a note naming the flag and the reason', (t) => {
  const [d, ...rest] = findings(bypass).filter((x) => x.code === 'QP3004');
  t.is(rest.length, 0);
  t.is(d!.severity, 'error');
  t.is(d!.waivedBecause, undefined);
  t.true(d!.notes.some((n) => n.includes('--allow-waived QP3004') && n.includes('testing')), d!.notes.join('\n'));
  t.false(findings(bypass).some((x) => x.code === 'QP2021'), 'the waiver matches the finding');
});

test('with --allow-waived QP3004 the waived Tor bypass is a warning that quotes the reason', (t) => {
  const d = findings(bypass, ['QP3004']).find((x) => x.code === 'QP3004')!;
  t.is(d.severity, 'warning');
  t.is(d.waivedBecause, 'testing');
  t.false(d.notes.some((n) => n.includes('--allow-waived')));
  t.is(findings(bypass, ['QP3030']).find((x) => x.code === 'QP3004')!.severity, 'error', 'another code named does not count');
});

test('`because` on a channel from a Tor identity to a clearnet qube needs --allow-waived QP3030', (t) => {
  const without = findings(channel).filter((x) => x.code === 'QP3030');
  t.deepEqual(without.map((x) => x.severity), ['error']);
  t.true(without[0]!.notes.some((n) => n.includes('--allow-waived QP3030')));
  t.is(without[0]!.waivedBecause, undefined);
  const allowed = findings(channel, ['QP3030']).filter((x) => x.code === 'QP3030');
  t.deepEqual(allowed.map((x) => `${x.severity} ${x.waivedBecause}`), ['warning x']);
  t.false('because' in allowed[0]!, 'the reason the rule offered is not rendered twice');
});

test('a waiver of a code that is never waived is an error at the code, and the finding stays', (t) => {
  const loop = 'use "qubes"\ntemplate deb\ngateway a { template deb; netvm b }\ngateway b { template deb; netvm a }\nwaive QP3001 on a because "it is fine"\n';
  const ds = findings(loop);
  t.deepEqual(ds.map((d) => `${d.code} ${d.severity}`).sort(), ['QP2025 error', 'QP3001 error']);
  const w = ds.find((d) => d.code === 'QP2025')!;
  t.is(loop.slice(w.span!.start, w.span!.end), 'QP3001');
  t.is(ds.find((d) => d.code === 'QP3001')!.waivedBecause, undefined);
  // Also when it matches nothing: the waiver is refused, not reported as unused.
  const hidden = head + 'qube anon-chat in anon { template whonix-workstation-18 }\nwaive QP2010 on anon-chat because "x"\n';
  t.deepEqual(findings(hidden).map((d) => d.code), ['QP2025']);
  t.deepEqual(findings(loop, ['QP3004']).map((d) => d.code).sort(), ['QP2025', 'QP3001']);
});

test('an author finding is waived by the policy alone', (t) => {
  const text = head + 'qube anon-chat in anon { template debian-12-xfce }\nwaive QP3009 on anon-chat because "hardened"\n';
  const d = findings(text).find((x) => x.code === 'QP3009')!;
  t.is(d.severity, 'info');
  t.is(d.waivedBecause, 'hardened');
});

test('every code has a waiver class; the classes of the critical and the unsafe findings', (t) => {
  for (const c of allCodes) t.true(['never', 'explicit', 'author'].includes((codes[c] as CodeSpec).waiver ?? ''), `${c} has no waiver class`);
  for (const c of ['QP3004', 'QP3005', 'QP3006', 'QP3007', 'QP3012', 'QP3013', 'QP3015', 'QP3030', 'QP3031', 'QP3032'] as const) t.is(waiverClass(c), 'explicit', c);
  for (const c of allCodes.filter((x) => /^QP[1459]/.test(x))) t.is(waiverClass(c), 'never', c);
  for (const c of ['QP2010', 'QP2024', 'QP3001', 'QP3021', 'QP3026', 'QP3035', 'QP3036'] as const) t.is(waiverClass(c), 'never', c);
  for (const c of ['QP2018', 'QP3008', 'QP3009', 'QP3016', 'QP3024', 'QP3033', 'QP3034', 'QP3037'] as const) t.is(waiverClass(c), 'author', c);
});

test('qpc check: exit 1 for the waived Tor bypass, 0 with --allow-waived QP3004; the flag takes only explicit codes', (t) => {
  const host = overlayHost(new Map([['p.qpol', bypass]]), nodeHost);
  const plain = runQpc(['check', '--error-format', 'plain', 'p.qpol'], { host });
  t.is(plain.code, 1);
  t.regex(plain.stderr, /error\[QP3004\][\s\S]*--allow-waived QP3004/);
  const allowed = runQpc(['check', '--error-format', 'plain', '--allow-waived', 'QP3004', 'p.qpol'], { host });
  t.is(allowed.code, 0, allowed.stderr);
  t.regex(allowed.stderr, /warning\[QP3004\][\s\S]*waived: testing/);
  t.is(runQpc(['check', '--allow-waived=QP3004', 'p.qpol'], { host }).code, 0);
  t.is(runQpc(['check', '--allow-waived', 'qp3004', 'p.qpol'], { host }).code, 0, 'codes are case-insensitive, as in `qpc explain`');
  t.is(runQpc(['check', '--deny-warnings', '--allow-waived', 'QP3004', 'p.qpol'], { host }).code, 1, '--deny-warnings still counts the waived warning');
  for (const [code, why] of [['QP2018', /waived by the policy alone/], ['QP3001', /cannot be waived/], ['QP9999', /not a qpc diagnostic code/]] as const) {
    const r = runQpc(['check', '--allow-waived', code, 'p.qpol'], { host });
    t.is(r.code, 2, code);
    t.regex(r.stderr, /QP5002/);
    t.regex(r.stderr, why);
  }
});

test('the README lists the explicit and author codes as the catalogue classes them', async (t) => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync('README.md', 'utf8');
  for (const cls of ['explicit', 'author'] as const) {
    const row = new RegExp(`^\\| \`${cls}\`:[^|]*\\| ([^|]*) \\|`, 'm').exec(readme);
    t.truthy(row, cls);
    t.deepEqual(row![1]!.trim().split(' '), allCodes.filter((c) => waiverClass(c) === cls), cls);
  }
});
