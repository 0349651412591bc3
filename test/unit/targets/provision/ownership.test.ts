/**
 * The ownership record (targets/provision/ownership.ts), read as text: where
 * it lives, which properties qpc takes back, and that the shell functions
 * written once here are complete for both users (provision.sh's preamble
 * and the Salt helper), POSIX, and prune every kind of item they record.
 * The functions run on a stand-in dom0 in stale.test.ts.
 */
import test from 'ava';
import type { ModelQube } from '../../../../compiler/model.js';
import { ownershipFunctions, recordName, resettablePrefs, saltHelperName, stateDirectory } from '../../../../targets/provision/ownership.js';
import { prefsOf } from '../../../../targets/provision/plan.js';
import { preambleText } from '../../../../targets/provision/preamble.js';
import { saltHelper } from '../../../../targets/provision/salt.js';
import { modelOf } from './harness.js';

const model = modelOf('examples/journalist.qpol');
const helper = saltHelper(model, { policies: [], deploys: [] });

/** The shell functions a text defines (`name() {` or `name() (` at the start of a line). */
const defined = (text: string) => [...text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\(\) [{(]/gm)].map((m) => m[1]);

test('the record lives in /var/lib/qpc/owned, which QPC_STATE_DIR overrides; the helper beside it', (t) => {
  t.is(stateDirectory, '/var/lib/qpc');
  t.is(recordName, 'owned');
  t.regex(saltHelperName, /^[a-z-]+\.sh$/);
  t.true(ownershipFunctions.startsWith(`state_dir="\${QPC_STATE_DIR:-${stateDirectory}}"\nrecord="$state_dir/${recordName}"\n`));
});

test('the record header is one comment line in single quotes, so every reader skips it', (t) => {
  const m = /^record_header='([^'\n]*)'$/m.exec(ownershipFunctions);
  t.truthy(m, 'quoted on one line, no quote inside');
  t.true(m![1].startsWith('# qpc ownership record, format 1:'));
  // stale_items skips comment lines, finish_record writes the header first.
  t.true(ownershipFunctions.includes('/^#/ || NF == 0'));
});

test('resettablePrefs are properties prefsOf sets when the policy names them, never the ones set on every qube', (t) => {
  const q = model.qubes.find((x) => x.klass === 'AppVM' && !x.preexisting)!;
  const full: ModelQube = { ...q, memory: 500, maxmem: 4000, vcpus: 2, virtMode: 'pvh', kernel: '6.6', kernelopts: 'quiet' };
  const set = prefsOf(full, model).map((p) => p.name);
  for (const p of resettablePrefs) t.true(set.includes(p), p);
  const always = prefsOf({ ...q, memory: undefined, maxmem: undefined, vcpus: undefined, virtMode: undefined, kernel: undefined, kernelopts: undefined }, model).map((p) => p.name);
  for (const p of always) t.false(resettablePrefs.includes(p), `${p} is set on every qube: never stale`);
  t.false(resettablePrefs.includes('label'), 'no Qubes default to return to');
  t.false(resettablePrefs.includes('template'));
  t.is(new Set(resettablePrefs).size, resettablePrefs.length);
});

test('each function is defined once, and every one its users call is defined by them or here', (t) => {
  const own = defined(ownershipFunctions);
  t.is(new Set(own).size, own.length);
  for (const f of ['start_record', 'owned_before', 'own', 'own_tag', 'own_feature', 'own_service', 'own_pref', 'own_device', 'has_device', 'has_device_option', 'stale_items', 'prune_qubes', 'prune_policies', 'finish_record']) {
    t.true(own.includes(f), f);
  }
  // The ownership words the preamble and the Salt helper use.
  const word = /\b(own(?:_[a-z_]+)?|owned_before|has_[a-z_]+|stale_items|prune_[a-z_]+|start_record|finish_record|unassign_device|device_listing|remove_policy)\b(?=[ ;\n)])/g;
  for (const [name, text] of [['preamble.sh', preambleText], ['the Salt helper', helper.replace(ownershipFunctions, '')]] as const) {
    const available = new Set([...own, ...defined(text)]);
    const used = new Set([...text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').matchAll(word)].map((m) => m[1]));
    for (const u of used) t.true(available.has(u), `${name} calls ${u}`);
  }
});

test('the functions need only what their header names from the script around them', (t) => {
  const own = new Set(defined(ownershipFunctions));
  for (const needed of ['say', 'die', 'change', 'exists']) {
    t.false(own.has(needed), `${needed} comes from the script around`);
    t.true(new RegExp(`\\b${needed}\\b`).test(ownershipFunctions), needed);
    t.true(defined(preambleText).includes(needed), `preamble.sh defines ${needed}`);
    t.true(defined(helper).includes(needed), `the Salt helper defines ${needed}`);
  }
  for (const v of ['dry_run', 'policy_dir', 'qubes_release']) t.true(ownershipFunctions.includes(`$${v}`) || ownershipFunctions.includes(`"$${v}"`), v);
  t.true(helper.includes('dry_run=0\n'));
  t.true(helper.includes('qubes_release='));
});

test('POSIX sh only: no bash tests, arrays, locals, function keyword, here-strings or $\'…\'', (t) => {
  const code = ownershipFunctions.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  for (const bashism of [/\[\[/, /\blocal\s/, /^function\s/m, /<<</, /\$'/, /\w+=\(/, /\$\{[A-Za-z_]+\/\//, /\[ [^\]]*==/, /\bsource\s/, /&>/]) {
    t.false(bashism.test(code), String(bashism));
  }
});

test('every kind of item the record holds is pruned by some run: tag, feature, service, pref, device, policy, file', (t) => {
  const all = [ownershipFunctions, preambleText, helper].join('\n');
  const recorded = new Set([...all.matchAll(/\bown(?:_on "\$1")? (?:[01]|"\$\w+"|"\$had") ["']([a-z]+) /g)].map((m) => m[1]));
  t.deepEqual([...recorded].sort(), ['device', 'feature', 'file', 'policy', 'pref', 'service', 'tag']);
  const pruned = new Set([...all.matchAll(/stale_items '?([a-z ]+)'?\)/g)].flatMap((m) => m[1].split(' ')));
  for (const kind of recorded) t.true(pruned.has(kind), `${kind} items are pruned when stale`);
});

test('policy files are pruned only while they hold the bytes qpc installed', (t) => {
  t.true(ownershipFunctions.includes('actual=$(sha256sum < "$dest")'));
  t.regex(ownershipFunctions, /case " \$shas " in\n\s+\*" \$actual "\*\)/);
  t.true(ownershipFunctions.includes("it was changed since; remove it by hand if nobody needs it"));
});
