/**
 * The proof against a replay of what dom0 would hold (DESIGN §4.3), outside
 * the analysis' own code path: random policies that `check` accepts are
 * compiled; the emitted policy files are read back by the test's own reader
 * of the policy format, the stock files come from the standard library's
 * model, and the emitted `system-info.json` is extended with what a real
 * dom0 also has: qubes the policy does not declare (of every type, with
 * random tags, a default disposable of none of the policy's, running or
 * not) and running disposables of each disposable template. Every request
 * of every form from and to every qube then goes through the evaluator;
 * whenever a qube of a Tor identity reaches a qube outside its identity (or
 * is reached by one), a finding of `check` must name that channel: an error
 * (then the policy was not accepted) or a warning waived with `because`.
 */
import test from 'ava';
import fc from 'fast-check';
import { compileWith } from '../../compiler/index.js';
import { nodeHost, overlayHost } from '../../compiler/host.js';
import { evaluate } from '../../compiler/qrexec/evaluate.js';
import type { DomainInfo, QrexecRule, QubesRelease, SystemInfo } from '../../compiler/qrexec/types.js';
import { qrexecTarget } from '../../targets/qrexec/index.js';
import { parsePolicy } from '../helpers/qrexec-policy-parser.js';

const RUNS = Number(process.env.QPC_PROPERTY_RUNS ?? 300) / 3;

const IDENTITIES = `identity anon { network tor via sys-whonix; label red; disposable anon-dvm }
disposable anon-dvm in anon { template whonix-workstation-18 }
qube anon-chat in anon { template whonix-workstation-18 }
qube anon-web in anon { template whonix-workstation-18; tag t1 }
identity work { network clearnet via sys-firewall; label blue; disposable work-dvm }
disposable work-dvm in work { template debian-12-xfce }
qube work-web in work { template debian-12-xfce; tag t1 }
qube work-mail in work { template debian-12-xfce }
identity vault { network none; label black }
qube vault-gpg in vault { template debian-12-xfce; tag t2 }
`;

const SERVICES = ['qubes.Filecopy', 'qubes.OpenURL', 'test.Svc', '*'];
const QUBES = ['anon-chat', 'anon-web', 'anon-dvm', 'work-web', 'work-mail', 'work-dvm', 'vault-gpg'];
const SOURCES = [...QUBES, 'anon', 'work', 'vault', '@anyvm', '@tag:t1', '@tag:t2', '@tag:anon-vm', '@type:DispVM', '@type:AppVM', '@type:StandaloneVM', '@type:TemplateVM'];
const TARGETS = [...SOURCES, '@default', '@dispvm', '@dispvm:anon-dvm', '@dispvm:work-dvm', '@dispvm:@tag:anon-vm', '@dispvm:@tag:t1', '@adminvm'];
const REDIRECTS = [...QUBES, '@dispvm', '@dispvm:anon-dvm', '@dispvm:work-dvm'];
const TAGS = ['t1', 't2', 'anon-vm', 'personal'];

const ruleArb = fc.record({
  action: fc.constantFrom('allow', 'ask', 'deny'),
  service: fc.constantFrom(...SERVICES),
  source: fc.constantFrom(...SOURCES),
  target: fc.constantFrom(...TARGETS),
  redirect: fc.option(fc.constantFrom(...REDIRECTS), { freq: 4 }),
  noAutostart: fc.boolean(),
  because: fc.boolean(),
  file: fc.constantFrom('', '', '20-early', '40-late'),
});

const undeclaredArb = fc.record({
  type: fc.constantFrom('AppVM', 'DispVM', 'StandaloneVM', 'TemplateVM'),
  tags: fc.subarray(TAGS),
  dvmTemplate: fc.boolean(),
  running: fc.boolean(),
});

