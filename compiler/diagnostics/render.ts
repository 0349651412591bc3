/**
 * One entry point for `--error-format`: picks the renderer. Every renderer is
 * a pure function of the diagnostics (and, for the text formats, the sources).
 */
import type { SourceFile } from '../source.js';
import type { Diagnostic } from './diagnostic.js';
import { renderGcc } from './render-gcc.js';
import { renderJson } from './render-json.js';
import { renderSarif } from './render-sarif.js';
import { renderHuman, renderPlain } from './render-text.js';

/** The formats `--error-format` accepts. */
export const errorFormats = ['human', 'plain', 'json', 'gcc', 'sarif'] as const;

/** A value of `--error-format`. */
export type ErrorFormat = (typeof errorFormats)[number];

/** Whether a string names an error format, for parsing `--error-format`. */
export function isErrorFormat(s: string): s is ErrorFormat {
  return (errorFormats as readonly string[]).includes(s);
}

/** Options every renderer may need; each takes only what it uses. */
export interface RenderOptions {
  /** ANSI colour for `human`; the CLI sets it only on a TTY. */
  readonly color: boolean;
  /** qpc's version, recorded in SARIF. */
  readonly toolVersion: string;
  /** SARIF: the directory relative file names are relative to (`SRCROOT`). */
  readonly baseDir?: string;
  /** SARIF: the installed package's root (the standard library, the diagnostics docs). */
  readonly packageDir?: string;
}

/** Renders diagnostics in the given format; `''` (or an empty log for json and sarif) when there are none. */
export function render(format: ErrorFormat, diags: readonly Diagnostic[], sources: ReadonlyMap<string, SourceFile>, opts: RenderOptions): string {
  switch (format) {
    case 'human':
      return renderHuman(diags, sources, { color: opts.color });
    case 'plain':
      return renderPlain(diags, sources);
    case 'json':
      return renderJson(diags);
    case 'gcc':
      return renderGcc(diags);
    case 'sarif':
      return renderSarif(diags, { toolVersion: opts.toolVersion, ...(opts.baseDir ? { baseDir: opts.baseDir } : {}), ...(opts.packageDir ? { packageDir: opts.packageDir } : {}) });
  }
}
