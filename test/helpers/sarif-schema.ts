/**
 * The official SARIF 2.1.0 JSON schema (OASIS, version 2.1.0-rtm.5, as
 * shipped by the `@microsoft/jest-sarif` package), compiled with ajv for
 * JSON Schema draft-04 with its `uri` formats checked. The schema's one
 * pattern that is not valid as a Unicode regular expression needs ajv's
 * `unicodeRegExp: false`.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

let validate: ValidateFunction | undefined;

/** The problems the official schema finds in a log, as `path: message` lines; empty when it is valid. */
export function sarifSchemaErrors(log: unknown): string[] {
  if (!validate) {
    const Ajv = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
    const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;
    const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
    addFormats(ajv);
    validate = ajv.compile(require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object);
  }
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`);
}
