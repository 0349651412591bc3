/**
 * The provision target's artifacts: goldens for every example, shell syntax
 * and shellcheck on every generated script, determinism, and the Salt states
 * checked against the reference's qvm.vm key spellings.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { provisionTarget } from '../../../../targets/provision/index.js';
import { presentKeys, qvmVmKeys, saltPrefKeys, stockStateId } from '../../../../targets/provision/salt.js';
import { prefsOf } from '../../../../targets/provision/plan.js';
import type { ModelQube, PolicyModel } from '../../../../compiler/model.js';
import { expectGoldenArtifacts } from '../../../helpers/golden.js';
import { collectText } from '../../../../compiler/snapshot/collect-text.js';
import { haveTool, run, toolTest } from '../../../helpers/tools.js';
import { examples, handMadeInputs, inputsFor, modelOf, modelOfText, root, sha256 } from './harness.js';

const byPath = (arts: readonly { path: string; contents: string }[], p: string): string => {
  const a = arts.find((x) => x.path === p);
  if (!a) throw new Error(`no artifact ${p}`);
  return a.contents;
};

for (const file of examples) {
  const name = file.replace(/\.qpol$/, '');

  test(`golden: provision artifacts of examples/${file}`, (t) => {
    const model = modelOf(`examples/${file}`);
    t.deepEqual(provisionTarget.check(model), []);
    const arts = provisionTarget.emit(model, handMadeInputs(model));
    const reloadScripts = [...new Set(model.torGateways.map((g) => g.name))].sort().map((g) => `qubes/reload/${g}.sh`);
    t.deepEqual(arts.map((a) => a.path), [...reloadScripts, 'qubes/provision.sh', 'qubes/snapshot.sh', 'qubes/salt/qpc.sls', 'qubes/salt/qpc.top']);
    t.true(arts.find((a) => a.path === 'qubes/provision.sh')?.executable);
    for (const a of arts) t.true(a.contents.endsWith('\n') && !a.contents.includes('\r'), a.path);
    // The snapshot script is collect.sh byte for byte (its own golden is compiler/snapshot/collect.sh).
    t.is(arts.find((a) => a.path === 'qubes/snapshot.sh')?.contents, collectText);
    expectGoldenArtifacts(t, path.join(root, 'test/golden/targets/provision', name), { example: `examples/${file}`, note: 'inputs: hand-made' }, arts.filter((a) => a.path !== 'qubes/snapshot.sh'));
  });

  test(`deterministic: examples/${file} emits the same bytes for shuffled inputs`, (t) => {
    const model = modelOf(`examples/${file}`);
    const inputs = handMadeInputs(model);
    const a = provisionTarget.emit(model, inputs);
    const b = provisionTarget.emit(model, [...inputs].reverse());
    t.deepEqual(a, b);
  });

  // Syntax and lint of the script, with the inputs compile would pass
  // (the real targets' output once they exist) and with hand-made ones.
  for (const kind of ['hand-made', 'compiled'] as const) {
    toolTest(`shellcheck, sh -n, dash -n: provision.sh, the Salt helper and the reload scripts of examples/${file} (${kind} inputs)`, ['shellcheck', 'sh'], async (t) => {
      const model = modelOf(`examples/${file}`);
      const inputs = kind === 'hand-made' ? handMadeInputs(model) : (await inputsFor(model)).inputs;
      const arts = provisionTarget.emit(model, inputs);
      // provision.sh, and the helper the Salt states install and run (inside qpc.sls).
      const sls = parse(byPath(arts, 'qubes/salt/qpc.sls')) as Record<string, Record<string, Record<string, unknown>[]>>;
      const helper = String(sls['qpc-own:helper']?.['file.managed'].find((x) => 'contents' in x)?.contents);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
      try {
        const reloads = arts.filter((a) => a.path.startsWith('qubes/reload/')).map((a) => [`reload-${path.basename(a.path)}`, a.contents]);
        if (kind === 'compiled') t.true(reloads.length > 0, 'the Tor gateways have reload scripts');
        for (const [name, script] of [['provision.sh', byPath(arts, 'qubes/provision.sh')], ['qpc-own.sh', helper], ...reloads]) {
          const f = path.join(dir, name);
          writeFileSync(f, script);
          const sc = run('shellcheck', ['--shell=sh', '--severity=style', f]);
          t.is(sc.status, 0, name + ': ' + sc.stdout + sc.stderr);
          const sh = run('sh', ['-n', f]);
          t.is(sh.status, 0, sh.stderr);
          if (haveTool('dash')) {
            const dash = run('dash', ['-n', f]);
            t.is(dash.status, 0, dash.stderr);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test(`salt: qpc.sls of examples/${file} uses only qvm.vm keys of the reference and carries every qube, pref and tag`, (t) => {
    const model = modelOf(`examples/${file}`);
    const inputs = handMadeInputs(model);
    const arts = provisionTarget.emit(model, inputs);
    const sls = parse(byPath(arts, 'qubes/salt/qpc.sls')) as Record<string, Record<string, unknown[]>>;
    for (const [id, body] of Object.entries(sls)) {
      const fns = Object.keys(body);
      t.is(fns.length, 1, id);
      if (fns[0] === 'test.fail_without_changes') {
        const keys = body[fns[0]].map((x) => Object.keys(x as object)[0]);
        t.deepEqual(keys, ['name', 'unless'], id);
        continue;
      }
      if (fns[0] === 'cmd.run') {
        const keys = body[fns[0]].map((x) => Object.keys(x as object)[0]);
        t.deepEqual(keys.filter((k) => !['name', 'unless', 'stateful', 'require'].includes(k)), [], id);
        continue;
      }
      if (fns[0] === 'file.managed') {
        const keys = body['file.managed'].map((x) => Object.keys(x as object)[0]);
        t.deepEqual(keys.filter((k) => !['name', 'contents', 'user', 'group', 'mode', 'makedirs', 'check_cmd', 'require'].includes(k)), [], id);
        continue;
      }
      t.is(fns[0], 'qvm.vm', id);
      for (const item of body['qvm.vm']) {
        const [key] = Object.keys(item as object);
        t.true(qvmVmKeys.includes(key), `${id}: qvm.vm key ${key}`);
        const list = (item as Record<string, unknown[]>)[key];
        if (key === 'present') for (const p of list) t.true(presentKeys.includes(Object.keys(p as object)[0]), `${id}: present key`);
        if (key === 'prefs') for (const p of list) t.true(saltPrefKeys.includes(Object.keys(p as object)[0]), `${id}: prefs key ${Object.keys(p as object)[0]}`);
        if (key === 'tags') for (const p of list) t.true(['add', 'del'].includes(Object.keys(p as object)[0]));
        if (key === 'features') for (const p of list) t.true(['enable', 'disable', 'default', 'set'].includes(Object.keys(p as object)[0]));
        if (key === 'service') for (const p of list) t.true(['enable', 'disable', 'default'].includes(Object.keys(p as object)[0]));
      }
    }
    for (const q of model.qubes) {
      if (q.klass === 'AdminVM' && q.tags.length === 0) continue;
      const state = sls[q.name]?.['qvm.vm'] as Record<string, unknown[]>[] | undefined;
      t.truthy(state, `qube ${q.name} has a state`);
      if (!state) continue;
      const get = (k: string): unknown[] => (state.find((x) => k in x)?.[k] ?? []) as unknown[];
      const prefs = Object.assign({}, ...(get('prefs') as object[])) as Record<string, unknown>;
      for (const p of prefsOf(q, model)) {
        const expected = p.value === 'True' ? true : p.value === 'False' ? false : /^(memory|maxmem|vcpus)$/.test(p.name) ? Number(p.value) : p.value;
        t.deepEqual(prefs[p.name.replace(/_/g, '-')], expected, `${q.name} ${p.name}`);
      }
      const tags = (get('tags')[0] as { add?: string[] } | undefined)?.add ?? [];
      t.deepEqual(tags, [...q.tags], `${q.name} tags`);
      t.is(get('present').length > 0, !q.preexisting, `${q.name}: present only for qubes qpc creates`);
    }
    for (const f of model.policyFiles) {
      const st = sls[`/etc/qubes/policy.d/${f.name}.policy`]?.['file.managed'] as Record<string, unknown>[] | undefined;
      t.truthy(st);
      const input = inputs.find((i) => i.path === `qubes/policy.d/${f.name}.policy`);
      t.is(st?.find((x) => 'contents' in x)?.contents, input?.contents);
    }
    const top = parse(byPath(arts, 'qubes/salt/qpc.top'));
    t.deepEqual(top, { base: { dom0: ['qpc'] } });
  });
}

/** The TemplateVM at the end of a qube's template chain (a named disposable's template is a disposable template). */
function templateVmOf(model: PolicyModel, name: string | undefined): ModelQube | undefined {
  for (let i = 0; name !== undefined && i < 4; i++) {
    const q = model.qubes.find((x) => x.name === name);
    if (!q || q.klass === 'TemplateVM') return q;
    name = q.template;
  }
  return undefined;
}

