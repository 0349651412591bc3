/** qpc's version: shown by `--version`, written into `manifest.json` and SARIF output. */
export const version = '0.1.0';
