/**
 * The two renderings of a domain agree: for every qube of every example and
 * in-memory case, the xl.cfg (read by libxlutil) and the libvirt XML (read
 * by xmllint XPath) name the same domain, memory, maxmem, vCPUs, network
 * backend and address, and the same disks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { xenTarget } from '../../../../targets/xen/index.js';
import { run, toolTest } from '../../../helpers/tools.js';
import { buildProbe, cases, examples, modelOf, parseProbe, vifArguments, type ParsedCfg } from './support.js';

const tools = ['gcc', 'xmllint', '/usr/include/libxlutil.h', '/usr/share/libvirt/schemas/domain.rng'];

interface Facts {
  name: string;
  memory: string;
  maxmem: string;
  vcpus: string;
  backend: string;
  ip: string;
  disks: string;
}

function xpath(file: string, expr: string): string {
  const r = run('xmllint', ['--xpath', expr, file]);
  if (r.status !== 0 && r.status !== 10) throw new Error(`xmllint --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

/** One xmllint call per file: the facts joined by `|` (none of them can contain one). */
function fromXml(file: string): Facts {
  const parts = [
    'string(/domain/name)',
    'string(/domain/currentMemory[@unit="MiB"])',
    'string(/domain/memory[@unit="MiB"])',
    'string(/domain/vcpu)',
    'string(/domain/devices/interface/backenddomain/@name)',
    'string(/domain/devices/interface/ip/@address)',
    'count(/domain/devices/disk)',
    'string(/domain/devices/disk[1]/target/@dev)',
    'string(/domain/devices/disk[1]/source/@dev)',
    'string(/domain/devices/disk[last()]/target/@dev)',
    'string(/domain/devices/disk[last()]/source/@dev)',
  ];
  const [name, memory, maxmem, vcpus, backend, ip, count, v1, s1, v2, s2] = xpath(file, `concat(${parts.join(', "|", ')})`).split('|');
  return { name: name!, memory: memory!, maxmem: maxmem!, vcpus: vcpus!, backend: backend!, ip: ip!, disks: `${count}:${v1}=${s1},${v2}=${s2}` };
}

function fromCfg(p: ParsedCfg): Facts {
  const vif = vifArguments(p.items.get('vif')?.[0] ?? '');
  const first = p.disks[0]!;
  const last = p.disks[p.disks.length - 1]!;
  return {
    name: p.values.get('name') ?? '',
    memory: p.values.get('memory') ?? '',
    maxmem: p.values.get('maxmem') ?? '',
    vcpus: p.values.get('vcpus') ?? '',
    backend: vif.find((a) => a.key === 'backend')?.value ?? '',
    ip: vif.find((a) => a.key === 'ip')?.value ?? '',
    disks: `${p.disks.length}:${first['vdev']}=${first['target']},${last['vdev']}=${last['target']}`,
  };
}

toolTest('xl.cfg and libvirt XML agree on name, memory, maxmem, vcpus, backend, ip and disks', tools, (t) => {
  const { probe, dir, cleanup } = buildProbe();
  try {
    let compared = 0;
    for (const [entry, text] of [...examples.map((e): [string, undefined] => [e, undefined]), ...Object.entries(cases)]) {
      const model = modelOf(entry, text);
      const artifacts = xenTarget.emit(model, []);
      for (const q of model.qubes.filter((x) => x.klass !== 'AdminVM')) {
        const cfg = artifacts.find((a) => a.path === `xen/${q.name}.cfg`)!;
        const xml = artifacts.find((a) => a.path === `xen/libvirt/${q.name}.xml`)!;
        const r = probe(cfg.contents);
        t.is(r.status, 0, r.stderr);
        const xmlFile = path.join(dir, 'domain.xml');
        fs.writeFileSync(xmlFile, xml.contents);
        const a = fromCfg(parseProbe(r.stdout));
        const b = fromXml(xmlFile);
        t.deepEqual(a, b, `${entry} ${q.name}`);
        t.is(a.name, q.name);
        t.is(a.backend, q.netvm ?? '');
        t.is(a.ip, q.netvm === null ? '' : q.ip);
        compared++;
      }
    }
    t.true(compared > 30);
    // The comparison sees a difference: an XML whose backend was changed disagrees.
    const model = modelOf('examples/journalist.qpol');
    const artifacts = xenTarget.emit(model, []);
    const r = probe(artifacts.find((a) => a.path === 'xen/work-web.cfg')!.contents);
    const xmlFile = path.join(dir, 'mutant.xml');
    fs.writeFileSync(xmlFile, artifacts.find((a) => a.path === 'xen/libvirt/work-web.xml')!.contents.replace('<backenddomain name="sys-firewall"/>', '<backenddomain name="sys-net"/>'));
    t.notDeepEqual(fromCfg(parseProbe(r.stdout)), fromXml(xmlFile));
  } finally {
    cleanup();
  }
});