/** What provisioning must find on the machine: Tor gateways' gateway templates, Tor identities' workstation templates. */
function expectedMarkers(model: PolicyModel): string[] {
  const out = new Set<string>();
  const tor = new Set(model.identities.filter((i) => i.mode === 'tor').map((i) => i.name));
  for (const q of model.qubes) {
    const t = templateVmOf(model, q.template);
    if (q.torGateway && t?.whonixRole === 'gateway') out.add(`${t.name} whonix-gw`);
    if (q.identity !== undefined && tor.has(q.identity) && t?.whonixRole === 'workstation') out.add(`${t.name} whonix-ws`);
  }
  return [...out].sort();
}

for (const file of examples) {
  test(`default_dispvm: provision.sh and the Salt states of examples/${file} write, for every qube but dom0, the system info's value`, (t) => {
    const model = modelOf(`examples/${file}`);
    const arts = provisionTarget.emit(model, handMadeInputs(model));
    const script = byPath(arts, 'qubes/provision.sh');
    const sls = parse(byPath(arts, 'qubes/salt/qpc.sls')) as Record<string, Record<string, Record<string, unknown[]>[]>>;
    let checked = 0;
    for (const q of model.qubes) {
      const info = model.systemInfo.domains.get(q.name);
      t.truthy(info, `${q.name} is in the system info`);
      if (q.klass === 'AdminVM' || !info) continue;
      const want = info.defaultDispvm ?? '';
      const lines = script.split('\n').filter((l) => l.startsWith(`pref '${q.name}' 'default_dispvm' `));
      t.deepEqual(lines, [`pref '${q.name}' 'default_dispvm' '${want}'`], `${q.name}: provision.sh`);
      const prefs = Object.assign({}, ...((sls[q.name]?.['qvm.vm'] ?? []).find((x) => 'prefs' in x)?.prefs ?? [])) as Record<string, unknown>;
      t.is(prefs['default-dispvm'], want, `${q.name}: qpc.sls`);
      checked++;
    }
    t.is(checked, model.qubes.filter((q) => q.klass !== 'AdminVM').length);
  });

  test(`salt: every state of examples/${file} requires the checks of Whonix's marker features`, (t) => {
    const model = modelOf(`examples/${file}`);
    const sls = parse(byPath(provisionTarget.emit(model, handMadeInputs(model)), 'qubes/salt/qpc.sls')) as Record<string, Record<string, Record<string, unknown>[]>>;
    const checks = Object.entries(sls).filter(([, body]) => 'test.fail_without_changes' in body);
    const found = checks.map(([, body]) => {
      const unless = String(body['test.fail_without_changes'].find((x) => 'unless' in x)?.unless);
      const m = /^\[ "\$\(qvm-features '([^']+)' '(whonix-gw|whonix-ws)'\)" = 1 \]$/.exec(unless);
      t.truthy(m, unless);
      return m ? `${m[1]} ${m[2]}` : '';
    });
    t.deepEqual(found.sort(), expectedMarkers(model));
    t.true(found.length > 0, 'every example has a Tor gateway');
    for (const [id, body] of Object.entries(sls)) {
      if ('test.fail_without_changes' in body) continue;
      const [fn] = Object.keys(body);
      const require = (body[fn].find((x) => 'require' in x)?.require ?? []) as Record<string, string>[];
      for (const [checkId] of checks) t.true(require.some((r) => r.test === checkId), `${id} requires ${checkId}`);
    }
  });
}

