// The VS Code side of qpol: starts `qpc lsp` (stdio) for .qpol documents and
// leaves everything else (diagnostics, hover, rename, formatting …) to the
// language server, so editors share one implementation.
'use strict';
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('qpol');
  const command = config.get('server.command', 'qpc');
  const args = config.get('server.args', ['lsp']);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    'qpol',
    'qpc language server',
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: 'file', language: 'qpol' }, { scheme: 'untitled', language: 'qpol' }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.qpol') },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
