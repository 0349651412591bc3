/**
 * Renders diagnostics as a SARIF 2.1.0 log (OASIS Static Analysis Results
 * Interchange Format), the format code-scanning services and IDE viewers
 * read. Deterministic: no timestamps, no absolute paths added, sorted.
 */
import type { Span } from '../source.js';
import { allCodes, codes, type Code } from './codes.js';
import { sortDiagnostics, type Diagnostic, type Fix, type Severity } from './diagnostic.js';
import { stringifyJson } from './render-json.js';

/** Options of the SARIF renderer. */
export interface SarifOptions {
  /** qpc's version, recorded as `tool.driver.version`. */
  readonly toolVersion: string;
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

function physicalLocation(span: Span) {
  return { artifactLocation: { uri: sarifUri(span.file) }, region: region(span) };
}

/** A qpc fix as a SARIF fix: edits grouped by file, in the order given. */
function sarifFix(fix: Fix) {
  const byFile = new Map<string, { deletedRegion: ReturnType<typeof region>; insertedContent: { text: string } }[]>();
  for (const e of fix.edits) {
    const list = byFile.get(e.span.file) ?? [];
    list.push({ deletedRegion: region(e.span), insertedContent: { text: e.newText } });
    byFile.set(e.span.file, list);
  }
  return {
    description: { text: fix.title },
    artifactChanges: [...byFile].map(([file, replacements]) => ({ artifactLocation: { uri: sarifUri(file) }, replacements })),
  };
}

/**
 * Renders diagnostics as a SARIF 2.1.0 log with one run of `qpc`: a rule for
 * every code used (id, slug, summary, rationale, default level) and one result
 * per diagnostic, sorted. Waived findings carry an `inSource` suppression with
 * the reason. 2-space JSON with a trailing newline.
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
      defaultConfiguration: { level: LEVEL[spec.severity] },
    };
  });
  const results = sorted.map((d) => ({
    ruleId: d.code,
    ruleIndex: ruleIndex.get(d.code),
    level: LEVEL[d.severity],
    message: { text: d.help !== undefined ? `${d.message} help: ${d.help}` : d.message },
    ...(d.span ? { locations: [{ physicalLocation: physicalLocation(d.span) }] } : {}),
    ...(d.related.length
      ? { relatedLocations: d.related.map((r) => ({ physicalLocation: physicalLocation(r.span), message: { text: r.message } })) }
      : {}),
    ...(d.fixes.length ? { fixes: d.fixes.map(sarifFix) } : {}),
    ...(d.waivedBecause !== undefined ? { suppressions: [{ kind: 'inSource', justification: d.waivedBecause }] } : {}),
  }));
  return stringifyJson({
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'qpc', version: opts.toolVersion, rules } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  });
}
