/**
 * The provision target's check: what it refuses (QP4001) and which values it
 * will not write into a script (QP4002), at the source line.
 */
import test from 'ava';
import type { PolicyModel } from '../../../../compiler/model.js';
import { provisionTarget } from '../../../../targets/provision/index.js';
import { modelOfText } from './harness.js';

const base = `use "qubes"
use "whonix"
settings { qubes 4.2
  whonix 18
  policy-file 30-qpc }
template debian-12-xfce
amend sys-net { template debian-12-xfce }
amend sys-firewall { template debian-12-xfce }
`;

async function model(extra: string): Promise<PolicyModel> {
  const r = await modelOfText(base + extra);
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.model;
}

test('a qube to create without any label is QP4001 (qvm-create needs --label)', async (t) => {
  const m = await model(`identity plain { network clearnet via sys-firewall }\nqube box in plain { template debian-12-xfce }\n`);
  const d = provisionTarget.check(m);
  t.deepEqual(d.map((x) => x.code), ['QP4001']);
  t.regex(d[0].message, /`box` without a label/);
});

test('a labelled qube passes, with a device assignment too (the checker refuses bad device ids first, QP2013)', async (t) => {
  const ok = await model(`identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce }\n`);
  t.deepEqual(provisionTarget.check(ok), []);
  const dev = await model(`identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce; device usb "sys-usb:2-1" }\n`);
  t.deepEqual(provisionTarget.check(dev), []);
});

test('a feature value that could break out of its quotes is QP4002', async (t) => {
  const bad = await model(`identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce; feature menu-items "a'; rm -rf /; '" }\n`);
  const d = provisionTarget.check(bad);
  t.deepEqual(d.map((x) => x.code), ['QP4002']);
  t.regex(d[0].message, /feature value/);
  const good = await model(`identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce; feature menu-items "a.desktop b.desktop" }\n`);
  t.deepEqual(provisionTarget.check(good), []);
});

test("Whonix's marker features are QP4001: provisioning verifies them, it never sets them", async (t) => {
  for (const [feature, decl] of [
    ['whonix-gw', 'template my-gw { whonix gateway; feature whonix-gw "1" }\ngateway my-tor { tor; template my-gw; netvm sys-firewall; label black }\nidentity anon { network tor via my-tor; label red }\nqube w in anon { template whonix-workstation-18 }\n'],
    ['whonix-ws', 'identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce; feature whonix-ws "1" }\n'],
  ]) {
    const d = provisionTarget.check(await model(decl));
    t.deepEqual(d.map((x) => x.code), ['QP4001'], feature);
    t.regex(d[0].message, new RegExp(`marker feature \`${feature}\``));
  }
});

test('emit refuses an input artifact with an unsafe deploy path (a bug in another target)', async (t) => {
  const m = await model(`identity plain { network clearnet via sys-firewall; label blue }\nqube box in plain { template debian-12-xfce }\n`);
  t.throws(() => provisionTarget.emit(m, [{ path: 'whonix/box/x', contents: 'x\n', deploy: { qube: 'box', path: "/tmp/a'b", mode: '0644' } }]), { message: /unsafe path/ });
  t.throws(() => provisionTarget.emit(m, [{ path: 'whonix/box/x', contents: 'x\n', deploy: { qube: 'nobody', path: '/tmp/a', mode: '0644' } }]), { message: /not a qube of the policy/ });
  t.throws(() => provisionTarget.emit(m, [{ path: 'qubes/policy.d/30-Work.policy', contents: 'x\n' }]), { message: /NAME in/ });
  t.notThrows(() => provisionTarget.emit(m, [{ path: 'whonix/box/x', contents: 'x\n', deploy: { qube: 'box', path: '/usr/local/bin/x', mode: '0755' } }]));
});
