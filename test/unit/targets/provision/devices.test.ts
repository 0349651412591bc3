/**
 * Device assignment in provision.sh (stand-in `qvm-device`, both releases'
 * syntax): the first run assigns persistently with the release's command, a
 * second run changes nothing, an assignment qpc made and the policy dropped
 * is taken back, and one the machine had before qpc stays.
 */
import type { ExecutionContext } from 'ava';
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkProvision } from '../../../../targets/provision/check.js';
import { compileAll, fakeDom0, layOut, modelOfText, root, runScript, serialToolTest, type Dom0 } from './harness.js';
import { applySalt } from './salt-model.js';

const tools = ['sh', 'awk', 'sha256sum', 'timeout', 'mktemp', 'head', 'tr', 'cmp', 'find'];
const toolTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => serialToolTest(title, tools, fn);

const base = readFileSync(path.join(root, 'examples/developer.qpol'), 'utf8');

function policy(release: '4.2' | '4.3', devices: readonly string[]): string {
  const items = devices.map((d) => `  device pci "${d}"\n`).join('');
  return base.replace('  qubes 4.2\n', `  qubes ${release}\n`).replace('amend sys-net {\n  template debian-12-xfce\n', `amend sys-net {\n  template debian-12-xfce\n${items}`);
}

async function build(text: string, dir: string): Promise<import('../../../../compiler/model.js').PolicyModel> {
  const r = await modelOfText(text);
  if (!r.model) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const { artifacts } = await compileAll(r.model);
  layOut(dir, artifacts);
  return r.model;
}

function dom0For(dir: string, model: import('../../../../compiler/model.js').PolicyModel, release: string): Dom0 {
  const dom0 = fakeDom0(dir, model);
  symlinkSync(path.join(root, 'test/fixtures/qubes-dom0/qvm-fake'), path.join(dom0.bin, 'qvm-device'));
  writeFileSync(path.join(dom0.state, 'release'), release);
  return dom0;
}

const devicesOf = (dom0: Dom0, qube: string): Record<string, string> => {
  const d = path.join(dom0.state, 'qubes', qube, 'devices', 'pci');
  return existsSync(d) ? Object.fromEntries(readdirSync(d).sort().map((f) => [f, readFileSync(path.join(d, f), 'utf8')])) : {};
};
const mutations = (dom0: Dom0): string[] => readFileSync(path.join(dom0.state, 'log'), 'utf8').split('\n').filter((l) => l.startsWith('MUTATE'));
const deviceMutations = (dom0: Dom0): string[] => mutations(dom0).filter((l) => l.includes('qvm-device'));
const clearLog = (dom0: Dom0): void => writeFileSync(path.join(dom0.state, 'log'), '');

const assignCommand = { '4.2': 'MUTATE qvm-device pci attach --persistent sys-net dom0:00_14.3', '4.3': 'MUTATE qvm-device pci assign --required sys-net dom0:00_14.3' } as const;
const mode = { '4.2': 'persistent', '4.3': 'required' } as const;

