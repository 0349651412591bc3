/**
 * Renders diagnostics as a SARIF 2.1.0 log (OASIS Static Analysis Results
 * Interchange Format), the format code-scanning services and IDE viewers
 * read. Deterministic: no timestamps, sorted; the only absolute paths are
 * the two base directories the options give.
 *
 * Files are relative URIs against one of two bases (SARIF's `uriBaseId`):
 * `SRCROOT`, the directory qpc ran in, for the policy's own files, and
 * `QPCLIB`, the installed standard library, for files of the standard
 * library; `originalUriBaseIds` says where each base is on this machine
 * (a code-scanning service puts its checkout in place of `SRCROOT`). A file
 * outside the directory qpc ran in keeps an absolute `file:` URI.
 */
import * as path from 'node:path';
import { standardLibraryRelative } from '../host.js';
import type { Span } from '../source.js';
import { allCodes, codes, type Code } from './codes.js';
import { sortDiagnostics, type Diagnostic, type Fix, type Severity } from './diagnostic.js';
import { explain, explainMarkdown } from './explain.js';
import { stringifyJson } from './render-json.js';

/** Options of the SARIF renderer. */
export interface SarifOptions {
  /** qpc's version, recorded as `tool.driver.version`. */
  readonly toolVersion: string;
  /** The absolute directory relative file names are relative to (the CLI's working directory): `SRCROOT`. */
  readonly baseDir?: string;
  /**
   * The installed package's absolute root: `QPCLIB` is its `policies/`, the
   * rules' `helpUri` point into its `docs/diagnostics.md`, the driver's
   * `informationUri` is its README.
   */
  readonly packageDir?: string;
}

/** SARIF's `level` for each severity; SARIF calls informational results `note`. */
const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = { error: 'error', warning: 'warning', info: 'note' };

/**
 * A file path as a SARIF URI reference: forward slashes, each segment
 * percent-encoded; relative paths stay relative, absolute ones become
 * `file:` URIs.
 */
export function sarifUri(path: string): string {
  const p = path.replace(/\\/g, '/');
  const encode = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  const drive = /^([A-Za-z]):\//.exec(p);
  if (drive) return `file:///${drive[1]}:/${encode(p.slice(3))}`;
  if (p.startsWith('//')) return `file:${encode(p)}`;
  if (p.startsWith('/')) return `file://${encode(p)}`;
  return encode(p);
}

/** SARIF region of a span; columns are 1-based UTF-16 code units, `endColumn` exclusive (the run's `columnKind`). */
function region(span: Span) {
  return { startLine: span.line, startColumn: span.column, endLine: span.endLine, endColumn: span.endColumn };
}

