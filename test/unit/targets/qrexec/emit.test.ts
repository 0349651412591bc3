import test from 'ava';
import * as path from 'node:path';
import type { PolicyModel } from '../../../../compiler/model.js';
import { evaluate } from '../../../../compiler/qrexec/evaluate.js';
import type { Decision, QrexecRule, Request } from '../../../../compiler/qrexec/types.js';
import { qrexecTarget } from '../../../../targets/qrexec/index.js';
import { policyFilePath } from '../../../../targets/paths.js';
import { expectGoldenArtifacts } from '../../../helpers/golden.js';
import { asRead, parsePolicy, PolicySyntaxError } from '../../../helpers/qrexec-policy-parser.js';
import { exampleModel, examples, modelOf, must, releases } from './models.js';
import { readFileSync } from 'node:fs';

const goldenDir = path.join('test', 'golden', 'targets', 'qrexec');

/** The emitted policy files of a model, by policy file name. */
function policyTexts(model: PolicyModel): Map<string, string> {
  const artifacts = qrexecTarget.emit(model, []);
  return new Map(model.policyFiles.map((f) => [f.name, artifacts.find((a) => a.path === policyFilePath(f.name))!.contents]));
}

/**
 * The complete policy as dom0 would read it with our files replaced by what
 * was emitted: the stock rules of the model and our files read back, files
 * in name order (byte order of `NAME.policy`).
 */
function reread(model: PolicyModel, texts: ReadonlyMap<string, string>): QrexecRule[] {
  const files = new Map<string, QrexecRule[]>();
  for (const r of model.completePolicy) {
    if (!r.origin.stock) continue;
    files.set(r.origin.policyFile, [...(files.get(r.origin.policyFile) ?? []), r]);
  }
  for (const [name, text] of texts) {
    const span = model.policyFiles.find((f) => f.name === name)!.rules[0]?.origin.span;
    files.set(
      name,
      parsePolicy(text, model.settings.qubes).map(({ line, ...r }) => ({ ...r, origin: { policyFile: name, stock: false, span: span!, id: `${name}:${line}` } })),
    );
  }
  const names = [...files.keys()].sort((a, b) => (`${a}.policy` < `${b}.policy` ? -1 : `${a}.policy` > `${b}.policy` ? 1 : 0));
  return names.flatMap((n) => files.get(n)!);
}

/** Requests over every service and argument the policy names, every qube, and the request tokens. */
function sampleRequests(model: PolicyModel): Request[] {
  const args = new Map<string, Set<string>>();
  for (const r of model.completePolicy) {
    if (r.service === '*') continue;
    const set = args.get(r.service) ?? new Set(['+']);
    if (r.argument !== '*') set.add(r.argument);
    args.set(r.service, set);
  }
  args.set('qubes.NoSuchService', new Set(['+']));
  const domains = [...model.systemInfo.domains.values()];
  const targets = [...domains.map((d) => d.name), '@default', '@dispvm', '@adminvm', 'no-such-qube', ...domains.filter((d) => d.templateForDispvms).map((d) => `@dispvm:${d.name}`)];
  const out: Request[] = [];
  for (const [service, set] of args) for (const argument of set) for (const d of domains) for (const target of targets) out.push({ service, argument, source: d.name, target });
  return out;
}

/** Requests decided differently over the policy with our files as emitted and over the complete policy the checker evaluated. */
function differences(model: PolicyModel, texts: ReadonlyMap<string, string>): { request: Request; checked: Decision; emitted: Decision }[] {
  const rules = reread(model, texts);
  const out: { request: Request; checked: Decision; emitted: Decision }[] = [];
  for (const request of sampleRequests(model)) {
    const checked = evaluate(model.completePolicy, model.systemInfo, request, model.settings.qubes);
    const emitted = evaluate(rules, model.systemInfo, request, model.settings.qubes);
    if (JSON.stringify(checked) !== JSON.stringify(emitted)) out.push({ request, checked, emitted });
  }
  return out;
}

for (const name of examples) {
  for (const release of releases) {
    const m = exampleModel(name, release);
    const title = `${name} on Qubes ${release}`;
    if (Array.isArray(m)) {
      // Every example is written to check on both releases; say so loudly if one stops doing so.
      test(`${title}: the example checks`, (t) => t.fail(m.join('\n')));
      continue;
    }

    test(`${title}: check passes and the artifacts match the golden files`, (t) => {
      t.deepEqual(qrexecTarget.check(m), []);
      const artifacts = qrexecTarget.emit(m, []);
      t.deepEqual(
        artifacts.map((a) => a.path),
        [...m.policyFiles.map((f) => policyFilePath(f.name)), 'qubes/system-info.json'].sort(),
      );
      for (const a of artifacts) t.true(a.contents.endsWith('\n') && !a.contents.includes('\r'), `${a.path}: LF endings, final newline`);
      expectGoldenArtifacts(t, path.join(goldenDir, `${name}-${release}`), { example: `examples/${name}.qpol`, note: `qubes ${release}` }, artifacts);
    });

    test(`${title}: each policy file reads back as the model's rules, in order`, (t) => {
      for (const [file, text] of policyTexts(m)) {
        const rules = m.policyFiles.find((f) => f.name === file)!.rules;
        const parsed = parsePolicy(text, release).map(({ line: _line, ...r }) => r);
        t.deepEqual(parsed, rules.map((r) => asRead(r, release)), file);
        t.true(rules.length > 0, 'the example has rules to compare');
      }
    });

    test(`${title}: the emitted files decide every sample request as the checked policy does`, (t) => {
      const diff = differences(m, policyTexts(m));
      t.deepEqual(diff.slice(0, 5), []);
    });
  }
}

