/** The unified diff of a file on the machine against the file provisioning installs (compiler/unified-diff.ts). */
export { unifiedDiff } from '../unified-diff.js';