/** A directory as an absolute `file:` URI with a final slash, as `originalUriBaseIds` need. */
function directoryUri(dir: string): string {
  const uri = sarifUri(path.resolve(dir));
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Where a file is, as a SARIF artifact location: relative to `QPCLIB` or `SRCROOT` where it can be. */
function artifactLocation(file: string, opts: SarifOptions): { uri: string; uriBaseId?: string } {
  const lib = standardLibraryRelative(file.replace(/\\/g, '/'));
  if (lib !== undefined) return { uri: sarifUri(lib), uriBaseId: 'QPCLIB' };
  if (!path.isAbsolute(file) && !/^[A-Za-z]:[\\/]/.test(file)) {
    const rel = path.posix.normalize(file.replace(/\\/g, '/'));
    if (!rel.startsWith('../')) return { uri: sarifUri(rel), uriBaseId: 'SRCROOT' };
    return opts.baseDir ? { uri: sarifUri(path.resolve(opts.baseDir, file)) } : { uri: sarifUri(rel) };
  }
  if (opts.baseDir) {
    const rel = path.relative(opts.baseDir, file);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return { uri: sarifUri(rel), uriBaseId: 'SRCROOT' };
  }
  return { uri: sarifUri(file) };
}

function physicalLocation(span: Span, opts: SarifOptions) {
  return { artifactLocation: artifactLocation(span.file, opts), region: region(span) };
}

/** A qpc fix as a SARIF fix: edits grouped by file, in the order given. */
function sarifFix(fix: Fix, opts: SarifOptions) {
  const byFile = new Map<string, { deletedRegion: ReturnType<typeof region>; insertedContent: { text: string } }[]>();
  for (const e of fix.edits) {
    const list = byFile.get(e.span.file) ?? [];
    list.push({ deletedRegion: region(e.span), insertedContent: { text: e.newText } });
    byFile.set(e.span.file, list);
  }
  return {
    description: { text: fix.title },
    artifactChanges: [...byFile].map(([file, replacements]) => ({ artifactLocation: artifactLocation(file, opts), replacements })),
  };
}

/**
 * Renders diagnostics as a SARIF 2.1.0 log with one run of `qpc`: a rule for
 * every code used (id, slug, summary, rationale, the explanation page as
 * help in text and Markdown, its `helpUri`, default level, waiver class) and
 * one result per diagnostic, sorted. Waived findings carry an `inSource`
 * suppression with the reason. 2-space JSON with a trailing newline.
 */
export function renderSarif(diags: readonly Diagnostic[], opts: SarifOptions): string {
  const sorted = sortDiagnostics(diags);
  const used = new Set<Code>(sorted.map((d) => d.code));
  const ruleCodes = allCodes.filter((c) => used.has(c));
  const ruleIndex = new Map(ruleCodes.map((c, i) => [c, i]));
  const rules = ruleCodes.map((c) => {
    const spec = codes[c];
    return {
      id: c,
      name: spec.slug,
      shortDescription: { text: spec.summary },
      fullDescription: { text: spec.explanation.rationale },
      help: { text: explain(c)!, markdown: explainMarkdown(c, 1)! },
      ...(opts.packageDir ? { helpUri: `${directoryUri(path.join(opts.packageDir, 'docs'))}diagnostics.md#${c}` } : {}),
      defaultConfiguration: { level: LEVEL[spec.severity] },
      properties: { waiver: spec.waiver ?? 'never', ...(c.startsWith('QP3') ? { tags: ['security'] } : {}) },
    };
  });
  const results = sorted.map((d) => ({
    ruleId: d.code,
    ruleIndex: ruleIndex.get(d.code),
    level: LEVEL[d.severity],
    message: { text: d.help !== undefined ? `${d.message} help: ${d.help}` : d.message },
    ...(d.span ? { locations: [{ physicalLocation: physicalLocation(d.span, opts) }] } : {}),
    ...(d.related.length
      ? { relatedLocations: d.related.map((r, id) => ({ id, physicalLocation: physicalLocation(r.span, opts), message: { text: r.message } })) }
      : {}),
    ...(d.fixes.length ? { fixes: d.fixes.map((f) => sarifFix(f, opts)) } : {}),
    ...(d.waivedBecause !== undefined ? { suppressions: [{ kind: 'inSource', justification: d.waivedBecause }] } : {}),
  }));
  return stringifyJson({
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'qpc',
            fullName: 'qpc, the Qubes-Whonix policy compiler',
            version: opts.toolVersion,
            semanticVersion: opts.toolVersion,
            ...(opts.packageDir ? { informationUri: `${directoryUri(opts.packageDir)}README.md` } : {}),
            rules,
          },
        },
        originalUriBaseIds: {
          SRCROOT: { ...(opts.baseDir ? { uri: directoryUri(opts.baseDir) } : {}), description: { text: 'The directory qpc ran in: the policy files are relative to it.' } },
          QPCLIB: { ...(opts.packageDir ? { uri: directoryUri(path.join(opts.packageDir, 'policies')) } : {}), description: { text: "qpc's standard library, as installed." } },
        },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  });
}
