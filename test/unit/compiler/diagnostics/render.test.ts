/**
 * `--error-format`: the names it accepts and the renderer each picks; the
 * renderers' own output is their tests' business, so this checks dispatch
 * and the options each one is given.
 */
import test from 'ava';
import { errorFormats, isErrorFormat, render } from '../../../../compiler/diagnostics/render.js';
import { diag } from '../../../../compiler/diagnostics/diagnostic.js';
import { renderGcc } from '../../../../compiler/diagnostics/render-gcc.js';
import { renderJson } from '../../../../compiler/diagnostics/render-json.js';
import { renderSarif } from '../../../../compiler/diagnostics/render-sarif.js';
import { renderHuman, renderPlain } from '../../../../compiler/diagnostics/render-text.js';
import { SourceFile } from '../../../../compiler/source.js';

const src = new SourceFile('p.qpol', 'qube work-web in wrok\n');
const sources = new Map([[src.path, src]]);
const diags = [diag('QP2001', src.span(17, 21), { what: 'identity', name: 'wrok' }, { help: 'did you mean `work`?' })];
const opts = { color: false, toolVersion: '9.8.7' };

test('the five formats, and only those', (t) => {
  t.deepEqual([...errorFormats], ['human', 'plain', 'json', 'gcc', 'sarif']);
  for (const f of errorFormats) t.true(isErrorFormat(f));
  for (const f of ['', 'Human', 'text', 'sarif ', 'toString', 'constructor']) t.false(isErrorFormat(f), f);
});

test('each format picks its renderer', (t) => {
  t.is(render('human', diags, sources, opts), renderHuman(diags, sources, { color: false }));
  t.is(render('plain', diags, sources, opts), renderPlain(diags, sources));
  t.is(render('json', diags, sources, opts), renderJson(diags));
  t.is(render('gcc', diags, sources, opts), renderGcc(diags));
  t.is(render('sarif', diags, sources, opts), renderSarif(diags, { toolVersion: '9.8.7' }));
  // Without colour `human` is `plain`; the other three differ from it and from each other.
  t.is(new Set(errorFormats.map((f) => render(f, diags, sources, opts))).size, errorFormats.length - 1);
});

test('colour reaches the human renderer only', (t) => {
  const colored = { ...opts, color: true };
  t.not(render('human', diags, sources, colored), render('plain', diags, sources, colored));
  t.regex(render('human', diags, sources, colored), /\x1b\[/);
  for (const f of ['plain', 'json', 'gcc', 'sarif'] as const) t.notRegex(render(f, diags, sources, colored), /\x1b\[/, f);
});

test('SARIF records the tool version and the base directory it is given', (t) => {
  const log = JSON.parse(render('sarif', diags, sources, { ...opts, baseDir: '/srv/policy' })) as { runs: { tool: { driver: { version: string } }; originalUriBaseIds?: Record<string, { uri: string }> }[] };
  t.is(log.runs[0]!.tool.driver.version, '9.8.7');
  t.is(render('sarif', diags, sources, { ...opts, baseDir: '/srv/policy' }), renderSarif(diags, { toolVersion: '9.8.7', baseDir: '/srv/policy' }));
  t.not(render('sarif', diags, sources, { ...opts, baseDir: '/srv/policy' }), render('sarif', diags, sources, opts));
});

test('no diagnostics: nothing for the text formats, an empty log for json and sarif', (t) => {
  for (const f of ['human', 'plain', 'gcc'] as const) t.is(render(f, [], sources, opts), '', f);
  t.deepEqual(JSON.parse(render('json', [], sources, opts)), JSON.parse(renderJson([])));
  const sarif = JSON.parse(render('sarif', [], sources, opts)) as { runs: { results: unknown[] }[] };
  t.deepEqual(sarif.runs[0]!.results, []);
});
