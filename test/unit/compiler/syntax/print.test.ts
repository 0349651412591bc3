import test from 'ava';
import { format } from '../../../../compiler/syntax/print.js';
import { commentTexts, parseValid, stripLayout, stripSpans } from '../../../helpers/ast.js';

/** Formats `input`, compares with `expected`, and checks the output keeps the meaning and is stable. */
const formats = test.macro((t, input: string, expected: string) => {
  const before = parseValid(input);
  const out = format(before, input);
  t.is(out, expected);
  const after = parseValid(out);
  t.deepEqual(stripLayout(after.statements), stripLayout(before.statements), 'the output means the same');
  t.deepEqual(commentTexts(after), commentTexts(before), 'the output keeps the comments');
  t.is(format(after, out), out, 'formatting the output changes nothing');
});

const lines = (...ls: string[]): string => ls.map((l) => l + '\n').join('');

// ---------------------------------------------------------------- statements

test('use', formats, 'use   "qubes"\nuse "./shared-rules.qpol"', lines('use "qubes"', 'use "./shared-rules.qpol"'));

test(
  'settings: one setting per line',
  formats,
  'settings { qubes 4.2; whonix 18\n policy-file   30-qpc;default-disposable  dvm }',
  lines('settings {', '  qubes 4.2', '  whonix 18', '  policy-file 30-qpc', '  default-disposable dvm', '}'),
);

test(
  'settings: the default kernel is written as a string, or `none`',
  formats,
  'settings {  kernel   "6.6.63-1.fc37" }\nsettings { kernel\tnone }\nsettings { kernel "pvgrub2-pvh" ; kernel "a\\"b" }',
  lines('settings {', '  kernel "6.6.63-1.fc37"', '}', 'settings {', '  kernel none', '}', 'settings {', '  kernel "pvgrub2-pvh"', '  kernel "a\\"b"', '}'),
);

test('an empty settings block keeps its required braces', formats, 'settings {\n\n}\n', lines('settings {}'));

test('adminvm and a template without braces', formats, 'adminvm   dom0\ntemplate\tdebian-12-xfce', lines('adminvm dom0', 'template debian-12-xfce'));

test('a declaration written with empty braces loses them', formats, 'template t {}\namend sys-net {\n\n}\n', lines('template t', 'amend sys-net'));

test(
  'template with whonix',
  formats,
  'template whonix-gateway-18 { whonix gateway }',
  lines('template whonix-gateway-18 {', '  whonix gateway', '}'),
);

test(
  'gateway with tor, uplink and listeners',
  formats,
  [
    'gateway sys-whonix {',
    '  tor; uplink',
    '  listener socks   9100',
    '  listener socks 9101   isolate dest-addr  dest-port',
    '  listener socks 9152..9159 custom',
    '  listener control 9052 local keepalive-socks-auth',
    '  listener socks 9050  keepalive-socks-auth  isolate client-addr\tdest-addr',
    '}',
  ].join('\n'),
  lines(
    'gateway sys-whonix {',
    '  tor',
    '  uplink',
    '  listener socks 9100',
    '  listener socks 9101 isolate dest-addr dest-port',
    '  listener socks 9152..9159 custom',
    '  listener control 9052 local keepalive-socks-auth',
    '  listener socks 9050 keepalive-socks-auth isolate client-addr dest-addr',
    '}',
  ),
);

test(
  'identity with network, label, disposable and isolation',
  formats,
  'identity work { network clearnet  via sys-firewall; label blue }\nidentity anon {network tor via sys-whonix\nlabel red\ndisposable anon-dvm\nisolation per-app}\nidentity keys { network none; label black }',
  lines(
    'identity work {',
    '  network clearnet via sys-firewall',
    '  label blue',
    '}',
    'identity anon {',
    '  network tor via sys-whonix',
    '  label red',
    '  disposable anon-dvm',
    '  isolation per-app',
    '}',
    'identity keys {',
    '  network none',
    '  label black',
    '}',
  ),
);

