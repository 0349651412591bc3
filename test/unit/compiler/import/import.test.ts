/**
 * `qpc import` on the two recorded snapshots (test/fixtures/snapshots/): the
 * imported policies are goldens (test/golden/import/, the spec), print
 * unchanged through the formatter, check without errors once the machine's
 * own findings are accepted on the command line, compile, and come out the
 * same bytes every time. Damaged snapshots give diagnostics, never an
 * exception, and the rest is imported.
 */
import test from 'ava';
import { nodeHost, type CompilerHost } from '../../../../compiler/host.js';
import { check, compile, format, importSnapshot, overlayHost, type ImportResult } from '../../../../compiler/index.js';
import { expectGolden } from '../../../helpers/golden.js';
import { snapshotCopy } from './snapshot-copy.js';
import { commentText } from '../../../../compiler/import/import.js';

const snapshots = { 'qubes-4.2-whonix': 'test/fixtures/snapshots/qubes-4.2-whonix', 'securedrop-like': 'test/fixtures/snapshots/securedrop-like' } as const;

/** The machine's own findings, which the import marks with `because` and `waive`: accepted as the command line would. */
const accepted = ['QP3007', 'QP3010', 'QP3015', 'QP3030', 'QP3031', 'QP3032'];

function imported(dir: string, noIdentities = false): ImportResult {
  const r = importSnapshot(dir, { noIdentities });
  if (!('text' in r) || r.text === undefined) throw new Error(`no import: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r;
}

function checkText(text: string, allowWaived: readonly string[] = accepted) {
  const entry = 'imported.qpol';
  return check(entry, { host: overlayHost(new Map([[entry, text]]), nodeHost), allowWaived });
}

for (const [name, dir] of Object.entries(snapshots)) {
  test(`${name}: the import is the golden, formatted, and the same bytes every time`, (t) => {
    const a = imported(dir);
    expectGolden(t, `test/golden/import/${name}.qpol`, a.text!);
    t.is(format('imported.qpol', a.text!).text, a.text);
    t.is(imported(dir).text, a.text);
    t.true(a.diagnostics.every((d) => d.severity !== 'error'), a.diagnostics.map((d) => d.message).join('\n'));
  });

  test(`${name}: the import checks without errors and compiles`, async (t) => {
    const text = imported(dir).text!;
    const c = checkText(text);
    t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), []);
    // Without the flags the machine's anonymity findings stay errors: the import hides none of them.
    const strict = checkText(text, []);
    t.true(strict.diagnostics.every((d) => !/^QP[12]/.test(d.code) || d.severity !== 'error'), 'no syntax or name error');
    const entry = 'imported.qpol';
    const out = await compile(entry, { host: overlayHost(new Map([[entry, text]]), nodeHost), allowWaived: accepted });
    t.truthy(out.artifacts?.some((a) => a.path.startsWith('qubes/policy.d/')), out.diagnostics.map((d) => d.message).join('\n'));
  });

  test(`${name}: --no-identities gives every qube an identity of its own, none through Tor`, (t) => {
    const text = imported(dir, true).text!;
    expectGolden(t, `test/golden/import/${name}.no-identities.qpol`, text);
    t.notRegex(text, /network tor/);
    // A Whonix workstation outside a Tor identity is an error no waiver takes (QP3010): the price of changing no decision.
    const c = checkText(text);
    t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'QP3010').map((d) => d.code), []);
  });
}

/** A host over a recorded snapshot with some files replaced (undefined: missing). */
function damaged(dir: string, changes: Readonly<Record<string, string | undefined>>): CompilerHost {
  return {
    readFile(p, o) {
      const rel = p.slice(dir.length + 1);
      if (Object.hasOwn(changes, rel)) {
        const v = changes[rel];
        if (v === undefined) throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
        return v;
      }
      return nodeHost.readFile(p, o);
    },
  };
}

test('a snapshot with missing pieces names them and imports the rest', (t) => {
  const dir = snapshots['qubes-4.2-whonix'];
  const r = importSnapshot(dir, { host: damaged(dir, { 'qubes/work.prefs': undefined, 'policy.d/50-config-input.policy': '\u0000\u0001binary' }) });
  t.true('text' in r && r.text !== undefined);
  const text = (r as ImportResult).text!;
  t.regex(text, /qube work in blue/);
  t.notRegex(text, /50-config-input/);
  const messages = r.diagnostics.map((d) => `${d.code} ${d.message}`);
  t.true(messages.some((m) => m.startsWith('QP5001') && m.includes('qubes/work.prefs')), messages.join('\n'));
  t.true(messages.some((m) => m.startsWith('QP5001') && m.includes('50-config-input.policy')), messages.join('\n'));
  t.true(r.diagnostics.every((d) => d.severity !== 'error'));
  t.deepEqual(checkText(text).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
});

test('a directory that is not a snapshot gives diagnostics and no policy', (t) => {
  const r = importSnapshot('test/fixtures/no-such-snapshot');
  t.false('text' in r && r.text !== undefined);
  t.true(r.diagnostics.some((d) => d.code === 'QP5001'));
});

test('a rule the language cannot write is a diagnostic at its line, and the import goes on', (t) => {
  const text = 'qubes.Gpg * work vault allow\nqubes.Filecopy * * @anyvm deny\nqubes.Gpg * gone vault allow\n';
  const dir = snapshotCopy(snapshots['qubes-4.2-whonix'], { 'policy.d/30-user.policy': text });
  const r = imported(dir);
  t.regex(r.text!, /policy-file 30-user \{\n  allow qubes.Gpg from work to vault\n  # not imported: qubes.Filecopy \* \* @anyvm deny\n  # not imported: qubes.Gpg \* gone vault allow\n\}/);
  const found = r.diagnostics.filter((d) => d.code === 'QP6201');
  t.deepEqual(found.map((d) => d.span?.line), [2, 3]);
  t.true(found[1]!.message.includes('`gone`'));
});

test('a stock file changed by hand is reported, and the stock model kept', (t) => {
  const base = snapshots['qubes-4.2-whonix'];
  const dir = snapshotCopy(base, { 'policy.d/90-default-linux.policy': 'qubes.VMShell * @anyvm @anyvm allow\n' });
  const r = imported(dir);
  t.true(r.diagnostics.some((d) => d.code === 'QP6203' && d.message.includes('90-default-linux.policy')));
  t.notRegex(r.text!, /VMShell/);
});

test('any file of a snapshot replaced by junk: diagnostics, never an exception, and a policy that formats as it is', async (t) => {
  const fc = (await import('fast-check')).default;
  const dir = snapshots['qubes-4.2-whonix'];
  const files = ['qvm-ls.txt', 'qubes-prefs.txt', 'qubes/work.prefs', 'qubes/sys-net.features', 'qubes/anon-whonix.tags', 'devices/pci.txt', 'policy.d/50-config-input.policy', 'policy.d/90-default.policy', 'files.sha256', 'version'];
  const junk = fc.oneof(fc.string({ maxLength: 200 }), fc.constant('\u0000\u00ff\u0001'), fc.constant('x|y|z\n|||||||||\n'), fc.constant('qubes.Gpg * @anyvm @anyvm allow target=\n'));
  fc.assert(
    fc.property(fc.constantFrom(...files), junk, (file, text) => {
      const r = importSnapshot(dir, { host: damaged(dir, { [file]: text }) });
      if ('text' in r && r.text !== undefined) t.is(format('imported.qpol', r.text).text, r.text);
      t.true(r.diagnostics.every((d) => d.code !== 'QP9001'), r.diagnostics.map((d) => d.message).join('\n'));
    }),
    { numRuns: 8, seed: 1117 },
  );
});

test('a tag, feature or service the language cannot write is named, and the rest of the qube imported', (t) => {
  const base = snapshots['qubes-4.2-whonix'];
  const dir = snapshotCopy(base, { 'qubes/work.features': 'note  caf\u00e9\nok.key  plain\n', 'qubes/work.tags': 'created-by-dom0\nwork-tag\n' });
  const r = imported(dir);
  t.regex(r.text!, /qube work in blue \{\n  template fedora-40-xfce\n  tag work-tag\n  feature ok.key "plain"\n\}/);
  t.true(r.diagnostics.some((d) => d.code === 'QP6202' && d.message.includes('the feature "note" of `work`')));
  t.deepEqual(checkText(r.text!).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
});

test("a Whonix-Gateway's own torrc lines and a gateway the snapshot skipped are named", (t) => {
  const dir = snapshotCopy(snapshots['qubes-4.2-whonix'], { 'whonix/sys-whonix/torrc.d/50_user.conf': '# mine\nSocksPort 10.137.0.5:9300\n' });
  const r = imported(dir);
  t.true(r.diagnostics.some((d) => d.code === 'QP6202' && d.message.startsWith("`sys-whonix`'s `torrc.d/50_user.conf` is not imported")));
  const sd = imported(snapshots['securedrop-like']);
  t.true(sd.diagnostics.some((d) => d.code === 'QP6202' && d.message === 'the Whonix-Gateway configuration of `sd-whonix` is not imported: the snapshot did not record it (not running)'));
});

test('snapshot text in a comment cannot end the comment: a carriage return in a device option writes no statement', (t) => {
  // A comment ends at a carriage return as at a line feed; the device list is the backend's word.
  const evil = 'sys-usb:2-1  Evil device  work (frontend-dev=xvdi\rqube injected in blue { template fedora-40-xfce })\n';
  const dir = snapshotCopy(snapshots['qubes-4.2-whonix'], { 'devices/usb.txt': evil });
  const r = imported(dir);
  t.false(r.text!.includes('\r'));
  t.regex(r.text!, /# not imported: device usb .*\\x0dqube injected/);
  const decls = checkText(r.text!).program?.decls;
  t.true(decls !== undefined && !decls.has('injected'), 'no qube `injected` is declared');
});

test('commentText writes every character outside printable ASCII as an escape', (t) => {
  t.is(commentText('a\rb\nc\u0085d\u202ee'), 'a\\x0db\\x0ac\\x85d\\u{202e}e');
  t.is(commentText('plain text: ok'), 'plain text: ok');
});
