import test from 'ava';
import { SourceFile } from '../../../../compiler/source.js';
import { codes } from '../../../../compiler/diagnostics/codes.js';
import { diag, type Diagnostic } from '../../../../compiler/diagnostics/diagnostic.js';
import { renderSarif, sarifUri } from '../../../../compiler/diagnostics/render-sarif.js';
import { render } from '../../../../compiler/diagnostics/render.js';
import { explain } from '../../../../compiler/diagnostics/explain.js';
import { packageDir, standardLibraryDir } from '../../../../compiler/host.js';
import { sarifSchemaErrors } from '../../../helpers/sarif-schema.js';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const net = new SourceFile('policies\\net.qpol', 'qube sys-vpn {\n  netvm sys-firewal\n}\n');
const qubes = new SourceFile('policies/qubes.qpol', '\n\ngateway sys-firewall {\n}\n');
const LEVELS = ['none', 'note', 'warning', 'error'];

function unknownGateway(): Diagnostic {
  const i = net.text.indexOf('sys-firewal');
  const j = qubes.text.indexOf('sys-firewall');
  return diag('QP2001', net.span(i, i + 11), { what: 'gateway', name: 'sys-firewal' }, {
    help: 'did you mean `sys-firewall`?',
    related: [{ span: qubes.span(j, j + 12), message: '`sys-firewall` is declared here' }],
    fixes: [{ title: 'use `sys-firewall`', edits: [{ span: net.span(i, i + 11), newText: 'sys-firewall' }] }],
  });
}

const unused: Diagnostic = { ...diag('QP2018', net.span(5, 12), { what: 'qube', name: 'sys-vpn' }), waivedBecause: 'spare' };
const unreadable = diag('QP5001', undefined, { path: 'gone.qpol', reason: 'no such file' }, { severity: 'info' });

/** Parsed JSON, looked at loosely. */
type Json = any;

/**
 * What is wrong with a log: what the official SARIF 2.1.0 schema rejects,
 * then the cross-references the schema cannot express (rules and results
 * agree, regions are ordered); empty when the log is fine.
 */
function sarifProblems(log: Json): string[] {
  const p: string[] = sarifSchemaErrors(log).map((e) => `schema ${e}`);
  const isPos = (n: unknown) => Number.isInteger(n) && (n as number) >= 1;
  const checkLocation = (where: string, l: Json) => {
    const uri = l?.physicalLocation?.artifactLocation?.uri;
    if (typeof uri !== 'string' || uri.includes('\\')) p.push(`${where}: bad uri ${uri}`);
    const r = l?.physicalLocation?.region;
    if (!r || ![r.startLine, r.startColumn, r.endLine, r.endColumn].every(isPos)) p.push(`${where}: bad region`);
    else if (r.endLine < r.startLine || (r.endLine === r.startLine && r.endColumn < r.startColumn)) p.push(`${where}: region ends before it starts`);
  };
  if (log?.$schema !== 'https://json.schemastore.org/sarif-2.1.0.json') p.push('$schema');
  if (log?.version !== '2.1.0') p.push('version');
  if (!Array.isArray(log?.runs) || log.runs.length !== 1) return [...p, 'runs'];
  const run = log.runs[0];
  const driver = run.tool?.driver;
  if (driver?.name !== 'qpc') p.push('driver name');
  if (typeof driver?.version !== 'string') p.push('driver version');
  const rules: Json[] = driver?.rules ?? [];
  if (new Set(rules.map((r) => r.id)).size !== rules.length) p.push('duplicate rule ids');
  rules.forEach((r, k) => {
    const spec = (codes as Json)[r.id];
    if (!spec) return p.push(`rule ${k}: unknown id ${r.id}`);
    if (r.name !== spec.slug) p.push(`rule ${r.id}: name`);
    if (r.shortDescription?.text !== spec.summary) p.push(`rule ${r.id}: shortDescription`);
    if (r.fullDescription?.text !== spec.explanation.rationale) p.push(`rule ${r.id}: fullDescription`);
    if (!LEVELS.includes(r.defaultConfiguration?.level)) p.push(`rule ${r.id}: level`);
  });
  if (!Array.isArray(run.results)) return [...p, 'results'];
  run.results.forEach((res: Json, k: number) => {
    if (!rules.some((r) => r.id === res.ruleId)) p.push(`result ${k}: ruleId not among rules`);
    if (res.ruleIndex !== undefined && rules[res.ruleIndex]?.id !== res.ruleId) p.push(`result ${k}: ruleIndex`);
    if (!LEVELS.includes(res.level)) p.push(`result ${k}: level`);
    if (typeof res.message?.text !== 'string' || !res.message.text) p.push(`result ${k}: message`);
    (res.locations ?? []).forEach((l: Json, m: number) => checkLocation(`result ${k} location ${m}`, l));
    (res.relatedLocations ?? []).forEach((l: Json, m: number) => {
      checkLocation(`result ${k} related ${m}`, l);
      if (typeof l.message?.text !== 'string') p.push(`result ${k} related ${m}: message`);
    });
  });
  const used = new Set(run.results.map((r: Json) => r.ruleId));
  for (const r of rules) if (!used.has(r.id)) p.push(`rule ${r.id} unused`);
  return p;
}

