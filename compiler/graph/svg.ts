/**
 * DOT to SVG in process, with Graphviz compiled to WebAssembly
 * (`@hpcc-js/wasm-graphviz`): `qpc graph` needs no system tool. Loaded on
 * first use, so commands that draw nothing do not pay for it.
 */

type Graphviz = { dot(dot: string, format?: 'svg'): string };

let loading: Promise<Graphviz> | undefined;

async function graphviz(): Promise<Graphviz> {
  loading ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  return loading;
}

/** The SVG of a DOT text, laid out by Graphviz `dot`. */
export async function dotToSvg(dot: string): Promise<string> {
  return (await graphviz()).dot(dot, 'svg');
}
