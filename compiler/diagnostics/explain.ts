/**
 * The explanation page of a diagnostic code, from the catalogue: as text
 * (`qpc explain`, SARIF rule help) and as Markdown (SARIF rule help, the
 * package's `docs/diagnostics.md`). One source, so the three never differ.
 */
import { allCodes, codes, isCode, waiverClass, type Code, type CodeSpec } from './codes.js';

/** A code's waiver class and what it means. */
function waiverLine(c: Code): string {
  const cls = waiverClass(c);
  if (cls === 'never') return 'never (findings are not waived; a `waive` naming this code is an error)';
  if (cls === 'explicit') return `explicit (the policy's waiver counts only with \`--allow-waived ${c}\` on the command line)`;
  return "author (the policy's `because` or `waive` suffices)";
}

/** The explanation page of a code (`qpc explain`), or undefined for an unknown code. */
export function explain(code: string): string | undefined {
  const c = code.toUpperCase();
  if (!isCode(c)) return undefined;
  const spec: CodeSpec = codes[c];
  const lines = [`${c} (${spec.slug}): ${spec.summary}`, '', `severity: ${spec.severity}`, `waiver: ${waiverLine(c)}`, '', spec.explanation.rationale];
  if (spec.explanation.avoid) lines.push('', 'Avoid:', '', ...spec.explanation.avoid.split('\n').map((l) => '    ' + l));
  if (spec.explanation.prefer) lines.push('', 'Prefer:', '', ...spec.explanation.prefer.split('\n').map((l) => '    ' + l));
  return lines.join('\n') + '\n';
}

/** A fenced Markdown block of policy text, with a fence longer than any backtick run inside. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}qpol\n${text}\n${fence}`;
}

/**
 * The explanation of a code as Markdown, headed by an anchor named after the
 * code (`#QP3004`), or undefined for an unknown code. `level` is the heading's.
 */
export function explainMarkdown(code: string, level = 2): string | undefined {
  const c = code.toUpperCase();
  if (!isCode(c)) return undefined;
  const spec: CodeSpec = codes[c];
  const parts = [`${'#'.repeat(level)} <a id="${c}"></a>${c} \`${spec.slug}\``, '', spec.summary, '', `- severity: ${spec.severity}`, `- waiver: ${waiverLine(c)}`, '', spec.explanation.rationale];
  if (spec.explanation.avoid) parts.push('', 'Avoid:', '', fenced(spec.explanation.avoid));
  if (spec.explanation.prefer) parts.push('', 'Prefer:', '', fenced(spec.explanation.prefer));
  return parts.join('\n') + '\n';
}

/**
 * Every code's explanation in one Markdown document, in code order, retired
 * codes left out: the package's `docs/diagnostics.md`, which SARIF rules'
 * `helpUri` point into.
 */
export function diagnosticsDocument(): string {
  const spec = (c: Code): CodeSpec => codes[c];
  const live = allCodes.filter((c) => !spec(c).retired);
  const index = live.map((c) => `| [${c}](#${c}) | ${codes[c].severity} | ${codes[c].summary.replace(/\|/g, '\\|')} |`);
  const head = [
    '# qpc diagnostics',
    '',
    'Every finding qpc reports has a stable code. `qpc explain CODE` prints the same text as the section of the code below. This file is generated from the catalogue of codes.',
    '',
    '| code | severity | summary |',
    '|---|---|---|',
    ...index,
    '',
  ].join('\n');
  return [head, ...live.map((c) => explainMarkdown(c)!)].join('\n');
}
