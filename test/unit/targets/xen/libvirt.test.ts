/**
 * Every emitted libvirt domain XML validates against stock libvirt's RelaxNG
 * schema (xmllint), for every example and the in-memory cases; mutations
 * from reference xen.md §4 show the schema rejecting a broken document.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { xenTarget } from '../../../../targets/xen/index.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { cases, examples, modelOf } from './support.js';

const schema = '/usr/share/libvirt/schemas/domain.rng';
const tools = ['xmllint', schema];

function validate(files: readonly string[]): { status: number | null; stderr: string } {
  return run('xmllint', ['--noout', '--relaxng', schema, ...files]);
}

toolTest('every emitted libvirt XML validates against libvirt domain.rng', tools, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const files: string[] = [];
    for (const [entry, text] of [...examples.map((e): [string, undefined] => [e, undefined]), ...Object.entries(cases)]) {
      for (const a of xenTarget.emit(modelOf(entry, text), []).filter((x) => x.path.endsWith('.xml'))) {
        const file = path.join(dir, `${path.basename(entry, '.qpol')}-${path.basename(a.path)}`);
        fs.writeFileSync(file, a.contents);
        files.push(file);
      }
    }
    t.true(files.length > 30);
    const r = validate(files);
    t.is(r.status, 0, r.stderr);
    t.is(r.stderr.split('\n').filter((l) => l.endsWith(' validates')).length, files.length, r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

toolTest('the schema rejects broken mutants of an emitted XML', tools, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const model = modelOf('pci.qpol', cases['pci.qpol']);
    const xml = xenTarget.emit(model, []).find((a) => a.path === 'xen/libvirt/backup.xml')!.contents;
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    t.is(validate([write('ok.xml', xml)]).status, 0);
    const mutants: [string, string][] = [
      ['os type pvh', xml.replace('<type arch="x86_64" machine="xenpvh">xenpvh</type>', '<type>pvh</type>')],
      ['backend instead of backenddomain', xml.replace('<backenddomain name="sys-firewall"/>', '<backend domain="sys-firewall"/>')],
      ['Qubes-only disk script', xml.replace('<target dev="xvda"/>', '<target dev="xvda"/>\n      <script path="/etc/xen/scripts/qubes-block"/>')],
      ['memory with a unit suffix', xml.replace('<currentMemory unit="MiB">400<', '<currentMemory unit="MiB">400MB<')],
    ];
    for (const [what, text] of mutants) {
      t.not(text, xml, what);
      t.not(validate([write('bad.xml', text)]).status, 0, what);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

toolTest('the header comment is well-formed XML for any policy file name: no `--` inside, no `-` before its end', tools, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpc-'));
  try {
    const names = ['a---b.qpol', 'a-', '--', '-', 'a--', '---.qpol', 'x-->y.qpol', '<!--.qpol', 'a&b<c>.qpol'];
    const files: string[] = [];
    names.forEach((name, i) => {
      const xml = xenTarget.emit(modelOf(name, cases['gateways.qpol']), []).find((a) => a.path === 'xen/libvirt/home-web.xml')!.contents;
      const comment = /^<!--(.*)-->\n/.exec(xml);
      t.truthy(comment, name);
      t.false(comment![1]!.includes('--'), `${name}: ${comment![1]}`);
      t.false(comment![1]!.endsWith('-'), `${name}: ${comment![1]}`);
      const file = path.join(dir, `name-${i}.xml`);
      fs.writeFileSync(file, xml);
      files.push(file);
      // Well-formed on its own (xmllint without a schema), then valid.
      const wf = run('xmllint', ['--noout', file]);
      t.is(wf.status, 0, `${name}: ${wf.stderr}`);
    });
    const r = validate(files);
    t.is(r.status, 0, r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
