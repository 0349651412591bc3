// The test reader of policy files must accept what Qubes accepts and refuse what it refuses,
// or the round-trip tests prove nothing.
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parsePolicy, PolicySyntaxError } from '../../../helpers/qrexec-policy-parser.js';

const stock = path.resolve('..', 'shared', 'reference', 'qubes-policy');
const stockDir = (release: string) => path.join(stock, release === '4.2' ? 'r4.2' : 'main', 'policy.d');

// Qubes' stock files are reference material kept beside the project, not part of it: where
// they are not laid out (a plain clone), this check is skipped, loudly.
const haveStock = existsSync(stockDir('4.2')) && existsSync(stockDir('4.3'));
if (!haveStock) process.stderr.write(`SKIPPED: reading the stock policy files (no copies at ${stock})\n`);

for (const release of ['4.2', '4.3'] as const) {
  (haveStock ? test : test.skip)(`reads every stock policy file of Qubes ${release} (directives aside)`, (t) => {
    const dir = stockDir(release);
    let rules = 0;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.policy'))) {
      const text = readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !l.trim().startsWith('!'))
        .join('\n');
      rules += parsePolicy(text, release).length;
    }
    t.true(rules > 40);
  });
}

// Reference §1.9: inputs Qubes' parser refuses (identical on R4.2 and R4.3).
const refused: readonly [string, RegExp][] = [
  ['qubes.Gpg * work vault allow,target=vault', /invalid action/],
  ['qubes.Gpg * work vault permit', /invalid action/],
  ['qubes.Gpg * work vault', /wrong number of fields/],
  ['qubes.Gpg work vault allow target=vault', /does not start with \+/],
  ['qubes.Gpg * work vault allow default_target=@dispvm', /invalid parameters for action allow/],
  ['qubes.Gpg * work vault deny target=vault', /invalid parameters for action deny/],
  ['qubes.Gpg * @dispvm vault allow', /invalid source token/],
  ['qubes.Gpg * work vault allow target=@anyvm', /invalid redirect token/],
  ['qubes.Gpg * work @default allow', /must specify target=/],
  ['* +x work vault allow', /only \* argument allowed/],
  ['qubes.Gpg * work vault allow # comment', /invalid action parameter syntax: '#'/],
  ['qubes.Gpg * work vault allow notify=false', /can be only 'yes' or 'no'/],
  ['qubes.Open/URL * work vault allow', /contains invalid characters/],
  ['qubes.Gpg * work vault allow target=a target=b', /parameter given twice/],
  ['qubes.Gpg * @tag: vault allow', /invalid empty @tag: token/],
  ['qubes.Gpg * @uuid:x vault allow', /invalid source token/],
  ['!include /tmp/x', /directive/],
];

test('refuses what Qubes refuses', (t) => {
  for (const release of ['4.2', '4.3'] as const) {
    for (const [line, message] of refused) t.throws(() => parsePolicy(line, release), { instanceOf: PolicySyntaxError, message }, `${release}: ${line}`);
  }
});

test('reads the release differences: dom0 is @adminvm on 4.2; an empty redirect is refused on 4.3 only', (t) => {
  t.is(parsePolicy('qubes.GetDate * @anyvm @anyvm allow target=dom0', '4.2')[0].redirect, '@adminvm');
  t.is(parsePolicy('qubes.GetDate * @anyvm @anyvm allow target=dom0', '4.3')[0].redirect, 'dom0');
  t.is(parsePolicy('qubes.GetDate * dom0 @anyvm deny', '4.2')[0].source, '@adminvm');
  t.is(parsePolicy('qubes.GetDate * @anyvm @anyvm allow target=', '4.2')[0].redirect, '');
  t.throws(() => parsePolicy('qubes.GetDate * @anyvm @anyvm allow target=', '4.3'), { message: /invalid empty redirect token/ });
  t.deepEqual(parsePolicy('# c\n\n  qubes.Gpg\t+\twork  @dispvm:@tag:t   ask user=u notify=yes autostart=no\r\n', '4.3'), [
    { service: 'qubes.Gpg', argument: '+', source: 'work', target: '@dispvm:@tag:t', action: 'ask', user: 'u', notify: true, autostart: false, line: 3 },
  ]);
});
