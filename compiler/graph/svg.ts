/**
 * DOT to SVG in process, with Graphviz compiled to WebAssembly
 * (`@hpcc-js/wasm-graphviz`): `qpc graph` needs no system tool. Loaded on
 * first use, so commands that draw nothing do not pay for it.
 */

type Graphviz = { dot(dot: string, format?: 'svg'): string };

let loading: Promise<Graphviz> | undefined;

/**
 * The bundled command line (bin/qpc.js, build/cli-bundle.mjs) runs from V8's
 * code cache, where a dynamic `import()` has no loader: bin/qpc.js hands the
 * bundle its own as `__qpc_import`. Everywhere else it is not defined.
 */
declare const __qpc_import: ((specifier: string) => Promise<unknown>) | undefined;

function loadGraphviz(): Promise<typeof import('@hpcc-js/wasm-graphviz')> {
  if (typeof __qpc_import === 'function') return __qpc_import('@hpcc-js/wasm-graphviz') as Promise<typeof import('@hpcc-js/wasm-graphviz')>;
  return import('@hpcc-js/wasm-graphviz');
}

async function graphviz(): Promise<Graphviz> {
  loading ??= loadGraphviz().then((m) => m.Graphviz.load());
  return loading;
}

/** The SVG of a DOT text, laid out by Graphviz `dot`. */
export async function dotToSvg(dot: string): Promise<string> {
  return (await graphviz()).dot(dot, 'svg');
}
