/**
 * The rules qpc generates for Tor identities only ever make the complete
 * policy stricter. On random small policies whose user rules include a deny
 * in a later policy file (before or after the stock files, or between
 * stock files the policy models), with one or two Tor identities, every
 * request of every qube (Whonix's own services and arguments too), stand-ins
 * for the rest of the machine included, is decided with and without the
 * generated rules: with them, no call is allowed or asked that is denied
 * without them, none is allowed that is only asked, and no ask offers (no
 * allow reaches) a target that the policy without them does not.
 */
import test from 'ava';
import fc from 'fast-check';
import { check } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import { evaluate } from '../../compiler/qrexec/evaluate.js';
import { worldOf } from '../../compiler/qrexec/world.js';
import type { Decision, QrexecRule } from '../../compiler/qrexec/types.js';

const RUNS = Number(process.env.QPC_PROPERTY_RUNS ?? 60);

const SERVICES = ['qubes.Filecopy', 'qubes.OpenInVM', 'qubes.OpenURL', 'qubes.ClipboardPaste', 'whonix.NewStatus', '*'] as const;
const ACTIONS = ['allow', 'ask', 'deny'] as const;
/** Later files: before the Global Config one, between it and the stock files, after 90-default. */
const LATER = ['32-late', '60-late', '95-late'] as const;
const STOCK_SHA = 'b'.repeat(64);

const rawRule = fc.record({
  service: fc.nat({ max: SERVICES.length - 1 }),
  action: fc.nat({ max: ACTIONS.length - 1 }),
  source: fc.nat({ max: 99 }),
  target: fc.nat({ max: 99 }),
});

const rawPolicy = fc.record({
  release: fc.constantFrom('4.2', '4.3'),
  anonQubes: fc.integer({ min: 1, max: 3 }),
  anonDvm: fc.boolean(),
  workQubes: fc.integer({ min: 1, max: 2 }),
  tags: fc.array(fc.nat({ max: 3 }), { minLength: 5, maxLength: 5 }),
  main: fc.array(rawRule, { maxLength: 3 }),
  later: fc.array(rawRule, { maxLength: 3 }),
  laterDeny: rawRule,
  laterFile: fc.nat({ max: LATER.length - 1 }),
  globalConfig: fc.boolean(),
  // A second Tor identity behind a gateway of its own (Whonix's calls then run to one gateway each).
  second: fc.boolean(),
});

type Raw = typeof rawPolicy extends fc.Arbitrary<infer T> ? T : never;

function policyText(raw: Raw): string {
  const anon = Array.from({ length: raw.anonQubes }, (_, i) => `anon-${i + 1}`);
  const work = Array.from({ length: raw.workQubes }, (_, i) => `work-${i + 1}`);
  const qubes = [...anon, ...work];
  const tagOf = (i: number) => ['', ' tag t1', ' tag t2', ' tag t1; tag t2'][raw.tags[i % raw.tags.length]];
  const L = [
    'use "qubes"',
    'use "whonix"',
    `settings { qubes ${raw.release} }`,
    'template deb',
    `identity anon { network tor via sys-whonix; label red${raw.anonDvm ? '; disposable anon-dvm' : ''} }`,
    ...(raw.anonDvm ? ['disposable anon-dvm in anon { template whonix-workstation-18 }'] : []),
    ...anon.map((q, i) => `qube ${q} in anon { template whonix-workstation-18;${tagOf(i)} }`),
    ...(raw.second
      ? ['gateway gw2 { tor; template whonix-gateway-18; netvm sys-firewall; label black }', 'identity anon2 { network tor via gw2; label purple }', 'qube anon2-1 in anon2 { template whonix-workstation-18 }']
      : []),
    'identity work { network clearnet via sys-firewall; label blue }',
    ...work.map((q, i) => `qube ${q} in work { template deb;${tagOf(i + anon.length)} }`),
  ];
  const sources = ['@anyvm', '@tag:t1', '@tag:t2', 'anon', 'work', ...qubes];
  const targets = [...sources, '@default', '@dispvm', ...(raw.anonDvm ? ['@dispvm:anon-dvm'] : [])];
  const rule = (r: Raw['main'][number], action?: string) =>
    `${action ?? ACTIONS[r.action]} ${SERVICES[r.service]} from ${sources[r.source % sources.length]} to ${targets[r.target % targets.length]}`;
  L.push(...raw.main.map((r) => rule(r)));
  L.push(`policy-file ${LATER[raw.laterFile]} {`, ...raw.later.map((r) => `  ${rule(r)}`), `  ${rule(raw.laterDeny, 'deny')}`, '}');
  if (raw.globalConfig) L.push(`policy-file 50-config-filecopy stock sha256 "${STOCK_SHA}" {`, '  ask qubes.Filecopy from @tag:t1 to @anyvm', '}');
  return L.join('\n') + '\n';
}

const rank = { deny: 0, ask: 1, allow: 2 } as const;
const offered = (d: Decision) => new Set(d.action === 'allow' ? [d.target] : d.action === 'ask' ? (d.targets ?? []) : []);

test('the generated rules never allow, ask or offer what the policy without them denies', (t) => {
  let checked = 0;
  let failure = '';
  const result = fc.check(
    fc.property(rawPolicy, (raw) => {
      const text = policyText(raw);
      const r = check('p.qpol', { host: overlayHost(new Map([['p.qpol', text]]), nodeHost) });
      // Rules a generated policy may state badly (a token in the wrong column, say) leave no policy: nothing to compare.
      if (!r.policy) return true;
      const withGenerated = r.policy.rules;
      const without: QrexecRule[] = withGenerated.filter((x) => x.origin.generated === undefined);
      const world = worldOf(r.policy.info, without);
      const names = [...world.info.domains.keys()];
      const dvms = [...world.info.domains.values()].filter((d) => d.templateForDispvms).map((d) => `@dispvm:${d.name}`);
      const targets = [...names, '@default', '@dispvm', '@adminvm', ...dvms];
      const services = ['qubes.Filecopy', 'qubes.OpenInVM', 'qubes.OpenURL', 'qubes.ClipboardPaste', 'qubes.StartApp', 'whonix.NewStatus', 'whonix.SdwdateStatus', 'whonix.GatewayCommand'];
      for (const service of services) for (const argument of ['+', '+restart']) {
        for (const source of names) {
          if (source === 'dom0') continue;
          for (const target of targets) {
            const req = { service, argument, source, target };
            const a = evaluate(withGenerated, world.info, req, r.policy.release);
            const b = evaluate(without, world.info, req, r.policy.release);
            const theirs = offered(b);
            const bad = rank[a.action] > rank[b.action] || (a.action !== 'deny' && [...offered(a)].some((x) => !theirs.has(x)));
            if (bad) {
              const rule = a.rule === undefined ? '(none)' : JSON.stringify(withGenerated[a.rule]);
              failure = `${service} ${source} -> ${target}: with generated rules ${JSON.stringify(a)} (rule ${rule}), without ${JSON.stringify(b)}\n${text}`;
              return false;
            }
            checked++;
          }
        }
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.false(result.failed, `${failure}\n(seed ${result.seed})`);
  t.true(checked > 0);
});
