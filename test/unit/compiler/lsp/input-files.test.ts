/**
 * The language server reads the files an open policy `use`s from disk, with
 * the checks the command line makes: only regular files within the size
 * limit, and never a quote of a file that is not a policy in what it
 * publishes or logs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageText, startClient, tempFiles } from './client.js';

const SECRET = 'hunter2';
const tail = 'template deb\nidentity work { network clearnet via sys-firewall }\nqube mail in work { template deb }\n';
const haveMkfifo = spawnSync('mkfifo', ['--version'], { encoding: 'utf8' }).error === undefined;

test('an import of a file holding a secret, directly or through a link named .qpol: QP2006, the secret never sent', async (t) => {
  const files = tempFiles({ 'ci.env': `SECRET=${SECRET}\n`, 'a.qpol': `use "qubes"\nuse "./ci.env"\n${tail}`, 'b.qpol': `use "qubes"\nuse "./rules.qpol"\n${tail}` });
  fs.symlinkSync('ci.env', path.join(files.dir, 'rules.qpol'));
  const c = await startClient();
  try {
    for (const name of ['a.qpol', 'b.qpol']) {
      const uri = files.uri(name);
      const wait = c.waitDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'QP2006'));
      c.open(uri, fs.readFileSync(path.join(files.dir, name), 'utf8'));
      const p = await wait;
      t.deepEqual(p.diagnostics.map((d) => [d.code, d.range.start.line]), [['QP2006', 1]]);
      t.regex(messageText(p.diagnostics[0].message), /not a qpc policy/);
    }
    t.false(JSON.stringify([...c.diagnostics.values()]).includes(SECRET));
    t.false(c.logs.join('\n').includes(SECRET));
    t.false([...c.diagnostics.keys()].some((u) => u.endsWith('ci.env')), 'nothing is published for the file itself');
  } finally {
    c.close();
    files.cleanup();
  }
});

test('an import of /dev/zero through a link, or of a FIFO, is answered at once with QP2006', async (t) => {
  const files = tempFiles({ 'a.qpol': `use "qubes"\nuse "./zero.qpol"\n${tail}`, 'b.qpol': `use "qubes"\nuse "./pipe.qpol"\n${tail}` });
  fs.symlinkSync('/dev/zero', path.join(files.dir, 'zero.qpol'));
  const fifo = haveMkfifo && spawnSync('mkfifo', [path.join(files.dir, 'pipe.qpol')]).status === 0;
  const c = await startClient();
  try {
    for (const name of fifo ? ['a.qpol', 'b.qpol'] : ['a.qpol']) {
      const uri = files.uri(name);
      const wait = c.waitDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'QP2006'));
      c.open(uri, fs.readFileSync(path.join(files.dir, name), 'utf8'));
      const p = await wait;
      t.regex(messageText(p.diagnostics[0].message), /cannot read `\.\/(zero|pipe)\.qpol`: not a regular file/);
    }
  } finally {
    c.close();
    files.cleanup();
  }
});
