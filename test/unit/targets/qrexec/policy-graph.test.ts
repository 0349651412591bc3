/**
 * The emitted policy files and `system-info.json` read by Qubes' own
 * `qrexec-policy-graph` (qubes-core-qrexec `qrexec/tools/qrexec_policy_graph.py`)
 * of the release they are written for: the tool must run to the end, the
 * calls it draws must be the ones qpc's evaluator decides over the same
 * files, and where it colours the qubes (qubes-core-qrexec after 4.3.12, from
 * each domain's `label`) each must have the colour of its label.
 *
 * qubes-core-qrexec is not packaged outside Qubes, so these tests run only
 * where `QREXEC_SRC_42` names a folder holding an extracted qubes-core-qrexec
 * of R4.2 (one with `qrexec/tools/`), and `QREXEC_SRC_43` one of R4.3 or
 * later; elsewhere, CI included, they are skipped loudly, as the tests over
 * the stock policy copies are.
 */
import test from 'ava';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PolicyModel } from '../../../../compiler/model.js';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import { comparePolicyFiles } from '../../../../compiler/qrexec/lower.js';
import type { QubesRelease } from '../../../../compiler/qrexec/types.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { parsePolicy } from '../../../helpers/qrexec-policy-parser.js';
import { run } from '../../../helpers/tools.js';
import { exampleModel, examples, modelOf, must, releases, unlabelledPolicy } from './models.js';

const envOf: Record<QubesRelease, string> = { '4.2': 'QREXEC_SRC_42', '4.3': 'QREXEC_SRC_43' };

/** The extracted qubes-core-qrexec of a release, when one is named and holds the graph tool. */
function sourceOf(release: QubesRelease): string | undefined {
  const dir = process.env[envOf[release]];
  return dir && existsSync(path.join(dir, 'qrexec', 'tools', 'qrexec_policy_graph.py')) ? dir : undefined;
}

/** One call the graph draws: `"SOURCE" -> "TARGET" [label="SERVICE" color=red|orange]` (red: allow, orange: ask). */
const EDGE = /^ {2}"([^"]*)" -> "([^"]*)" \[label="([^"]*)" color=(red|orange)\];$/;
/** One qube the graph colours (`"QUBE" [color = "#RRGGBB", penwidth = N]`), or a token it draws dotted. */
const NODE = /^ {2}"([^"]*)" \[(?:color = "#([0-9a-f]{6})", penwidth = [0-9]+|style = dotted)\];$/;

/**
 * The calls `qrexec-policy-graph --include-ask` draws for a model, as qpc's
 * evaluator decides them over the emitted files: every (service, argument) of
 * a rule, every qube as the source, every qube, `@dispvm`, `@dispvm:` each
 * disposable template and `@default` as the target; an allowed or asked call
 * is drawn to the rule's `target=` when it has one, else to the target asked
 * for. Calls to the `*` service are left out: the tool asks for a service
 * named `None` there, which no qube can call.
 */
function expectedEdges(m: PolicyModel, release: QubesRelease, texts: ReadonlyMap<string, string>): Set<string> {
  const span = m.policyFiles.find((f) => f.rules.length > 0)!.rules[0].origin.span;
  // The files as the tool reads them (our reader; the round trip is emit.test.ts's), in dom0's order.
  const rules = [...texts.keys()]
    .sort(comparePolicyFiles)
    .flatMap((name) => parsePolicy(texts.get(name)!, release).map(({ line, ...r }) => ({ ...r, origin: { policyFile: name, stock: false, span, id: `${name}:${line}` } })));
  const names = [...m.systemInfo.domains.keys()];
  const targets = [...names, '@dispvm', ...names.filter((n) => m.systemInfo.domains.get(n)!.templateForDispvms).map((n) => `@dispvm:${n}`), '@default'];
  const calls = new Set(rules.filter((r) => r.service !== '*').map((r) => `${r.service} ${r.argument === '*' ? '+' : r.argument}`));
  const edges = new Set<string>();
  for (const call of calls) {
    const [service, argument] = call.split(' ');
    for (const source of names) for (const target of targets) {
      const d = evaluate(rules, m.systemInfo, { service, argument, source, target }, release);
      if (d.action === 'deny') continue;
      const drawn = rules[d.rule!].redirect ?? target;
      edges.add(`${source} -> ${drawn} ${service} ${d.action === 'allow' ? 'red' : 'orange'}`);
    }
  }
  return edges;
}

/** The models the graph reads: each example, and a policy that names no label for some qubes. */
const cases: readonly [string, (release: QubesRelease) => PolicyModel][] = [
  ...examples.map((name) => [name, (release: QubesRelease) => must(exampleModel(name, release))] as [string, (release: QubesRelease) => PolicyModel]),
  ['a policy without labels', (release) => must(modelOf(unlabelledPolicy.replace('RELEASE', release)))],
];

for (const release of releases) {
  const src = sourceOf(release);
  if (src === undefined) process.stderr.write(`SKIPPED: Qubes ${release}'s qrexec-policy-graph over the emitted files (set ${envOf[release]} to an extracted qubes-core-qrexec of that release)\n`);
  for (const [name, modelFor] of cases) {
    (src ? test : test.skip)(`${name} on Qubes ${release}: Qubes' qrexec-policy-graph reads the emitted files and draws what qpc decides`, (t) => {
      const m = modelFor(release);
      const artifacts = qrexecTarget.emit(m, []);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-graph-'));
      try {
        const texts = new Map<string, string>();
        for (const a of artifacts) {
          const file = path.join(dir, a.path);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, a.contents);
          const policy = /^qubes\/policy\.d\/(.+)\.policy$/.exec(a.path);
          if (policy) texts.set(policy[1], a.contents);
        }
        const infoFile = path.join(dir, 'qubes', 'system-info.json');
        const args = ['-m', 'qrexec.tools.qrexec_policy_graph', '--include-ask', '--policy-dir', path.join(dir, 'qubes', 'policy.d'), '--system-info', infoFile];
        const r = run('python3', args, { cwd: src! });
        t.is(r.status, 0, r.stderr);
        t.notRegex(r.stderr, /Traceback/);
        const lines = r.stdout.trimEnd().split('\n');
        t.is(lines[0], 'digraph g {');
        t.is(lines[lines.length - 1], '}');
        const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { domains: Record<string, { label?: string }> };
        const drawn = new Set<string>();
        for (const l of lines.slice(1, -1)) {
          const e = EDGE.exec(l);
          const n = e ? undefined : NODE.exec(l);
          t.truthy(e ?? n, l);
          if (e && e[3] !== 'None') drawn.add(`${e[1]} -> ${e[2]} ${e[3]} ${e[4]}`);
          // A qube is coloured with its label; a token (`@dispvm`, `@default`) is drawn dotted.
          if (n) t.is(n[2] === undefined ? undefined : `0x${n[2]}`, n[1].startsWith('@') ? undefined : info.domains[n[1]]?.label, l);
        }
        const expected = expectedEdges(m, release, texts);
        t.true(expected.size > 0);
        t.deepEqual([...drawn].sort(), [...expected].sort());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
