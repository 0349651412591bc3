/**
 * End to end with a real editor: Neovim's built-in LSP client drives
 * `qpc lsp` (the CLI entry, run over the sources) on a copy of an example.
 * What the editor received is written by `lsp-client.lua` and checked here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { toolTest } from '../helpers/tools.js';

interface NvimResult {
  error?: string;
  initialized?: boolean;
  got_diagnostics?: boolean;
  error_line?: number;
  identity_line?: number;
  uri?: string;
  diagnostics?: { code: string; lnum: number; col: number; end_col: number; severity: number; source: string; message: string }[];
  hover?: { contents: { kind: string; value: string } } | null;
  definition?: { uri: string; range: { start: { line: number; character: number } } }[] | null;
  server_exit?: number;
}

toolTest('neovim: diagnostics for an unsaved edit, hover and definition over the real protocol', ['nvim'], (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const file = path.join(dir, 'journalist.qpol');
    fs.copyFileSync('examples/journalist.qpol', file);
    const out = path.join(dir, 'result.json');
    const cmd = [process.execPath, '--import', 'tsx', path.resolve('test/e2e/qpc-source.ts'), 'lsp'];
    const r = spawnSync('nvim', ['--headless', '--clean', '-u', 'NONE', '-c', `luafile ${path.resolve('test/e2e/lsp-client.lua')}`], {
      cwd: process.cwd(),
      env: { ...process.env, QPC_CMD: JSON.stringify(cmd), QPC_FILE: file, QPC_OUT: out },
      encoding: 'utf8',
      timeout: 100_000,
    });
    t.true(fs.existsSync(out), `nvim wrote no result (exit ${r.status}, signal ${r.signal}): ${r.stderr}`);
    const res = JSON.parse(fs.readFileSync(out, 'utf8')) as NvimResult;
    t.is(res.error, undefined);
    t.true(res.initialized);
    t.true(res.got_diagnostics);
    const d = res.diagnostics!.find((x) => x.code === 'QP2001')!;
    t.is(d.lnum, res.error_line!);
    t.is(d.col, fs.readFileSync(file, 'utf8').split('\n')[res.error_line!].indexOf('sys-firewall'));
    t.is(d.end_col - d.col, 'sys-firewal'.length);
    t.is(d.source, 'qpc');
    t.is(d.severity, 1);
    t.regex(d.message, /unknown gateway `sys-firewal`[\s\S]*did you mean `sys-firewall`/);
    // The file on disk is untouched: the diagnostics came from the buffer.
    t.is(fs.readFileSync(file, 'utf8'), fs.readFileSync('examples/journalist.qpol', 'utf8'));
    // Hover: the qube with its identity (the network chain needs the whole check, which the broken name stops).
    t.is(res.hover!.contents.kind, 'markdown');
    t.regex(res.hover!.contents.value, /\*\*qube\*\* `source-inbox` in identity `source-contact`/);
    t.regex(res.hover!.contents.value, /template: `whonix-workstation-18`/);
    // Definition: the identity's declaration in the same file.
    t.is(res.definition!.length, 1);
    t.is(res.definition![0].uri, pathToFileURL(file).href);
    t.is(res.definition![0].range.start.line, res.identity_line!);
    t.is(res.definition![0].range.start.character, 'identity '.length);
    t.is(res.server_exit, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
