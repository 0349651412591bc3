/**
 * `compile` and the output directory, over a small table of test targets:
 * target selection, fail-closed behaviour, the manifest, atomic replacement
 * (an injected failure midway leaves the old set) and `--check` drift.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileWith } from '../../../compiler/index.js';
import { overlayHost } from '../../../compiler/host.js';
import { diag } from '../../../compiler/diagnostics/diagnostic.js';
import { manifestText, selectTargets } from '../../../compiler/compile.js';
import { sha256 } from '../../../compiler/hash.js';
import { diffOutput, nodeOutputFs, writeOutput, type OutputFs } from '../../../compiler/cli/output.js';
import type { Artifact, Target } from '../../../compiler/target.js';

const policy = `use "qubes"
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
identity work {
  network clearnet via sys-firewall
  label blue
}
qube work-web in work { template debian-12-xfce }
qube work-mail in work { template debian-12-xfce }
`;

const host = (text = policy) => overlayHost(new Map([['p.qpol', text]]));

const names: Target = {
  name: 'names',
  summary: 'one file per qube',
  check: () => [],
  emit: (m) => m.qubes.filter((q) => q.identity).map((q) => ({ path: `names/${q.name}.txt`, contents: `${q.name} ${q.ip}\n` })),
};
const listing: Target = {
  name: 'listing',
  summary: 'lists what `names` wrote',
  requires: ['names'],
  check: () => [],
  emit: (_m, inputs) => [{ path: 'listing.txt', contents: inputs.map((a) => a.path).join('\n') + '\n', executable: true }],
};
const picky: Target = {
  name: 'picky',
  summary: 'refuses every qube called work-web',
  check: (m) => m.qubes.filter((q) => q.name === 'work-web').map((q) => diag('QP4001', q.span, { target: 'picky', what: 'a qube called work-web' })),
  emit: () => [{ path: 'picky.txt', contents: 'x\n' }],
};
const registry = [names, listing, picky];

test('selecting targets pulls in what they require, in registry order', (t) => {
  t.deepEqual((selectTargets(registry, ['listing']) as Target[]).map((x) => x.name), ['names', 'listing']);
  t.deepEqual((selectTargets(registry, undefined) as Target[]).map((x) => x.name), ['names', 'listing', 'picky']);
  t.regex(selectTargets(registry, ['nope']) as string, /unknown target `nope`; expected names, listing, picky/);
});

test('compile returns every artifact in path order with a manifest of their hashes', (t) => {
  const r = compileWith('p.qpol', registry, { host: host(), targets: ['listing'] });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const paths = r.artifacts!.map((a) => a.path);
  t.deepEqual(paths, ['listing.txt', 'manifest.json', 'names/work-mail.txt', 'names/work-web.txt']);
  t.is(r.artifacts![0].contents, 'names/work-mail.txt\nnames/work-web.txt\n', 'a target receives the artifacts of the targets it requires');
  const manifest = JSON.parse(r.artifacts![1].contents) as { qpc: string; sources: { path: string; sha256: string }[]; artifacts: { path: string; sha256: string }[] };
  t.deepEqual(manifest.artifacts.map((a) => a.path), ['listing.txt', 'names/work-mail.txt', 'names/work-web.txt']);
  t.is(manifest.artifacts[0].sha256, sha256(r.artifacts![0].contents));
  t.deepEqual(manifest.sources.map((s) => s.path), ['p.qpol', 'policies/qubes-policy.qpol', 'policies/qubes.qpol']);
  t.is(manifest.sources[0].sha256, sha256(policy));
});

test('the manifest has one entry per line, which provision.sh reads with sed', (t) => {
  const text = manifestText([{ path: 'a.qpol', sha256: 'f'.repeat(64) }], [{ path: 'x/y', contents: 'z\n' }]);
  t.is(text, `{\n  "qpc": "0.1.0",\n  "sources": [\n    { "path": "a.qpol", "sha256": "${'f'.repeat(64)}" }\n  ],\n  "artifacts": [\n    { "path": "x/y", "sha256": "${sha256('z\n')}" }\n  ]\n}\n`);
  t.notThrows(() => JSON.parse(manifestText([], [])));
});

test('nothing is compiled when a target cannot express the policy, nor when the check fails', (t) => {
  const r = compileWith('p.qpol', registry, { host: host() });
  t.is(r.artifacts, undefined);
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['QP4001']);
  const bad = compileWith('p.qpol', registry, { host: host(policy + 'qube broken in nowhere {}\n'), targets: ['names'] });
  t.is(bad.artifacts, undefined);
  t.true(bad.diagnostics.some((d) => d.code === 'QP2001'));
});

test('compile output does not depend on declaration order', (t) => {
  const lines = policy.split('\n');
  const swapped = [...lines.slice(0, 8), lines[9], lines[8], ...lines.slice(10)].join('\n');
  t.not(swapped, policy);
  const a = compileWith('p.qpol', registry, { host: host(), targets: ['listing'] }).artifacts!;
  const b = compileWith('p.qpol', registry, { host: host(swapped), targets: ['listing'] }).artifacts!;
  t.deepEqual(
    a.filter((x) => x.path !== 'manifest.json'),
    b.filter((x) => x.path !== 'manifest.json'),
  );
});

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'qpc-out-'));
}

const artifacts: Artifact[] = [
  { path: 'manifest.json', contents: '{ "qpc": "0.1.0", "sources": [], "artifacts": [] }\n' },
  { path: 'a/b.txt', contents: 'new b\n' },
  { path: 'run.sh', contents: '#!/bin/sh\n', executable: true },
];

test('the output directory is written whole, with modes', (t) => {
  const root = tempDir();
  const out = path.join(root, 'out');
  writeOutput(nodeOutputFs, out, artifacts);
  t.is(readFileSync(path.join(out, 'a/b.txt'), 'utf8'), 'new b\n');
  t.true(nodeOutputFs.isExecutable(path.join(out, 'run.sh')));
  t.false(nodeOutputFs.isExecutable(path.join(out, 'a/b.txt')));
  t.deepEqual(diffOutput(nodeOutputFs, out, artifacts), []);
  t.deepEqual(readdirSync(root), ['.out.qpc', 'out'], 'beside out only the directory of its sets');
  t.is(readdirSync(path.join(root, '.out.qpc')).length, 1, 'one set, the current one: no temporary directory is left behind');
  rmSync(root, { recursive: true });
});

test('a failure midway leaves the previous output complete and untouched', (t) => {
  const root = tempDir();
  const out = path.join(root, 'out');
  const old: Artifact[] = [{ path: 'manifest.json', contents: '{ "qpc": "0.1.0", "artifacts": [] }\n' }, { path: 'a/b.txt', contents: 'old b\n' }, { path: 'old-only.txt', contents: 'o\n' }];
  writeOutput(nodeOutputFs, out, old);
  let writes = 0;
  const failing: OutputFs = {
    ...nodeOutputFs,
    writeFile: (p, text, x) => {
      if (++writes === 2) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      nodeOutputFs.writeFile(p, text, x);
    },
  };
  t.throws(() => writeOutput(failing, out, artifacts), { message: /no space/ });
  t.deepEqual(diffOutput(nodeOutputFs, out, old), [], 'the old set is still there, byte for byte');
  t.deepEqual(readdirSync(root), ['.out.qpc', 'out']);
  t.is(readdirSync(path.join(root, '.out.qpc')).length, 1, 'the half-written set is removed');
  // A failure of the final swap also keeps the old set.
  const swapFails: OutputFs = { ...nodeOutputFs, rename: (a, b) => (b === out ? (() => { throw new Error('rename failed'); })() : nodeOutputFs.rename(a, b)) };
  t.throws(() => writeOutput(swapFails, out, artifacts), { message: /rename failed/ });
  t.deepEqual(diffOutput(nodeOutputFs, out, old), []);
  rmSync(root, { recursive: true });
});

test('a directory that is not a qpc output is never replaced', (t) => {
  const root = tempDir();
  const mine = path.join(root, 'home');
  mkdirSync(mine);
  writeFileSync(path.join(mine, 'thesis.tex'), 'precious\n');
  t.throws(() => writeOutput(nodeOutputFs, mine, artifacts), { message: /not a qpc output directory/ });
  t.is(readFileSync(path.join(mine, 'thesis.tex'), 'utf8'), 'precious\n');
  writeFileSync(path.join(mine, 'manifest.json'), '{"name": "some other tool"}');
  t.throws(() => writeOutput(nodeOutputFs, mine, artifacts), { message: /not written by qpc/ });
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  writeOutput(nodeOutputFs, empty, artifacts);
  t.true(existsSync(path.join(empty, 'run.sh')));
  rmSync(root, { recursive: true });
});

test('drift: missing, changed, extra and mode changes are each reported', (t) => {
  const root = tempDir();
  const out = path.join(root, 'out');
  writeOutput(nodeOutputFs, out, artifacts);
  writeFileSync(path.join(out, 'a/b.txt'), 'edited by hand\n');
  writeFileSync(path.join(out, 'stray.txt'), 'x\n');
  nodeOutputFs.writeFile(path.join(out, 'run.sh'), '#!/bin/sh\n', false);
  rmSync(path.join(out, 'manifest.json'));
  t.deepEqual(diffOutput(nodeOutputFs, out, artifacts), [
    { path: `${out}/manifest.json`, change: 'is missing' },
    { path: `${out}/a/b.txt`, change: 'differs from what qpc would write' },
    { path: `${out}/run.sh`, change: 'should be executable' },
    { path: `${out}/stray.txt`, change: 'is not an artifact qpc writes' },
  ]);
  t.deepEqual(diffOutput(nodeOutputFs, path.join(root, 'none'), artifacts), [{ path: path.join(root, 'none'), change: 'does not exist' }]);
  rmSync(root, { recursive: true });
});