test(
  'qube with every item',
  formats,
  [
    'qube work-email in work {',
    '  template debian-12-xfce; label  blue',
    '  memory 400   max 4000',
    '  memory 400',
    '  vcpus 2',
    '  virt-mode pvh',
    '  kernel "6.6.1"',
    '  kernel none',
    '  kernelopts "nopat swiotlb=8192"',
    '  netvm sys-firewall',
    '  netvm none',
    '  default-disposable work-dvm',
    '  default-disposable none',
    '  device pci "00_1f.6"',
    '  device pci   "dom0:00_14.3"\tno-strict-reset',
    '  device mic',
    '  tag   work',
    '  feature   gui-default.secure-copy-sequence  "Ctrl-Shift-c"',
    '  service cups',
    '  service cups on',
    '  service crond   off',
    '  autostart',
    '  app thunderbird',
    '}',
  ].join('\n'),
  lines(
    'qube work-email in work {',
    '  template debian-12-xfce',
    '  label blue',
    '  memory 400 max 4000',
    '  memory 400',
    '  vcpus 2',
    '  virt-mode pvh',
    '  kernel "6.6.1"',
    '  kernel none',
    '  kernelopts "nopat swiotlb=8192"',
    '  netvm sys-firewall',
    '  netvm none',
    '  default-disposable work-dvm',
    '  default-disposable none',
    '  device pci "00_1f.6"',
    '  device pci "dom0:00_14.3" no-strict-reset',
    '  device mic',
    '  tag work',
    '  feature gui-default.secure-copy-sequence "Ctrl-Shift-c"',
    '  service cups',
    '  service cups on',
    '  service crond off',
    '  autostart',
    '  app thunderbird',
    '}',
  ),
);

test(
  'app with each socks form stays on one line',
  formats,
  [
    'qube anon-chat in anon {',
    '  app hexchat{socks dedicated   isolate dest-addr dest-port client-protocol}',
    '  app ssh {',
    '    socks dedicated',
    '  }',
    '  app git { socks auth; }',
    '  app torbrowser {socks  port 9150 }',
    '  app curl { socks none }',
    '}',
  ].join('\n'),
  lines(
    'qube anon-chat in anon {',
    '  app hexchat { socks dedicated isolate dest-addr dest-port client-protocol }',
    '  app ssh { socks dedicated }',
    '  app git { socks auth }',
    '  app torbrowser { socks port 9150 }',
    '  app curl { socks none }',
    '}',
  ),
);

test(
  'disposable, named-disposable, standalone and amend',
  formats,
  'disposable anon-dvm in anon { template whonix-workstation-18 }\nnamed-disposable sys-usb in usb { template usb-dvm }\nstandalone win in work\namend sys-firewall { memory 500 }',
  lines(
    'disposable anon-dvm in anon {',
    '  template whonix-workstation-18',
    '}',
    'named-disposable sys-usb in usb {',
    '  template usb-dvm',
    '}',
    'standalone win in work',
    'amend sys-firewall {',
    '  memory 500',
    '}',
  ),
);

// ---------------------------------------------------------------- rules

test('a lone rule has single spaces and its argument after a space', formats, 'allow   qubes.ConnectTCP+22 from work  to @default', lines('allow qubes.ConnectTCP +22 from work to @default'));

test(
  'a rule with every parameter, in the order written',
  formats,
  'ask qubes.Filecopy from work to keys default vault target vault user root notify no-notify no-autostart because  "the \\"vault\\" copy\\\\\\n\\tpath"',
  lines('ask qubes.Filecopy from work to keys default vault target vault user root notify no-notify no-autostart because "the \\"vault\\" copy\\\\\\n\\tpath"'),
);

test('a raw tab in a string is written as an escape', formats, 'waive QP3101 on anon because "a\tb"', lines('waive QP3101 on anon because "a\\tb"'));

