/**
 * The wording and the places of the channel findings (QP3030, QP3036): one
 * grammatical sentence per kind of finding, on the rule of the user's that
 * opens a channel, with generated and stock rules named only in notes.
 */
import test from 'ava';
import { findings, head } from '../../../helpers/qrexec-findings.js';

test('QP3036 for a direct allow is on the allow, says allows, and names the require in a note, not a generated ask', (t) => {
  const rule = 'allow qubes.Filecopy from anon-chat to work-email';
  const ds = findings(head + rule + '\nrequire anon isolated-from work\n', 'QP3036');
  t.deepEqual(ds, [
    {
      message: 'requirement `anon isolated-from work` does not hold: the policy allows `qubes.Filecopy` from `anon-chat` to `work-email`',
      underline: rule,
      label: 'opens the channel',
      related: [{ text: 'require anon isolated-from work', message: '`require anon isolated-from work` is declared here' }],
    },
  ]);
});

test('QP3036 prefers the user\'s rule to a stock dialog that the same requirement also meets', (t) => {
  // The stock `ask qubes.OpenURL … @anyvm` reaches work's qubes from home's too; the user's allow is the mistake to show.
  const src = head + 'identity home { network clearnet via sys-firewall; label green; disposable home-dvm }\ndisposable home-dvm in home { template deb }\nqube home-web in home { template deb }\nallow qubes.OpenURL from home-web to work-email\nrequire home isolated-from work\n';
  const [d] = findings(src, 'QP3036');
  t.is(d.message, 'requirement `home isolated-from work` does not hold: the policy allows `qubes.OpenURL` from `home-web` to `work-email`');
  t.is(d.underline, 'allow qubes.OpenURL from home-web to work-email');
});

test('QP3036 without a rule of the user\'s stays on the require and names the deciding rule in a note; an ask says the dialog', (t) => {
  const src = head + 'identity home { network clearnet via sys-firewall; label green; disposable home-dvm }\ndisposable home-dvm in home { template deb }\nqube home-web in home { template deb }\nrequire home isolated-from work\n';
  const [d] = findings(src, 'QP3036');
  t.regex(d.message, /^requirement `home isolated-from work` does not hold: the policy allows `qubes\.\w+` from `home-\w+` to `work-\w+` when the user confirms the dialog$/);
  t.is(d.underline, 'require home isolated-from work');
  t.is(d.label, 'does not hold');
  t.is(d.related.length, 1);
  t.regex(d.related[0].message, /^decided by `ask qubes\.\w+ from @anyvm to @anyvm` in 90-default[\w-]*\.policy \(stock;/);
});

/** Denies every call into and out of identity `home`, so only the topology can link it. */
const closed = 'deny * from @tag:identity-home to @anyvm because "closed"\ndeny * from @anyvm to @tag:identity-home because "closed"\ndeny * from @anyvm to @dispvm:@tag:identity-home because "closed"\n';

test('QP3036 for a shared gateway is one sentence naming both sides, the gateway and the qubes whose netvm it is', (t) => {
  const src =
    head +
    'gateway sys-vpn { template deb; netvm sys-firewall }\nidentity home { network clearnet via sys-vpn; label green; disposable home-dvm }\ndisposable home-dvm in home { template deb }\nqube home-web in home { template deb }\nqube work-vpn in work { template deb; netvm sys-vpn }\n' +
    closed +
    'require home isolated-from work\n';
  const ds = findings(src, 'QP3036');
  t.deepEqual(ds, [
    {
      message: 'requirement `home isolated-from work` does not hold: `home` and `work` share the gateway `sys-vpn`, the netvm of both `home-dvm` and `work-vpn`',
      underline: 'require home isolated-from work',
      label: 'does not hold',
      related: [
        { text: 'network clearnet via sys-vpn', message: '`home-dvm` has the netvm `sys-vpn`, from its identity' },
        { text: 'netvm sys-vpn', message: '`work-vpn` has the netvm `sys-vpn`' },
      ],
    },
  ]);
});

test('QP3036 for a shared disposable template names it and the qubes that start their disposables from it', (t) => {
  const src =
    head +
    'identity home { network none; label green; disposable work-dvm }\nqube home-notes in home { template deb }\nidentity keys { network none; label black; disposable work-dvm }\nqube keys-vault in keys { template deb }\n' +
    closed +
    'deny * from @tag:identity-keys to @anyvm because "closed"\ndeny * from @anyvm to @tag:identity-keys because "closed"\n' +
    'require home isolated-from keys\n';
  const [d] = findings(src, 'QP3036');
  t.is(d.message, 'requirement `home isolated-from keys` does not hold: `home` and `keys` share the disposable template `work-dvm`, which both `home-notes` and `keys-vault` start their disposables from');
  t.deepEqual(
    d.related.map((r) => r.message),
    ['`home-notes` starts its disposables from `work-dvm`', '`keys-vault` starts its disposables from `work-dvm`'],
  );
});

test('QP3030 says what an ask does in a sentence', (t) => {
  const [d] = findings(head + 'ask qubes.Filecopy from anon-chat to work-email\n', 'QP3030');
  t.is(d.message, '`qubes.Filecopy` is allowed from `anon-chat` (Tor identity `anon`) to `work-email` (identity `work`) when the user confirms the dialog');
  t.is(d.underline, 'ask qubes.Filecopy from anon-chat to work-email');
});
