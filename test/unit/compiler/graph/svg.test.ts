/**
 * DOT to SVG in process (Graphviz as WebAssembly): `qpc graph` needs no
 * system tool. The layout is Graphviz's; what is checked is that the SVG is
 * of the graph given, and that the engine is loaded once.
 */
import test from 'ava';
import { dotToSvg } from '../../../../compiler/graph/svg.js';

test('an SVG document with one group per node and edge of the graph', async (t) => {
  const svg = await dotToSvg('digraph g { "sys-net" -> "sys-firewall" -> "work-web"; "work-web" [label="work web"] }');
  t.regex(svg, /<svg[\s\S]*<\/svg>\s*$/);
  t.is(svg.match(/class="node"/g)?.length, 3);
  t.is(svg.match(/class="edge"/g)?.length, 2);
  t.true(svg.includes('<title>sys&#45;net&#45;&gt;sys&#45;firewall</title>'));
  t.true(svg.includes('>work web</text>'));
});

test('labels are escaped in the SVG', async (t) => {
  const svg = await dotToSvg('digraph { a [label="<&>"] }');
  t.true(svg.includes('&lt;&amp;&gt;'));
  t.false(svg.includes('>' + '<&>' + '<'));
});

test('concurrent first calls share one engine and both answer', async (t) => {
  const [a, b] = await Promise.all([dotToSvg('digraph { x }'), dotToSvg('graph { y -- z }')]);
  t.true(a.includes('<title>x</title>'));
  t.true(b.includes('<title>y&#45;&#45;z</title>'));
});

test('a DOT text with a syntax error is refused', async (t) => {
  await t.throwsAsync(async () => dotToSvg('digraph { a -> }'));
});
