/**
 * `qpc graph` on every example: the DOT is a golden file (the spec of the
 * drawing), the SVG that Graphviz (WebAssembly) lays out is well-formed XML
 * (xmllint) with a group for every node and edge of the drawing, and the
 * journalist's SVG renders to a PNG of sane size (resvg).
 */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { check, drawInput, drawModel, renderDot, renderJson, dotToSvg, graph, type DrawOptions } from '../../compiler/index.js';
import { expectGolden } from '../helpers/golden.js';
import { run, toolTest } from '../helpers/tools.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.qpol')).sort();
const dir = 'test/golden/graph';

function drawn(file: string, opts: DrawOptions = {}) {
  const r = check(path.join('examples', file));
  if (!r.policy) throw new Error(`${file}: no evaluated policy`);
  const model = drawModel(drawInput(r.policy, { ...(r.graph ? { graph: r.graph } : {}), findings: r.diagnostics }), opts);
  return { model, dot: renderDot(model, path.basename(file, '.qpol')) };
}

for (const file of examples) {
  const name = path.basename(file, '.qpol');
  test(`DOT of ${name}`, (t) => {
    expectGolden(t, path.join(dir, `${name}.dot`), drawn(file).dot);
  });

  toolTest(`SVG of ${name} is XML with every node and edge id`, ['xmllint'], async (t) => {
    const { model, dot } = drawn(file);
    const svg = await dotToSvg(dot);
    const tmp = mkdtempSync(path.join(tmpdir(), 'qpc-graph-'));
    try {
      const f = path.join(tmp, `${name}.svg`);
      writeFileSync(f, svg);
      const lint = run('xmllint', ['--noout', f]);
      t.is(lint.status, 0, lint.stderr);
      const ids = run('xmllint', ['--xpath', '//*[local-name()="g"]/@id', f]);
      t.is(ids.status, 0, ids.stderr);
      const found = new Set([...ids.stdout.matchAll(/id="([^"]*)"/g)].map((m) => m[1].replaceAll('&gt;', '>').replaceAll('&amp;', '&')));
      const expected = [...model.nodes.map((n) => `node:${n.id}`), ...model.edges.map((e) => `edge:${e.id}`), ...model.clusters.map((c) => c.id)];
      t.true(expected.length > 0);
      t.deepEqual(expected.filter((id) => !found.has(id)), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('journalist, channels at identity level, as DOT and JSON', (t) => {
  const { model, dot } = drawn('journalist.qpol', { view: 'channels', collapse: true });
  expectGolden(t, path.join(dir, 'journalist-channels-collapsed.dot'), dot);
  expectGolden(t, path.join(dir, 'journalist-channels-collapsed.json'), renderJson(model));
});

test('graph() writes the same DOT as the drawing, and an SVG by default', async (t) => {
  const dot = await graph('examples/journalist.qpol', { format: 'dot', title: 'journalist' });
  t.is(dot.text, drawn('journalist.qpol').dot);
  const svg = await graph('examples/journalist.qpol');
  t.regex(svg.text ?? '', /^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
});

test("the journalist's SVG renders to a PNG of sane size", async (t) => {
  const svg = await dotToSvg(drawn('journalist.qpol').dot);
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render();
  const bytes = png.asPng();
  t.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  t.true(png.width >= 400 && png.width <= 8000, `width ${png.width}`);
  t.true(png.height >= 200 && png.height <= 8000, `height ${png.height}`);
  t.true(bytes.length > 10_000, `${bytes.length} bytes`);
  // Not blank: some pixels are far from white.
  const pixels = png.pixels;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) dark++;
  t.true(dark > 1000, `${dark} dark pixels`);
});