test(
  'consecutive rules are aligned in columns',
  formats,
  [
    'allow qubes.Gpg from work-email to vault',
    'ask qubes.Filecopy from work to keys default vault',
    'allow qubes.ConnectTCP +22 from work-email to @default target vault',
    'deny * from anon-chat to @dispvm',
  ].join('\n'),
  lines(
    'allow qubes.Gpg            from work-email to vault',
    'ask   qubes.Filecopy       from work       to keys default vault',
    'allow qubes.ConnectTCP +22 from work-email to @default target vault',
    'deny  *                    from anon-chat  to @dispvm',
  ),
);

test(
  'a blank line or another statement ends a run; a comment does not',
  formats,
  [
    'allow a.B from x to y',
    '# between',
    'allow a.LongerName from longer-source to z',
    '',
    'deny c from s to t',
    'deny c.D from s to t',
    'require a isolated-from b',
    'ask e from s to t',
  ].join('\n'),
  lines(
    'allow a.B          from x             to y',
    '# between',
    'allow a.LongerName from longer-source to z',
    '',
    'deny  c   from s to t',
    'deny  c.D from s to t',
    'require a isolated-from b',
    'ask e from s to t',
  ),
);

test(
  'policy-file block with one rule per line',
  formats,
  'policy-file 20-deny { deny qubes.Filecopy from anon to @anyvm; deny qubes.ClipboardPaste from anon to @anyvm }\npolicy-file 10-empty {}',
  lines(
    'policy-file 20-deny {',
    '  deny  qubes.Filecopy       from anon to @anyvm',
    '  deny  qubes.ClipboardPaste from anon to @anyvm',
    '}',
    'policy-file 10-empty {}',
  ),
);

const hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

test(
  'stock policy-file blocks keep stock, sha256 and releases in order',
  formats,
  `policy-file 50-config-filecopy   stock\tsha256   "${hash}"  for 4.2   4.3 { ask qubes.Filecopy from @anyvm to @anyvm }\npolicy-file 29-site stock sha256 "${hash}" {}\npolicy-file 90-x stock for 4.3 {}`,
  lines(
    `policy-file 50-config-filecopy stock sha256 "${hash}" for 4.2 4.3 {`,
    '  ask qubes.Filecopy from @anyvm to @anyvm',
    '}',
    `policy-file 29-site stock sha256 "${hash}" {}`,
    'policy-file 90-x stock for 4.3 {}',
  ),
);

test(
  'a stock block whose sha256 string holds a brace and a hash sign keeps its comment',
  formats,
  'policy-file 29-site stock sha256 "{#" { # the block\n  deny a from b to c\n}',
  lines('policy-file 29-site stock sha256 "{#" {  # the block', '  deny a from b to c', '}'),
);

test(
  'require with both relations',
  formats,
  'require  anon isolated-from   work\nrequire anon never-reaches vault',
  lines('require anon isolated-from work', 'require anon never-reaches vault'),
);

test(
  'expect with its argument attached, target lists and user',
  formats,
  [
    'expect qubes.Filecopy from anon-chat to work-email :deny',
    'expect qubes.ConnectTCP +22 from work to @default: allow target vault user root',
    'expect qubes.OpenURL from anon to @dispvm: ask targets anon-dvm ,anon-dvm2,  @dispvm:anon-dvm default anon-dvm',
  ].join('\n'),
  lines(
    'expect qubes.Filecopy from anon-chat to work-email: deny',
    'expect qubes.ConnectTCP+22 from work to @default: allow target vault user root',
    'expect qubes.OpenURL from anon to @dispvm: ask targets anon-dvm, anon-dvm2, @dispvm:anon-dvm default anon-dvm',
  ),
);

test('waive', formats, 'waive QP3102  on anon-chat because "Whonix template built locally"', lines('waive QP3102 on anon-chat because "Whonix template built locally"'));

// ---------------------------------------------------------------- comments

