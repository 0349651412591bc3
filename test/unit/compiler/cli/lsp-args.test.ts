/**
 * `qpc lsp` started as LSP clients start a server: `--stdio` and
 * `--clientProcessId=N` or `--clientProcessId N` are answered, the server
 * exits once the client process is gone, and the transports qpc does not
 * speak are refused with a usage error (exit 2) before anything is served.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { entryPoint, runServer, TIMEOUT_MS } from '../../../helpers/lsp-process.js';

/** A process standing in for the editor: it runs until killed. */
function editor(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

/** Starts `qpc lsp ARGS` and kills `client` once the server answered: the server must then end by itself, its standard input left open. */
function serve(args: readonly string[], client: ChildProcess) {
  return runServer(args, { onAnswer: () => client.kill('SIGKILL') });
}

test('--stdio --clientProcessId=N: answered, and the server exits when the client process is gone', async (t) => {
  const client = editor();
  const r = await serve(['--stdio', `--clientProcessId=${client.pid}`], client);
  t.true(r.answered, r.stderr);
  t.false(r.timedOut, 'the server ended by itself, its standard input still open');
});

test('--clientProcessId N (two arguments) works too', async (t) => {
  const client = editor();
  const r = await serve(['--clientProcessId', String(client.pid), '--stdio'], client);
  t.true(r.answered, r.stderr);
  t.false(r.timedOut);
});

test('--node-ipc, --pipe= and --socket= are refused: the server speaks over stdin/stdout only', (t) => {
  for (const arg of ['--node-ipc', '--pipe=/run/user/1000/lsp.sock', '--socket=5007']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', entryPoint, 'lsp', arg], { encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL', input: '' });
    t.is(r.status, 2, arg);
    t.is(r.stdout, '', `${arg}: nothing is served`);
    t.regex(r.stderr, /error\[QP5002\]: `--(node-ipc|pipe|socket)` is not supported: qpc's language server speaks over standard input\/output only/, arg);
  }
});