for (const release of ['4.2', '4.3'] as const) {
  toolTest(`R${release}: a device is assigned with the release's command, once`, async (t) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-dev-'));
    try {
      const out = path.join(tmp, 'out');
      const model = await build(policy(release, ['dom0:00_14.3']), out);
      const dom0 = dom0For(path.join(tmp, 'dom0'), model, release);
      const first = runScript(out, dom0);
      t.is(first.status, 0, first.stderr + first.stdout);
      t.deepEqual(deviceMutations(dom0), [assignCommand[release]]);
      t.deepEqual(devicesOf(dom0, 'sys-net'), { 'dom0:00_14.3': mode[release] });
      // Assigned before the first qube is started.
      const log = readFileSync(path.join(dom0.state, 'log'), 'utf8');
      const start = log.indexOf('START ');
      if (start >= 0) t.true(log.indexOf(assignCommand[release]) < start);
      t.true(readFileSync(path.join(dom0.qpcDir, 'owned'), 'utf8').split('\n').includes('device sys-net pci dom0:00_14.3'));
      clearLog(dom0);
      const second = runScript(out, dom0);
      t.is(second.status, 0, second.stderr);
      t.deepEqual(mutations(dom0), [], 'the second run changes nothing');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  toolTest(`R${release}: an assignment qpc made and the policy dropped is taken back; one the machine had stays`, async (t) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-dev-'));
    try {
      const v1 = path.join(tmp, 'v1');
      const v2 = path.join(tmp, 'v2');
      const model = await build(policy(release, ['dom0:00_14.3', 'dom0:00_1f.6']), v1);
      await build(policy(release, []), v2);
      const dom0 = dom0For(path.join(tmp, 'dom0'), model, release);
      // The machine's own assignment, made before any qpc run.
      mkdirSync(path.join(dom0.state, 'qubes/sys-net/devices/pci'), { recursive: true });
      writeFileSync(path.join(dom0.state, 'qubes/sys-net/devices/pci/dom0:00_1f.6'), mode[release]);
      const first = runScript(v1, dom0);
      t.is(first.status, 0, first.stderr + first.stdout);
      t.deepEqual(deviceMutations(dom0), [assignCommand[release]], 'only the missing device is assigned');
      clearLog(dom0);
      const second = runScript(v2, dom0);
      t.is(second.status, 0, second.stderr + second.stdout);
      const undo = release === '4.2' ? 'MUTATE qvm-device pci detach sys-net dom0:00_14.3' : 'MUTATE qvm-device pci unassign sys-net dom0:00_14.3';
      t.deepEqual(deviceMutations(dom0), [undo]);
      t.deepEqual(devicesOf(dom0, 'sys-net'), { 'dom0:00_1f.6': mode[release] });
      t.false(readFileSync(path.join(dom0.qpcDir, 'owned'), 'utf8').includes('device '));
      clearLog(dom0);
      const third = runScript(v2, dom0);
      t.is(third.status, 0, third.stderr);
      t.deepEqual(mutations(dom0), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('device ids outside the allow-list are refused (QP4002), a device without an id is QP4001', async (t) => {
  const codes = async (item: string): Promise<string[]> => {
    const r = await modelOfText(base.replace('amend sys-net {\n  template debian-12-xfce\n', `amend sys-net {\n  template debian-12-xfce\n  ${item}\n`));
    if (!r.model) return r.diagnostics.map((d) => d.code);
    return checkProvision(r.model).map((d) => d.code);
  };
  t.deepEqual(await codes('device pci "dom0:00_14.3"'), []);
  t.deepEqual(await codes('device usb "sys-usb:2-1"'), []);
  for (const bad of ['dom0:00_14.3;reboot', "dom0:00_14.3'", '00_14.3', 'dom0:$(id)', 'dom0:-x', 'dom0:*']) {
    const c = await codes(`device pci "${bad}"`);
    t.true(c.includes('QP4002') || (c.length > 0 && !c.includes('QP4001')), `${bad}: ${c.join(' ')}`);
  }
});

const saltOf = (out: string): string => readFileSync(path.join(out, 'qubes/salt/qpc.sls'), 'utf8');
const applyOk = (t: ExecutionContext, out: string, dom0: Dom0): void => {
  const r = applySalt(saltOf(out), dom0);
  t.deepEqual([...r.results].filter(([, v]) => !v.ok).map(([k, v]) => `${k}: ${v.comment}`), []);
};
const deviceRecord = (dom0: Dom0): string[] =>
  existsSync(path.join(dom0.qpcDir, 'owned')) ? readFileSync(path.join(dom0.qpcDir, 'owned'), 'utf8').split('\n').filter((l) => l.startsWith('device ')).sort() : [];

for (const release of ['4.2', '4.3'] as const) {
  toolTest(`R${release}: the Salt states assign the devices provision.sh does, record them the same, and take back a dropped one`, async (t) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-dev-'));
    try {
      const v1 = path.join(tmp, 'v1');
      const v2 = path.join(tmp, 'v2');
      const model = await build(policy(release, ['dom0:00_14.3', 'dom0:00_1f.6']), v1);
      await build(policy(release, []), v2);
      const byScript = dom0For(path.join(tmp, 'script'), model, release);
      const bySalt = dom0For(path.join(tmp, 'salt'), model, release);
      // The same starting machine: one assignment sys-net had before qpc.
      for (const dom0 of [byScript, bySalt]) {
        mkdirSync(path.join(dom0.state, 'qubes/sys-net/devices/pci'), { recursive: true });
        writeFileSync(path.join(dom0.state, 'qubes/sys-net/devices/pci/dom0:00_1f.6'), mode[release]);
      }
      const r = runScript(v1, byScript);
      t.is(r.status, 0, r.stderr + r.stdout);
      applyOk(t, v1, bySalt);
      t.deepEqual(deviceMutations(bySalt), [assignCommand[release]], 'Salt assigns only the missing device, with the release command');
      t.deepEqual(devicesOf(bySalt, 'sys-net'), devicesOf(byScript, 'sys-net'));
      t.deepEqual(devicesOf(bySalt, 'sys-net'), { 'dom0:00_14.3': mode[release], 'dom0:00_1f.6': mode[release] });
      t.deepEqual(deviceRecord(bySalt), deviceRecord(byScript));
      t.deepEqual(deviceRecord(bySalt), ['device sys-net pci dom0:00_14.3']);
      clearLog(bySalt);
      applyOk(t, v1, bySalt);
      t.deepEqual(deviceMutations(bySalt), [], 'a second Salt run assigns nothing');
      // v2 drops both devices: Salt takes back qpc's assignment only.
      applyOk(t, v2, bySalt);
      const undo = release === '4.2' ? 'MUTATE qvm-device pci detach sys-net dom0:00_14.3' : 'MUTATE qvm-device pci unassign sys-net dom0:00_14.3';
      t.deepEqual(deviceMutations(bySalt), [undo]);
      t.deepEqual(devicesOf(bySalt, 'sys-net'), { 'dom0:00_1f.6': mode[release] });
      t.deepEqual(deviceRecord(bySalt), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

/** The example with raw device items on sys-net. */
const withItems = (release: '4.2' | '4.3', items: readonly string[]): string =>
  policy(release, []).replace('amend sys-net {\n  template debian-12-xfce\n', `amend sys-net {\n  template debian-12-xfce\n${items.map((i) => `  ${i}\n`).join('')}`);
const optionsOf = (dom0: Dom0, id: string): string | undefined => {
  const f = path.join(dom0.state, 'qubes/sys-net/devices/pci.options', id);
  return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
};

for (const release of ['4.2', '4.3'] as const) {
  toolTest(`R${release}: no-strict-reset is assigned with -o no-strict-reset=True, by provision.sh and by Salt, once`, async (t) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpc-dev-'));
    try {
      const out = path.join(tmp, 'out');
      const model = await build(withItems(release, ['device pci "dom0:00_14.3" no-strict-reset']), out);
      t.deepEqual(model.qubes.find((q) => q.name === 'sys-net')!.devices.map((d) => [d.id, d.noStrictReset]), [['dom0:00_14.3', true]]);
      const withOption = assignCommand[release].replace(' sys-net ', ' -o no-strict-reset=True sys-net ');
      for (const [how, apply] of [
        ['provision.sh', (dom0: Dom0): void => { const r = runScript(out, dom0); t.is(r.status, 0, r.stderr + r.stdout); }],
        ['Salt', (dom0: Dom0): void => applyOk(t, out, dom0)],
      ] as const) {
        const dom0 = dom0For(path.join(tmp, how), model, release);
        apply(dom0);
        t.deepEqual(deviceMutations(dom0), [withOption], how);
        t.deepEqual(devicesOf(dom0, 'sys-net'), { 'dom0:00_14.3': mode[release] }, how);
        t.is(optionsOf(dom0, 'dom0:00_14.3'), 'no-strict-reset=True\n', how);
        clearLog(dom0);
        apply(dom0);
        t.deepEqual(deviceMutations(dom0), [], `${how}: the second run changes nothing`);
      }
      // An assignment the machine had without the option is made again with it.
      for (const [how, apply] of [
        ['provision.sh', (dom0: Dom0): void => { const r = runScript(out, dom0); t.is(r.status, 0, r.stderr + r.stdout); }],
        ['Salt', (dom0: Dom0): void => applyOk(t, out, dom0)],
      ] as const) {
        const dom0 = dom0For(path.join(tmp, `${how}-had`), model, release);
        mkdirSync(path.join(dom0.state, 'qubes/sys-net/devices/pci'), { recursive: true });
        writeFileSync(path.join(dom0.state, 'qubes/sys-net/devices/pci/dom0:00_14.3'), mode[release]);
        apply(dom0);
        const undo = release === '4.2' ? 'MUTATE qvm-device pci detach sys-net dom0:00_14.3' : 'MUTATE qvm-device pci unassign sys-net dom0:00_14.3';
        t.deepEqual(deviceMutations(dom0), [undo, withOption], how);
        t.is(optionsOf(dom0, 'dom0:00_14.3'), 'no-strict-reset=True\n', how);
        clearLog(dom0);
        apply(dom0);
        t.deepEqual(deviceMutations(dom0), [], `${how}: then nothing`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('no-strict-reset is for PCI devices only; another word after a device id is no option (QP2013)', async (t) => {
  const diags = async (item: string): Promise<string[]> => {
    const r = await modelOfText(withItems('4.2', [item]));
    return r.diagnostics.filter((d) => d.code.startsWith('QP2')).map((d) => `${d.code} ${d.message}`);
  };
  t.deepEqual(await diags('device pci "dom0:00_14.3" no-strict-reset'), []);
  t.deepEqual(await diags('device usb "sys-usb:2-1" no-strict-reset'), ['QP2013 `no-strict-reset` is not a valid option of a usb device']);
  t.deepEqual(await diags('device block "sys-usb:sda" no-strict-reset'), ['QP2013 `no-strict-reset` is not a valid option of a block device']);
  t.deepEqual(await diags('device pci "dom0:00_14.3" permissive'), ['QP2013 `permissive` is not a valid device option']);
  t.deepEqual(await diags('device pci "dom0:00_14.3" no-strict-reset no-strict-reset'), ['QP2013 `no-strict-reset` is not a valid repeated device option']);
});