test(
  'own-line comments stay before the next node at its indentation',
  formats,
  ['# header', '   #indented', 'qube q in i {', '        # about the template', '  template t', '}'].join('\n'),
  lines('# header', '#indented', 'qube q in i {', '  # about the template', '  template t', '}'),
);

test(
  'end-of-line comments stay at the end of their line; a block head and `}` align with their neighbours',
  formats,
  ['use "qubes"# one', 'qube q in i {   #  after the brace', '  label red\t# two   ', '}    # after the block', 'allow a from b to c # three'].join('\n'),
  lines('use "qubes"    # one', 'qube q in i {  #  after the brace', '  label red  # two', '}                    # after the block', 'allow a from b to c  # three'),
);

test(
  'a lone end-of-line comment is two spaces after the code',
  formats,
  ['template t# one', '', 'adminvm dom0\t\t# two'].join('\n'),
  lines('template t  # one', '', 'adminvm dom0  # two'),
);

test(
  'end-of-line comments on consecutive lines share a column, two spaces after the longest code',
  formats,
  ['qube q in i {', '  label red # a', '  memory 400   max 4000 # b', '  vcpus 2 #c', '}'].join('\n'),
  lines('qube q in i {', '  label red            # a', '  memory 400 max 4000  # b', '  vcpus 2              #c', '}'),
);

test(
  'a line without an end-of-line comment or a comment on its own line ends a run',
  formats,
  ['template t # a', 'template longer-name', 'adminvm dom0 # b', 'template tt # c', '# own line', 'template u # d'].join('\n'),
  lines('template t  # a', 'template longer-name', 'adminvm dom0  # b', 'template tt   # c', '# own line', 'template u  # d'),
);

test(
  'a blank line ends a run',
  formats,
  ['template a # 1', 'template bbbbbb # 2', '', 'template cc # 3', 'template d # 4'].join('\n'),
  lines('template a       # 1', 'template bbbbbb  # 2', '', 'template cc  # 3', 'template d   # 4'),
);

test(
  'aligned rules align their end-of-line comments after the longest rule; a change of block ends a run',
  formats,
  [
    'allow qubes.Gpg from work-email to vault # gpg',
    'ask qubes.Filecopy from work to keys default vault # copy',
    'deny * from anon-chat to @dispvm # never',
    '',
    'policy-file 20-deny { # the block',
    '  deny qubes.Filecopy from anon to @anyvm # one',
    '  deny qubes.ClipboardPaste from anon to @anyvm # two',
    '} # end',
  ].join('\n'),
  lines(
    'allow qubes.Gpg      from work-email to vault               # gpg',
    'ask   qubes.Filecopy from work       to keys default vault  # copy',
    'deny  *              from anon-chat  to @dispvm             # never',
    '',
    'policy-file 20-deny {  # the block',
    '  deny  qubes.Filecopy       from anon to @anyvm  # one',
    '  deny  qubes.ClipboardPaste from anon to @anyvm  # two',
    '}  # end',
  ),
);

test(
  'a run splits before a line that would make its code widths differ by more than 40 columns',
  formats,
  [
    'template a # 1',
    'template bb # 2',
    'waive QP3101 on anon-chat because "built locally, checked by hand" # 3',
    'use "./a-somewhat-longer-path.qpol" # 4',
    'template c # 5',
  ].join('\n'),
  lines(
    'template a   # 1',
    'template bb  # 2',
    // 66 columns against 11: a new run, which the 35-column line joins (66 - 35 <= 40).
    'waive QP3101 on anon-chat because "built locally, checked by hand"  # 3',
    'use "./a-somewhat-longer-path.qpol"                                 # 4',
    'template c  # 5',
  ),
);

test(
  'comments at the end of a block and of the file stay there',
  formats,
  ['identity i {', '  label red', '', '', '  # last in the block', '', '}', '', '', '# last in the file', '', ''].join('\n'),
  lines('identity i {', '  label red', '', '  # last in the block', '}', '', '# last in the file'),
);

