import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Workspace } from '../../../../compiler/lsp/workspace.js';
import { graphCommand, GRAPH_COMMAND } from '../../../../compiler/lsp/graph-command.js';

const file = path.resolve('examples/journalist.qpol');
const uri = pathToFileURL(file).href;

function open(text: string): Workspace {
  const ws = new Workspace({ debounceMs: 1_000_000 });
  ws.didOpen({ textDocument: { uri, languageId: 'qpol', version: 1, text } });
  return ws;
}

test('qpc.graph answers the SVG of the open document, unsaved text included', async (t) => {
  t.is(GRAPH_COMMAND, 'qpc.graph');
  const text = readFileSync(file, 'utf8') + '\nqube extra-qube in work {\n  template debian-12-xfce\n}\n';
  const ws = open(text);
  const a = await graphCommand(ws, [uri]);
  ws.stop();
  if (!('text' in a)) return t.fail(a.error);
  t.is(a.format, 'svg');
  t.regex(a.text, /<svg[\s\S]*id="node:extra&#45;qube"[\s\S]*<\/svg>/);
});

test('qpc.graph takes the options of qpc graph', async (t) => {
  const ws = open(readFileSync(file, 'utf8'));
  const a = await graphCommand(ws, [uri, { format: 'dot', view: 'network' }]);
  ws.stop();
  if (!('text' in a)) return t.fail(a.error);
  t.is(a.format, 'dot');
  t.regex(a.text, /^digraph "journalist"/);
  t.notRegex(a.text, /edge:channel:/);
});

test('qpc.graph says why there is nothing to draw', async (t) => {
  const ws = open('qube broken {\n  template no-such-template\n}\n');
  const a = await graphCommand(ws, [uri]);
  ws.stop();
  t.true('error' in a);
  t.deepEqual(await graphCommand(ws, []), { error: '`qpc.graph` takes the URI of an open document' });
});