test('the log meets the SARIF requirements and lists exactly the codes used', (t) => {
  const text = renderSarif([unknownGateway(), unused, unreadable], { toolVersion: '1.2.3' });
  const log = JSON.parse(text);
  t.deepEqual(sarifProblems(log), []);
  t.deepEqual(
    log.runs[0].tool.driver.rules.map((r: Json) => [r.id, r.name, r.defaultConfiguration.level]),
    [
      ['QP2001', 'unknown-name', 'error'],
      ['QP2018', 'unused-declaration', 'warning'],
      ['QP5001', 'cannot-read', 'error'],
    ],
  );
  t.is(log.runs[0].tool.driver.version, '1.2.3');
  t.is(log.runs[0].columnKind, 'utf16CodeUnits');
  t.deepEqual(
    log.runs[0].results.map((r: Json) => [r.ruleId, r.level]),
    [
      ['QP5001', 'note'],
      ['QP2018', 'warning'],
      ['QP2001', 'error'],
    ],
  );
  t.true(text.endsWith('}\n'));
  t.true(text.startsWith('{\n  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",\n  "version": "2.1.0",\n'));
});

test('the validator itself rejects broken logs', (t) => {
  const log = JSON.parse(renderSarif([unknownGateway()], { toolVersion: '1' }));
  log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = 'a\\b';
  log.runs[0].results[0].locations[0].physicalLocation.region.startColumn = 0;
  log.runs[0].results[0].level = 'info';
  log.runs[0].tool.driver.informationUri = 'not a URI';
  const problems = sarifProblems(log);
  for (const p of ['schema /runs/0/tool/driver/informationUri: must match format "uri"', 'schema /runs/0/results/0/level: must be equal to one of the allowed values', 'result 0: level', 'result 0 location 0: bad uri a\\b', 'result 0 location 0: bad region']) {
    t.true(problems.includes(p), p);
  }
});

test('a result carries message and help, region, related locations, fixes and suppressions', (t) => {
  const log = JSON.parse(renderSarif([unknownGateway(), unused], { toolVersion: '1' }));
  const [waived, unknown] = log.runs[0].results;
  t.deepEqual(unknown, {
    ruleId: 'QP2001',
    ruleIndex: 0,
    level: 'error',
    message: { text: 'unknown gateway `sys-firewal` help: did you mean `sys-firewall`?' },
    locations: [{ physicalLocation: { artifactLocation: { uri: 'policies/net.qpol', uriBaseId: 'SRCROOT' }, region: { startLine: 2, startColumn: 9, endLine: 2, endColumn: 20 } } }],
    relatedLocations: [
      {
        id: 0,
        physicalLocation: { artifactLocation: { uri: 'qubes.qpol', uriBaseId: 'QPCLIB' }, region: { startLine: 3, startColumn: 9, endLine: 3, endColumn: 21 } },
        message: { text: '`sys-firewall` is declared here' },
      },
    ],
    fixes: [
      {
        description: { text: 'use `sys-firewall`' },
        artifactChanges: [
          {
            artifactLocation: { uri: 'policies/net.qpol', uriBaseId: 'SRCROOT' },
            replacements: [{ deletedRegion: { startLine: 2, startColumn: 9, endLine: 2, endColumn: 20 }, insertedContent: { text: 'sys-firewall' } }],
          },
        ],
      },
    ],
  });
  t.deepEqual(waived.suppressions, [{ kind: 'inSource', justification: 'spare' }]);
  t.is(waived.ruleIndex, 1);
});

test('a diagnostic without a span has no locations', (t) => {
  const log = JSON.parse(renderSarif([unreadable], { toolVersion: '1' }));
  t.deepEqual(log.runs[0].results, [{ ruleId: 'QP5001', ruleIndex: 0, level: 'note', message: { text: 'cannot read `gone.qpol`: no such file' } }]);
  t.deepEqual(sarifProblems(log), []);
});

