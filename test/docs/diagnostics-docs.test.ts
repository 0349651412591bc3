/**
 * docs/diagnostics.md is the catalogue's explanations as Markdown (shipped in
 * the package; SARIF rules link into it). It must be what the catalogue
 * generates now: UPDATE_GOLDEN=1 rewrites it.
 */
import test from 'ava';
import { allCodes, codes, type CodeSpec } from '../../compiler/diagnostics/codes.js';
import { diagnosticsDocument, explain } from '../../compiler/diagnostics/explain.js';
import { expectGolden } from '../helpers/golden.js';

test('docs/diagnostics.md is generated from the catalogue', (t) => {
  expectGolden(t, 'docs/diagnostics.md', diagnosticsDocument());
});

test('every live code has its anchor and its whole explanation in the document', (t) => {
  const doc = diagnosticsDocument();
  for (const c of allCodes) {
    if ((codes[c] as CodeSpec).retired) {
      t.false(doc.includes(`<a id="${c}">`), c);
      continue;
    }
    t.true(doc.includes(`<a id="${c}"></a>${c} \`${codes[c].slug}\``), c);
    t.true(doc.includes(codes[c].explanation.rationale), c);
    t.truthy(explain(c));
  }
});