test(
  'a declaration whose braces hold only comments keeps them',
  formats,
  'template t { # why empty\n}\nqube q in i {\n  # nothing yet\n}',
  lines('template t {  # why empty', '}', 'qube q in i {', '  # nothing yet', '}'),
);

test(
  'an empty policy-file block with a comment keeps it inside',
  formats,
  'policy-file 40-later {\n# to do\n}',
  lines('policy-file 40-later {', '  # to do', '}'),
);

test(
  'comments inside an app move before its line, the last to its end',
  formats,
  ['qube q in i {', '  app git {', '    # first', '    socks auth # second', '  }', '  app ssh { # third', '    socks dedicated', '  } # fourth', '}'].join('\n'),
  lines('qube q in i {', '  # first', '  app git { socks auth }  # second', '  # third', '  app ssh { socks dedicated }  # fourth', '}'),
);

test('comment text is kept exactly, trailing blanks removed', formats, '#\n#   spaced  \n##double\n#"{;}"\n', lines('#', '#   spaced', '##double', '#"{;}"'));

test('a file of comments only', formats, '\n\n# a\n\n\n# b', lines('# a', '', '# b'));

test('an empty file stays empty', formats, '\n\n  \n', '');

test('a `#` inside a string is not a comment', formats, 'qube q in i { feature k "a # b" }', lines('qube q in i {', '  feature k "a # b"', '}'));

// ---------------------------------------------------------------- blank lines and separators

test(
  'blank lines collapse to one, none at the start of a block or before `}`',
  formats,
  ['', '', 'template t', '', '', '', 'identity i {', '', '  label red', '', '', '  network none', '', '}', 'template u', '', ''].join('\n'),
  lines('template t', '', 'identity i {', '  label red', '', '  network none', '}', 'template u'),
);

test(
  '`;`-separated statements go on lines of their own',
  formats,
  'template t; template u;;identity i { label red ; network none } ; allow a from b to c',
  lines('template t', 'template u', 'identity i {', '  label red', '  network none', '}', 'allow a from b to c'),
);

test('a line holding only `;` counts as blank', formats, 'template t\n;\ntemplate u\n', lines('template t', '', 'template u'));

test('CRLF line endings become LF', formats, 'template t # c\r\n\r\nqube q in i {\r\n  label red\r\n}\r\n', lines('template t  # c', '', 'qube q in i {', '  label red', '}'));

test('the DESIGN §3 example', (t) => {
  const input = [
    'use "qubes"                       # standard library',
    'settings {',
    '  qubes 4.2                       # target release',
    '  policy-file 30-qpc',
    '}',
    '',
    'identity keys { network none; label black }',
    '',
    'qube anon-chat in source-contact {',
    '  app hexchat    { socks dedicated isolate dest-addr dest-port }',
    '  app git        { socks auth }            # port 9050',
    '}',
    '',
    'allow qubes.Gpg             from work-email to vault',
    'ask   qubes.Filecopy        from work       to keys   default vault',
    '',
    'expect qubes.OpenURL  from anon-chat to @dispvm: allow target @dispvm:source-contact-dvm',
  ].join('\n');
  const out = format(parseValid(input), input);
  t.deepEqual(stripSpans(parseValid(out).statements), stripSpans(parseValid(input).statements), 'no braces were dropped: the trees are equal');
  t.is(
    out,
    lines(
      'use "qubes"  # standard library',
      'settings {',
      '  qubes 4.2  # target release',
      '  policy-file 30-qpc',
      '}',
      '',
      'identity keys {',
      '  network none',
      '  label black',
      '}',
      '',
      'qube anon-chat in source-contact {',
      '  app hexchat { socks dedicated isolate dest-addr dest-port }',
      '  app git { socks auth }  # port 9050',
      '}',
      '',
      'allow qubes.Gpg      from work-email to vault',
      'ask   qubes.Filecopy from work       to keys default vault',
      '',
      'expect qubes.OpenURL from anon-chat to @dispvm: allow target @dispvm:source-contact-dvm',
    ),
  );
});