test('the header names the source, says do not edit, and each rule carries its id (no line numbers)', (t) => {
  const m = must(exampleModel('journalist', '4.2'));
  const text = policyTexts(m).get('30-qpc')!;
  const lines = text.split('\n');
  t.is(lines[0], '# generated by qpc from journalist.qpol; do not edit');
  const ours = m.policyFiles[0].rules;
  const provenance = lines.filter((l) => l.startsWith('# rule '));
  t.is(provenance.length, ours.length);
  ours.forEach((r, i) => {
    t.true(provenance[i].startsWith(`# rule ${r.origin.id}`));
    if (r.origin.generated !== undefined) t.true(provenance[i].endsWith(`(generated: ${r.origin.generated})`));
    else t.is(provenance[i], `# rule ${r.origin.id}`);
  });
  // Every rule line follows its provenance comment directly.
  lines.forEach((l, i) => {
    if (l.startsWith('# rule ')) t.false(lines[i + 1].startsWith('#') || lines[i + 1] === '', `line ${i + 2} is the rule`);
  });
});

test('the header names the source by its file name only, wherever qpc ran', (t) => {
  const text = readFileSync('examples/developer.qpol', 'utf8');
  for (const file of ['/home/alice/policies/developer.qpol', '../secret/developer.qpol', './examples/developer.qpol', 'developer.qpol']) {
    const m = must(modelOf(text, file));
    t.is(m.source, 'developer.qpol', file);
    t.is(policyTexts(m).get('30-qpc')!.split('\n')[0], '# generated by qpc from developer.qpol; do not edit', file);
  }
});

test('a policy file without rules is still a valid, empty policy file', (t) => {
  const m = must(exampleModel('developer', '4.3'));
  const empty: PolicyModel = { ...m, policyFiles: [{ name: '30-qpc', rules: [] }] };
  t.deepEqual(qrexecTarget.check(empty), []);
  const text = policyTexts(empty).get('30-qpc')!;
  t.deepEqual(parsePolicy(text, '4.3'), []);
  t.true(text.startsWith('# generated by qpc from'));
});

test('emit is deterministic and does not depend on the order of the system information', (t) => {
  const m = must(exampleModel('personas', '4.3'));
  const shuffled: PolicyModel = { ...m, systemInfo: { domains: new Map([...m.systemInfo.domains].reverse()) }, qubes: [...m.qubes].reverse() };
  t.deepEqual(qrexecTarget.emit(shuffled, []), qrexecTarget.emit(m, []));
});

// The round-trip comparison above must be able to fail: damage an emitted file and watch it.
test('a damaged policy file is caught: reordered rules decide differently, a dropped parameter or an injected directive does not parse', (t) => {
  const m = must(exampleModel('journalist', '4.2'));
  const text = policyTexts(m).get('30-qpc')!;
  const lines = text.split('\n');

  // Move the `deny qubes.OpenURL … @anyvm` rule before the `allow … @dispvm` rule it follows.
  const allow = lines.findIndex((l) => /^qubes\.OpenURL\s.*@dispvm\s+allow/.test(l));
  const deny = lines.findIndex((l) => /^qubes\.OpenURL\s.*@anyvm\s+deny/.test(l));
  t.true(allow > 0 && deny > allow);
  const swapped = [...lines];
  [swapped[allow], swapped[deny]] = [swapped[deny], swapped[allow]];
  const diff = differences(m, new Map([['30-qpc', swapped.join('\n')]]));
  t.true(diff.length > 0, 'the swap changes decisions');
  t.true(diff.some((d) => d.request.service === 'qubes.OpenURL' && d.request.target === '@dispvm' && d.checked.action === 'allow' && d.emitted.action === 'deny'));

  // Without its `target=`, the UpdatesProxy rule is one Qubes refuses (and with it the whole file).
  const dropped = text.replace(/ target=sys-whonix/, '');
  t.not(dropped, text);
  t.throws(() => parsePolicy(dropped, '4.2'), { instanceOf: PolicySyntaxError, message: /must specify target=/ });

  t.throws(() => parsePolicy(`${text}!include /etc/qubes/policy.d/include/admin-local-rwx\n`, '4.2'), { instanceOf: PolicySyntaxError, message: /directive/ });
  t.throws(() => parsePolicy(`${text}qubes.VMShell * @anyvm @anyvm allow # shell\n`, '4.2'), { instanceOf: PolicySyntaxError, message: /invalid action parameter syntax: '#'/ });
});
