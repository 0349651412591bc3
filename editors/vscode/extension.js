// The VS Code side of qpol: starts `qpc lsp` (stdio) for .qpol documents and
// leaves everything else (diagnostics, hover, rename, formatting …) to the
// language server, so editors share one implementation. `build.mjs` bundles
// this file with vscode-languageclient into dist/extension.js, which ships.
'use strict';
const vscode = require('vscode');
const { LanguageClient, State, TransportKind } = require('vscode-languageclient/node');

/** Settings the server is started with: a change restarts it. */
const SERVER_SETTINGS = ['qpol.server.command', 'qpol.server.args', 'qpol.allowWaived'];

let client;
let watcher;

/**
 * A client for the current settings: the server's command line
 * (`qpol.server.command` and `qpol.server.args`) and its initialization
 * option `allowWaived` (`qpol.allowWaived`, read once by the server).
 */
function createClient() {
  const config = vscode.workspace.getConfiguration('qpol');
  const command = config.get('server.command', 'qpc');
  const args = config.get('server.args', ['lsp']);
  const allowWaived = config.get('allowWaived', []);
  // vscode-languageclient appends `--stdio` to the arguments for this transport.
  const server = { command, args, transport: TransportKind.stdio };
  return new LanguageClient(
    'qpol',
    'qpc language server',
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: 'file', language: 'qpol' }, { scheme: 'untitled', language: 'qpol' }],
      synchronize: { fileEvents: watcher },
      initializationOptions: { allowWaived: Array.isArray(allowWaived) ? allowWaived.filter((c) => typeof c === 'string') : [] },
    },
  );
}

/** The client's start, stop and restarts, one after the other. */
let queue = Promise.resolve();

function enqueue(step) {
  const next = queue.then(step);
  queue = next.catch(() => undefined);
  return next;
}

async function startClient() {
  client = createClient();
  await client.start();
}

/** Stops the client once it has finished starting; one whose start failed has nothing to stop. */
async function stopClient() {
  const old = client;
  client = undefined;
  if (!old) return;
  if (old.state === State.Starting) await old.start().catch(() => undefined);
  if (old.isRunning()) await old.stop();
}

function activate(context) {
  watcher = vscode.workspace.createFileSystemWatcher('**/*.qpol');
  context.subscriptions.push(
    watcher,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!SERVER_SETTINGS.some((s) => e.affectsConfiguration(s))) return;
      // A failed start is reported by the client, in its output channel and a message.
      enqueue(async () => {
        await stopClient();
        await startClient();
      }).catch(() => undefined);
    }),
    { dispose: () => enqueue(stopClient) },
  );
  return enqueue(startClient);
}

function deactivate() {
  return enqueue(stopClient);
}

module.exports = { activate, deactivate };
