/**
 * The language server's `qpc.graph` command (`workspace/executeCommand`):
 * the drawing of the open document's policy, as `qpc graph` makes it (SVG by
 * default). Arguments: the document's URI, then optionally the options of
 * `qpc graph` as an object (`view`, `services`, `templates`, `collapse`,
 * `format`). The unsaved text of the document is what is drawn. The answer
 * is `{ format, text }`, or `{ error }` when the policy has no evaluated
 * policy to draw (its diagnostics say why, as the editor already shows).
 */
import { graph, nodeHost, overlayHost, type DrawOptions, type GraphFormat } from '../index.js';
import type { Workspace } from './workspace.js';

export const GRAPH_COMMAND = 'qpc.graph';

export type GraphAnswer = { readonly format: GraphFormat; readonly text: string } | { readonly error: string };

function optionsOf(raw: unknown): DrawOptions & { format: GraphFormat } {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const view = o.view === 'network' || o.view === 'channels' || o.view === 'all' ? o.view : undefined;
  const format = o.format === 'dot' || o.format === 'json' ? o.format : 'svg';
  const services = Array.isArray(o.services) ? o.services.filter((s): s is string => typeof s === 'string') : undefined;
  return { format, ...(view ? { view } : {}), ...(services?.length ? { services } : {}), ...(o.templates === true ? { templates: true } : {}), ...(typeof o.collapse === 'boolean' ? { collapse: o.collapse } : {}) };
}

/** Runs `qpc.graph` with the command's arguments. */
export async function graphCommand(ws: Workspace, args: readonly unknown[] = []): Promise<GraphAnswer> {
  const uri = args[0];
  if (typeof uri !== 'string') return { error: '`qpc.graph` takes the URI of an open document' };
  const doc = ws.document(uri);
  const file = ws.pathOf(uri);
  const host = doc ? overlayHost(new Map([[file, doc.getText()]]), nodeHost) : nodeHost;
  const opts = optionsOf(args[1]);
  const r = await graph(file, { ...opts, host, title: file.replace(/^.*[\\/]/, '').replace(/\.qpol$/, '') });
  if (r.text === undefined) {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    return { error: `nothing to draw: the policy does not check${first ? ` (${first.code}: ${first.message})` : ''}` };
  }
  return { format: opts.format, text: r.text };
}