test('salt: the key allow-list check fails on a misspelt qvm.vm key', (t) => {
  // The allow-list is the reference's (§3.3); a snake_case prefs key from
  // qvm-prefs would be accepted by Salt too, but dashes are what we promise.
  t.false(saltPrefKeys.includes('provides_network'));
  t.false(qvmVmKeys.includes('prefs_'));
  t.true(saltPrefKeys.includes('default-dispvm'));
});

toolTest('shellcheck rejects a broken variant of the script (the lint test can fail)', ['shellcheck'], (t) => {
  const model = modelOf(`examples/${examples[0]}`);
  const script = byPath(provisionTarget.emit(model, handMadeInputs(model)), 'qubes/provision.sh');
  const broken = script.replace(`pref 'sys-net' 'netvm' ''`, 'pref sys-net netvm $NETVM');
  t.not(broken, script);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const f = path.join(dir, 'provision.sh');
    writeFileSync(f, broken);
    t.not(run('shellcheck', ['--shell=sh', '--severity=style', f]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- stock files: provision.sh and the Salt states check them first

toolTest('stock files: provision.sh checks each before it looks at a qube, and every Salt state requires a check that fails unless the sha256 matches', ['sh', 'sha256sum'], async (t) => {
  const fixtures = path.join(root, 'test/fixtures/qubes-dom0/policy.d');
  const digest = sha256(readFileSync(path.join(fixtures, '50-config-filecopy.policy'), 'utf8'));
  const other = 'a'.repeat(64);
  const checked = await modelOfText(
    [
      'use "qubes"',
      'template debian-12-xfce',
      'amend sys-net { template debian-12-xfce }',
      'amend sys-firewall { template debian-12-xfce }',
      'identity work { network clearnet via sys-firewall; label blue }',
      'qube work-web in work { template debian-12-xfce }',
      `policy-file 50-config-filecopy stock sha256 "${digest}" { ask qubes.Filecopy from @anyvm to @anyvm }`,
      `policy-file 40-other stock sha256 "${other}" for 4.3 {}`,
      '',
    ].join('\n'),
  );
  t.truthy(checked.model, checked.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const model = checked.model!;
  t.deepEqual(provisionTarget.check(model), []);
  const arts = provisionTarget.emit(model, handMadeInputs(model));

  const lines = byPath(arts, 'qubes/provision.sh').split('\n');
  const at = lines.indexOf(`stock_file '50-config-filecopy' '${digest}'`);
  t.true(at > 0, 'the stock file is checked');
  t.false(lines.some((l) => l.includes('40-other')), 'a stock file of another release is not');
  t.true(lines.reduce((last, l, i) => (l.startsWith('verify ') ? i : last), -1) < at, 'after the artifacts');
  t.true(at < lines.findIndex((l) => /^(need|create) /.test(l)), 'before any qube is looked at');

  const sls = parse(byPath(arts, 'qubes/salt/qpc.sls')) as Record<string, Record<string, Record<string, unknown>[]>>;
  const id = stockStateId('50-config-filecopy');
  t.is(Object.keys(sls)[0], id, 'the check comes first');
  const check = sls[id]['test.fail_without_changes'];
  t.deepEqual(check.map((x) => Object.keys(x)[0]), ['name', 'unless']);
  t.regex(String(check[0].name), /50-config-filecopy\.policy/);
  const unless = String(check[1].unless);
  t.is(unless, `echo '${digest}  /etc/qubes/policy.d/50-config-filecopy.policy' | sha256sum --check --status`);
  t.false(Object.keys(sls).some((k) => k.includes('40-other')));
  for (const [state, body] of Object.entries(sls)) {
    if (state === id) continue;
    const [fn] = Object.keys(body);
    const require = (body[fn].find((x) => 'require' in x)?.require ?? []) as Record<string, string>[];
    t.true(require.some((r) => r.test === id), `${state} requires ${id}`);
  }
  // The condition is a real check: true for the file with that digest only.
  const inFixtures = (cmd: string): number | null => run('sh', ['-c', cmd.replace('/etc/qubes/policy.d', fixtures)]).status;
  t.is(inFixtures(unless), 0);
  t.not(inFixtures(unless.replace(digest, other)), 0);
  t.not(inFixtures(unless.replace('50-config-filecopy', '51-missing')), 0);

  // A value outside the allow-lists never reaches the script (a bug elsewhere in qpc).
  const bad = { ...model, verifiedStock: [{ ...model.verifiedStock[0], sha256: `${digest}' ; rm -rf / #` }] };
  t.deepEqual(provisionTarget.check(bad).map((d) => d.code), ['QP4002']);
});

test('salt: both files name the YAML renderer on their first line, so a Jinja payload in a file name stays a comment', async (t) => {
  const text = 'use "qubes"\ntemplate deb\nidentity w { network none; label red }\nqube a in w { template deb }\n';
  const { overlayHost } = await import('../../../../compiler/host.js');
  const { check } = await import('../../../../compiler/index.js');
  const hostile = 'p{% if x is not defined %}\ncmd.run: [name: qvm-prefs a netvm sys-firewall]{% endif %}{{ 7 * 7 }}#.qpol';
  const states = (entry: string) => {
    const r = check(entry, { host: overlayHost(new Map([[entry, text]])) });
    const arts = provisionTarget.emit(r.model!, handMadeInputs(r.model!));
    return { sls: byPath(arts, 'qubes/salt/qpc.sls'), top: byPath(arts, 'qubes/salt/qpc.top') };
  };
  const bad = states(hostile);
  const good = states('p.qpol');
  for (const f of [bad.sls, bad.top]) t.is(f.split('\n')[0], '#!yaml');
  t.deepEqual(parse(bad.sls), parse(good.sls), 'the same states whatever the file is called');
  t.deepEqual(parse(bad.top), parse(good.top));
  t.false(bad.sls.split('\n').some((l) => l.startsWith('cmd.run')), 'no line of the payload stands on its own');
});

// Debian's python3-jinja2 (which .ci/run installs), run by the system Python.
const jinja = ['/usr/bin/python3', '/usr/lib/python3/dist-packages/jinja2/__init__.py'];
toolTest('salt: rendered by Jinja as Salt renders by default, the states of a file named with a Jinja payload are still exactly the YAML qpc wrote', jinja, async (t) => {
  const text = 'use "qubes"\ntemplate deb\nidentity w { network none; label red }\nqube a in w { template deb }\nallow qubes.Gpg from a to a\n';
  const { overlayHost } = await import('../../../../compiler/host.js');
  const { check } = await import('../../../../compiler/index.js');
  const entry = 'p{% if x is not defined %}{{ 7 * 7 }}{# c #}{% endif %}.qpol';
  const r = check(entry, { host: overlayHost(new Map([[entry, text]])) });
  const { inputs } = await inputsFor(r.model!);
  const arts = provisionTarget.emit(r.model!, inputs);
  const render = 'import sys, jinja2; sys.stdout.write(jinja2.Environment().from_string(sys.stdin.read()).render())';
  for (const file of ['qubes/salt/qpc.sls', 'qubes/salt/qpc.top']) {
    const written = byPath(arts, file);
    const rendered = run('/usr/bin/python3', ['-c', render], { input: written });
    t.is(rendered.status, 0, rendered.stderr);
    t.deepEqual(parse(rendered.stdout), parse(written), `${file}: Jinja finds nothing to render`);
    t.false(/[{}]/.test(written.split('\n').filter((l) => l.includes('generated by qpc')).join('\n')), `${file}: no brace of the file name in a header`);
  }
});