const caseArb = fc.record({
  release: fc.constantFrom<QubesRelease>('4.2', '4.3'),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 6 }),
  undeclared: fc.array(undeclaredArb, { maxLength: 4 }),
  running: fc.array(fc.boolean(), { minLength: QUBES.length, maxLength: QUBES.length }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function ruleLine(r: Case['rules'][number]): string {
  const parts = [r.action, r.service, 'from', r.source, 'to', r.target];
  if (r.redirect !== null && r.action !== 'deny') parts.push('target', r.redirect);
  if (r.noAutostart && r.action !== 'deny') parts.push('no-autostart');
  if (r.because && r.action !== 'deny') parts.push('because "wanted"');
  return parts.join(' ');
}

function policyText(c: Case): string {
  const main = c.rules.filter((r) => r.file === '').map(ruleLine);
  const blocks = ['20-early', '40-late'].map((f) => {
    const rs = c.rules.filter((r) => r.file === f).map(ruleLine);
    return rs.length ? `policy-file ${f} {\n  ${rs.join('\n  ')}\n}\n` : '';
  });
  return `use "qubes"\nuse "whonix"\nsettings { qubes ${c.release} }\ntemplate debian-12-xfce\n${IDENTITIES}${main.join('\n')}\n${blocks.join('')}`;
}

interface Outcome {
  readonly accepted: boolean;
  readonly requests: number;
  readonly problem?: string;
}

function replay(c: Case): Outcome {
  const text = policyText(c);
  // The random `because`s count, as in a CI that names the channel codes with `--allow-waived`.
  const r = compileWith('p.qpol', [qrexecTarget], { host: overlayHost(new Map([['p.qpol', text]]), nodeHost), allowWaived: ['QP3030', 'QP3031'] });
  if (!r.artifacts || !r.policy) return { accepted: false, requests: 0 };
  const findings = r.diagnostics.filter((d) => d.code === 'QP3030' || d.code === 'QP3031' || d.code === 'QP3036');
  // What dom0 reads: the emitted files (read back by the test's reader) and the stock files, in file-name order.
  const files = new Map<string, QrexecRule[]>();
  for (const a of r.artifacts) {
    const m = /^qubes\/policy\.d\/(.+)\.policy$/.exec(a.path);
    if (!m) continue;
    files.set(
      m[1],
      parsePolicy(a.contents, c.release).map((p) => ({ ...p, origin: { policyFile: m[1], stock: false, span: r.policy!.rules[0].origin.span, id: `${m[1]}:${p.line}` } })),
    );
  }
  for (const rule of r.policy.rules) {
    if (!rule.origin.stock) continue;
    const list = files.get(rule.origin.policyFile) ?? [];
    if (!files.has(rule.origin.policyFile)) files.set(rule.origin.policyFile, list);
    list.push(rule);
  }
  const rules = [...files.keys()].sort((a, b) => (`${a}.policy` < `${b}.policy` ? -1 : 1)).flatMap((f) => files.get(f)!);
  // The machine: the emitted system info, some qubes running, undeclared qubes, running disposables.
  const json = JSON.parse(r.artifacts.find((a) => a.path === 'qubes/system-info.json')!.contents) as { domains: Record<string, { tags: string[]; type: string; default_dispvm: string | null; template_for_dispvms: boolean; power_state: string }> };
  const domains = new Map<string, DomainInfo>();
  for (const [name, d] of Object.entries(json.domains)) {
    const i = QUBES.indexOf(name);
    domains.set(name, { name, type: d.type, tags: d.tags, defaultDispvm: d.default_dispvm, templateForDispvms: d.template_for_dispvms, running: d.power_state === 'Running' || (i >= 0 && c.running[i]) });
  }
  const identityOf = new Map<string, string>();
  for (const q of QUBES) identityOf.set(q, q.split('-')[0]);
  c.undeclared.forEach((u, i) => {
    const name = `other${i}`;
    domains.set(name, { name, type: u.type, tags: u.tags, defaultDispvm: null, templateForDispvms: u.type === 'AppVM' && u.dvmTemplate, running: u.running });
  });
  for (const d of [...domains.values()]) {
    if (!d.templateForDispvms) continue;
    const name = `disp-${d.name}`;
    domains.set(name, { name, type: 'DispVM', tags: d.tags, defaultDispvm: d.defaultDispvm, templateForDispvms: false, running: true });
    if (identityOf.has(d.name)) identityOf.set(name, identityOf.get(d.name)!);
  }
  const info: SystemInfo = { domains };
  const names = [...domains.keys()].filter((n) => domains.get(n)!.type !== 'AdminVM');
  const isTor = (q: string) => identityOf.get(q) === 'anon';
  const gateways = new Set(['sys-whonix', 'whonix-gateway-18']);
  const namedServices = new Set(r.policy.rules.map((x) => x.service));
  let requests = 0;
  for (const service of ['qubes.Filecopy', 'qubes.OpenURL', 'test.Svc', 'other.Svc']) {
    for (const source of names) {
      const targets = [...names.filter((n) => n !== source), '@default', '@dispvm', '@adminvm', ...names.filter((n) => domains.get(n)!.templateForDispvms).map((n) => `@dispvm:${n}`)];
      for (const target of targets) {
        requests++;
        const d = evaluate(rules, info, { service, argument: '+', source, target }, c.release);
        if (d.action === 'deny') continue;
        const reached = d.action === 'allow' ? [d.target!] : [...(d.targets ?? [])];
        for (const x of reached) {
          const name = x.startsWith('@dispvm:') ? x.slice(8) : x;
          const dom = domains.get(name);
          if (dom === undefined || dom.type === 'AdminVM' || name === source) continue;
          if (x.startsWith('@dispvm:') && !dom.templateForDispvms) continue;
          // A new disposable of a template belongs to the template's identity.
          const si = identityOf.get(source);
          const ti = identityOf.get(name);
          if (!(isTor(source) || isTor(name)) || si === ti) continue;
          if (gateways.has(name) || gateways.has(source)) continue; // Whonix's own services are exempt only to its gateways; these services are not Whonix's
          const torSide = isTor(source) ? source : name;
          // The analysis stands for services no rule names by one it calls qpc.AnyOtherService.
          const svc = namedServices.has(service) ? service : 'qpc.AnyOtherService';
          const named = findings.some((f) => (f.code === 'QP3031' || f.message.includes(`\`${svc}\``)) && (f.severity === 'error' || f.waivedBecause !== undefined) && mentions(f.message, torSide));
          if (!named) {
            return {
              accepted: true,
              requests,
              problem: `${text}\n--- ${service} from ${source} to ${target}: ${d.action} reaches ${x}; findings:\n${r.diagnostics.map((f) => `${f.code} ${f.severity} ${f.message}`).join('\n')}`,
            };
          }
        }
      }
    }
  }
  return { accepted: true, requests };
}

/** Whether a finding's message names the Tor side of a channel: the qube, its identity, or a running disposable of its template. */
function mentions(message: string, q: string): boolean {
  return message.includes('`anon`') || message.includes(`\`${q}\``) || message.includes(q.replace(/^disp-/, ''));
}

test('no Tor-identity qube reaches another identity on the replayed machine unless a finding names the channel', (t) => {
  let accepted = 0;
  let requests = 0;
  const result = fc.check(
    fc.property(caseArb, (c) => {
      const o = replay(c);
      if (o.accepted) accepted++;
      requests += o.requests;
      return o.problem === undefined;
    }),
    { numRuns: RUNS },
  );
  if (result.failed) t.fail(`seed ${result.seed}, path "${result.counterexamplePath}":\n${replay(result.counterexample![0]).problem}`);
  else {
    t.log(`${RUNS} random policies, ${accepted} accepted, ${requests} requests replayed`);
    t.true(accepted > 0, 'some random policies are accepted');
  }
});