test('an empty log is still valid', (t) => {
  t.is(
    renderSarif([], { toolVersion: '0.1.0' }),
    `{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "version": "2.1.0",
  "runs": [
    {
      "tool": {
        "driver": {
          "name": "qpc",
          "fullName": "qpc, the Qubes-Whonix policy compiler",
          "version": "0.1.0",
          "semanticVersion": "0.1.0",
          "rules": []
        }
      },
      "originalUriBaseIds": {
        "SRCROOT": {
          "description": {
            "text": "The directory qpc ran in: the policy files are relative to it."
          }
        },
        "QPCLIB": {
          "description": {
            "text": "qpc's standard library, as installed."
          }
        }
      },
      "columnKind": "utf16CodeUnits",
      "results": []
    }
  ]
}
`,
  );
});

test('output is deterministic whatever the input order', (t) => {
  const a = renderSarif([unknownGateway(), unused, unreadable], { toolVersion: '1' });
  t.is(renderSarif([unreadable, unused, unknownGateway()], { toolVersion: '1' }), a);
  t.is(render('sarif', [unused, unreadable, unknownGateway()], new Map(), { color: true, toolVersion: '1' }), a);
});

test('paths become URI references with forward slashes', (t) => {
  t.is(sarifUri('policies\\net.qpol'), 'policies/net.qpol');
  t.is(sarifUri('my policies/a#1.qpol'), 'my%20policies/a%231.qpol');
  t.is(sarifUri('/etc/qpc/a.qpol'), 'file:///etc/qpc/a.qpol');
  t.is(sarifUri('C:\\qpc\\a.qpol'), 'file:///C:/qpc/a.qpol');
  t.is(sarifUri('../x:y.qpol'), '../x%3Ay.qpol');
});

test('rules carry the explanation page as help, and helpUri into the installed docs', (t) => {
  const log = JSON.parse(renderSarif([unknownGateway()], { toolVersion: '1', baseDir: '/home/u/policy', packageDir: packageDir() }));
  const [rule] = log.runs[0].tool.driver.rules;
  t.is(rule.help.text, explain('QP2001'));
  t.regex(rule.help.markdown, /^# <a id="QP2001"><\/a>QP2001 `unknown-name`\n/);
  // helpUri is a file of the package, with the code's anchor in it.
  const [file, anchor] = rule.helpUri.split('#');
  t.is(anchor, 'QP2001');
  const docs = fileURLToPath(file);
  t.true(existsSync(docs), docs);
  t.true(readFileSync(docs, 'utf8').includes('<a id="QP2001"></a>'));
  t.true(existsSync(fileURLToPath(log.runs[0].tool.driver.informationUri)));
  t.deepEqual(sarifProblems(log), []);
});

test('files are relative to SRCROOT or QPCLIB, and the bases resolve on this machine', (t) => {
  const lib = standardLibraryDir();
  const lines = new SourceFile('/home/u/policy/net/a.qpol', 'qube a {\n}\n');
  const outside = new SourceFile('/srv/other/b.qpol', 'qube b {\n}\n');
  const mine = new SourceFile('policies/mine.qpol', 'qube c {\n}\n');
  const whonix = new SourceFile('policies/whonix.qpol', 'qube d {\n}\n');
  const ds = [lines, outside, mine, whonix].map((f) => diag('QP2018', f.span(5, 6), { what: 'qube', name: 'x' }));
  const log = JSON.parse(renderSarif(ds, { toolVersion: '1', baseDir: '/home/u/policy', packageDir: packageDir() }));
  const where = log.runs[0].results.map((r: Json) => r.locations[0].physicalLocation.artifactLocation);
  t.deepEqual(
    [...where].sort((a: Json, b: Json) => a.uri.localeCompare(b.uri)),
    [
      { uri: 'file:///srv/other/b.qpol' },
      { uri: 'net/a.qpol', uriBaseId: 'SRCROOT' },
      { uri: 'policies/mine.qpol', uriBaseId: 'SRCROOT' },
      { uri: 'whonix.qpol', uriBaseId: 'QPCLIB' },
    ],
  );
  const bases = log.runs[0].originalUriBaseIds;
  t.is(bases.SRCROOT.uri, 'file:///home/u/policy/');
  t.is(fileURLToPath(new URL('whonix.qpol', bases.QPCLIB.uri)), path.join(lib, 'whonix.qpol'));
  t.true(existsSync(fileURLToPath(new URL('whonix.qpol', bases.QPCLIB.uri))));
  t.deepEqual(sarifProblems(log), []);
});
