/**
 * The proof of an import checked by Qubes' own evaluator: qubes-core-qrexec's
 * `FilePolicy` loads the machine's policy.d and the policy.d the import
 * gives dom0 (what `qpc compile` emits beside the machine's stock and
 * `50-config-*` files), evaluates both over the grid of `--verify`, and the
 * requests it finds decided differently must be exactly those `verifyImport`
 * lists. With `--no-identities` the import does not compile when the machine
 * has Whonix workstations outside a Tor identity (QP3010): its checked rules
 * are written as dom0 would read them instead.
 *
 * qubes-core-qrexec is not packaged outside Qubes, so this runs only where
 * `QREXEC_SRC_42` names a folder holding an extracted qubes-core-qrexec of
 * R4.2 (the one with the `qrexec` package); elsewhere it is skipped loudly.
 */
import test from 'ava';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { nodeHost } from '../../../../compiler/host.js';
import { compile, importSnapshot, overlayHost, readSnapshot, systemInfoOf, verifyImport, type ImportResult } from '../../../../compiler/index.js';
import { nativeText } from '../../../../compiler/import/rules.js';
import { sharedInfo } from '../../../../compiler/import/verify.js';
import { run } from '../../../helpers/tools.js';

const accepted = ['QP3007', 'QP3010', 'QP3015', 'QP3030', 'QP3031', 'QP3032'];

/** Loads both directories with Qubes' loader, evaluates the requests, prints the ones decided differently. */
const ORACLE = `
import json, sys, pathlib
sys.path.insert(0, sys.argv[1])
from qrexec.policy import parser
from qrexec.exc import AccessDenied
class P(parser.FilePolicy):
    def handle_compat40(self, *, filepath, lineno):
        pass
def decide(policy, info, s, a, src, t):
    try:
        res = policy.evaluate(parser.Request(s, a, src, t, system_info=info))
    except AccessDenied:
        return ('deny',)
    if isinstance(res, parser.AskResolution):
        return ('ask', tuple(sorted(res.targets_for_ask)), res.default_target, res.user)
    return ('allow', str(res.target), res.user)
d = pathlib.Path(sys.argv[2])
info = json.load(open(d / 'info.json'))
requests = json.load(open(d / 'requests.json'))
a = P(policy_path=d / 'machine'); b = P(policy_path=d / 'import')
print(json.dumps([r for r in requests if decide(a, info, *r) != decide(b, info, *r)]))
`;

const src = process.env.QREXEC_SRC_42;
const snapshots = ['qubes-4.2-whonix', 'securedrop-like'];

if (src === undefined || !existsSync(path.join(src, 'qrexec', 'policy', 'parser.py'))) {
  process.stderr.write("SKIPPED: Qubes' own evaluator over the recorded snapshots and their imports (set QREXEC_SRC_42 to an extracted qubes-core-qrexec of R4.2 to run it)\n");
  for (const name of snapshots) for (const how of ['', ' (--no-identities)']) test.skip(`${name}${how}: Qubes' evaluator finds the differences verify finds`, () => {});
} else {
  for (const name of snapshots) {
    for (const noIdentities of [false, true]) {
      test(`${name}${noIdentities ? ' (--no-identities)' : ''}: Qubes' evaluator finds the differences verify finds`, async (t) => {
        const dir = `test/fixtures/snapshots/${name}`;
        const text = (importSnapshot(dir, { noIdentities }) as ImportResult).text!;
        const v = verifyImport(dir, text);
        if (!('compared' in v)) return t.fail(v.diagnostics.map((d) => d.message).join('; '));
        const out = mkdtempSync(path.join(tmpdir(), 'qpc-import-oracle-'));
        cpSync(`${dir}/policy.d`, `${out}/machine`, { recursive: true });
        cpSync(`${dir}/policy.d`, `${out}/import`, { recursive: true });
        // The machine's files qpc writes in its place: every one that is neither stock nor a `stock` block.
        const stockNames = new Set(v.check.policy!.rules.filter((r) => r.origin.stock).map((r) => `${r.origin.policyFile}.policy`));
        for (const f of readdirSync(`${out}/import`)) if (f.endsWith('.policy') && !stockNames.has(f) && f !== '35-compat.policy' && !f.startsWith('90-admin')) rmSync(`${out}/import/${f}`);
        const entry = 'imported.qpol';
        const c = await compile(entry, { host: overlayHost(new Map([[entry, text]]), nodeHost), allowWaived: accepted, targets: ['qrexec'] });
        if (c.artifacts) {
          for (const a of c.artifacts) if (a.path.startsWith('qubes/policy.d/')) writeFileSync(`${out}/import/${a.path.slice('qubes/policy.d/'.length)}`, a.contents);
        } else {
          t.true(noIdentities, c.diagnostics.map((d) => d.message).join('\n'));
          const files = new Map<string, string>();
          for (const r of v.check.policy!.rules) if (!r.origin.stock) files.set(r.origin.policyFile, (files.get(r.origin.policyFile) ?? '') + `${nativeText(r)}\n`);
          for (const [f, body] of files) writeFileSync(`${out}/import/${f}.policy`, body);
        }
        const info = sharedInfo(systemInfoOf(readSnapshot(dir, nodeHost).state), v.check.policy!.info);
        const domains: Record<string, unknown> = {};
        for (const [n, d] of info.domains) domains[n] = { tags: d.tags, type: d.type, template_for_dispvms: d.templateForDispvms, default_dispvm: d.defaultDispvm, power_state: d.running ? 'Running' : 'Halted', icon: '' };
        writeFileSync(`${out}/info.json`, JSON.stringify({ domains }));
        // The grid of verify, but for the argument no rule names (Qubes' files name it as qpc's do not).
        const grid = verifiedGrid(v.check.policy!.rules.map((r) => r.service), info);
        writeFileSync(`${out}/requests.json`, JSON.stringify(grid));
        const r = run('python3', ['-c', ORACLE, src, out]);
        t.is(r.status, 0, r.stderr);
        const qubes = new Set((JSON.parse(r.stdout) as string[][]).map((x) => x.join(' ')));
        const asked = new Set(grid.map((g) => g.join(' ')));
        const ours = new Set(v.differences.map((d) => [d.request.service, d.request.argument, d.request.source, d.request.target].join(' ')).filter((k) => asked.has(k)));
        t.deepEqual([...qubes].filter((k) => !ours.has(k)), [], 'decided differently by Qubes only');
        t.deepEqual([...ours].filter((k) => !qubes.has(k)), [], 'decided differently by qpc only');
        t.is(qubes.size, noIdentities ? 0 : ours.size);
        rmSync(out, { recursive: true, force: true });
      });
    }
  }
}

/** Every qube × the channel services and the services the rules name (argument `+`) × every target. */
function verifiedGrid(services: readonly string[], info: ReturnType<typeof sharedInfo>): string[][] {
  const names = [...info.domains.keys()].sort();
  const targets = [...names, '@default', '@adminvm', '@dispvm', ...names.filter((q) => info.domains.get(q)!.templateForDispvms).map((q) => `@dispvm:${q}`)];
  const all = [...new Set([...services.filter((s) => s !== '*'), 'qubes.Filecopy', 'qubes.ClipboardPaste', 'qubes.OpenInVM', 'qubes.OpenURL', 'qubes.StartApp', 'qpc.AnyOtherService'])].sort();
  return all.flatMap((s) => names.flatMap((q) => targets.map((t) => [s, '+', q, t])));
}
