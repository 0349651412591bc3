/**
 * The diagnostics catalogue: every code qpc can report, with its severity,
 * message template, one-line summary and explanation. Codes are stable: never
 * renumber or reuse one; retire it with `retired: true`.
 *
 * Ranges: QP1xxx syntax, QP2xxx names and binding, QP3xxx analysis,
 * QP4xxx targets, QP5xxx command line and I/O, QP6xxx native policy files
 * (`qpc lint`), QP9xxx internal.
 */

/**
 * Who may waive a finding (`because "…"` on its rule, `waive CODE on NAME`):
 *
 * - `never`: a finding that makes the artifacts wrong, unsafe to install or
 *   unlike what the proof describes (and every syntax, name, target, I/O and
 *   internal finding). No waiver changes it; a `waive` naming it is an error.
 * - `explicit`: a finding critical for anonymity, one a compromised app in a
 *   Tor identity could use to learn the real IP address or to link the
 *   identity to another. The policy's waiver counts only when the command
 *   line names the code too (`--allow-waived CODE`), so a change to the
 *   policy alone cannot accept it.
 * - `author`: the rest; the policy's own waiver suffices.
 */
export type WaiverClass = 'never' | 'explicit' | 'author';

export interface CodeSpec {
  readonly slug: string;
  readonly severity: 'error' | 'warning' | 'info';
  /** Who may waive the finding; a code without one is never waived. */
  readonly waiver?: WaiverClass;
  /**
   * Message with `{placeholders}`; lowercase start, no final period. A code
   * whose findings come in kinds that need different sentences has one
   * template per kind instead, keyed by the kind (kebab-case); the finding
   * names its kind as the argument `kind`.
   */
  readonly template: string | { readonly [kind: string]: string };
  readonly summary: string;
  /** Regal's shape: why it matters, what to avoid, what to write instead. */
  readonly explanation: { readonly rationale: string; readonly avoid?: string; readonly prefer?: string };
  readonly retired?: boolean;
}

export const codes = {
  QP1001: {
    slug: 'syntax-error',
    severity: 'error',
    waiver: 'never',
    template: 'expected {expected}, found {found}',
    summary: 'The text does not follow the grammar of the policy language.',
    explanation: {
      rationale:
        'qpc reads a policy as statements, one per line (or separated by `;`), and blocks in braces. Where what is written cannot continue the statement, qpc names what it expected there, in the words of the language (inside a block, the items that block takes, and `}`), and suggests the keyword a misspelt word is closest to. It then skips that statement, or inside a block that item, and reads on, so one run reports every independent mistake of a file, each once (at most 20 per file). Nothing is compiled from a file with a syntax error.',
      avoid: 'qube work in work {\n  memory 400MB\n}',
      prefer: 'qube work in work {\n  memory 400   # MiB, a plain number\n}',
    },
  },
  QP1002: {
    slug: 'unterminated-string',
    severity: 'error',
    waiver: 'never',
    template: 'unterminated string',
    summary: 'A string opened with `"` is not closed on the same line.',
    explanation: {
      rationale: 'Strings (paths in `use`, reasons in `because`, feature values) are written on one line between double quotes; `\\"` and `\\\\` escape a quote and a backslash.',
      avoid: 'allow qubes.Gpg from mail to vault because "split GPG',
      prefer: 'allow qubes.Gpg from mail to vault because "split GPG"',
    },
  },
  QP1003: {
    slug: 'invalid-utf8',
    severity: 'error',
    waiver: 'never',
    template: 'the file is not valid UTF-8',
    summary: 'A policy file contains bytes that are not UTF-8.',
    explanation: {
      rationale: 'Policy files are UTF-8 text. Bytes that do not decode are shown as U+FFFD; the file may be binary, truncated or in another encoding, so qpc refuses to guess what it means.',
      prefer: 'Save the file as UTF-8 (plain ASCII is UTF-8).',
    },
  },
  QP1004: {
    slug: 'unclosed-brace',
    severity: 'error',
    waiver: 'never',
    template: 'the block of {owner} is never closed',
    summary: 'A block opened with `{` has no matching `}`.',
    explanation: {
      rationale:
        'Without its `}`, a block would run on into the next declaration, and the parser could only report a confusing error there. qpc matches braces by indentation as well (a `}` at the start of a line closes the `{` of the line indented like it), so it names the `{` that is not closed and the first line after it that is back at its indentation: the block should end before that line.',
      avoid: 'identity work {\n  network clearnet via sys-firewall\n\nqube mail in work { template debian-12-xfce }',
      prefer: 'identity work {\n  network clearnet via sys-firewall\n}\n\nqube mail in work { template debian-12-xfce }',
    },
  },
  QP2001: {
    slug: 'unknown-name',
    severity: 'error',
    waiver: 'never',
    template: 'unknown {what} `{name}`',
    summary: 'A reference names something that is not declared anywhere in the policy set.',
    explanation: {
      rationale:
        'Every name a policy mentions (templates, netvms, identities, disposables, rule sources and targets) must be declared in one of the files the policy uses, the standard library included. A misspelt name would otherwise compile into a rule or a property that silently matches nothing, or a qube attached to the wrong network.',
      avoid: 'use "qubes"\ngateway sys-vpn { netvm sys-firewal }',
      prefer: 'use "qubes"\ngateway sys-vpn { netvm sys-firewall }',
    },
  },
  QP2002: {
    slug: 'duplicate-declaration',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` is declared more than once',
    summary: 'Two declarations use the same name.',
    explanation: {
      rationale:
        'Qubes has one namespace for qubes, and qpc adds identities to it, because an identity name can stand where a qube name can (rule sources and targets). Two declarations of one name would make every reference ambiguous. To change a declaration made elsewhere, for example one from the standard library, use `amend`.',
      avoid: 'use "qubes"\ngateway sys-firewall { memory 500 }',
      prefer: 'use "qubes"\namend sys-firewall { memory 500 }',
    },
  },
  QP2003: {
    slug: 'invalid-name',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` is not a valid qube name: {reason}',
    summary: 'A name breaks the rules Qubes applies to qube names.',
    explanation: {
      rationale:
        'Qubes accepts names that start with a letter and continue with letters, digits, `_` and `-` (and `.` from Qubes 4.3 on), at most 31 characters, not `none`, `default` or `Domain-0`, and not ending in `-dm` (the suffix of device-model stub domains). `qvm-create` would refuse any other name, half way through provisioning. Identities follow the same rules because they become tags and appear in rule columns.',
      avoid: 'qube 2fa in keys',
      prefer: 'qube totp in keys',
    },
  },
  QP2004: {
    slug: 'wrong-kind',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` is {actual}, but {context} needs {expected}',
    summary: 'A reference names a declaration of the wrong kind.',
    explanation: {
      rationale:
        'Each reference expects one kind of declaration: `template` a template, `netvm` and `via` a gateway, `in` an identity, `disposable` and `default-disposable` a disposable template. Naming another kind would produce a property Qubes rejects, or worse, one it accepts with another meaning.',
      avoid: 'qube mail in work { template work-email }',
      prefer: 'qube mail in work { template debian-12-xfce }',
    },
  },
  QP2005: {
    slug: 'unknown-module',
    severity: 'error',
    waiver: 'never',
    template: 'there is no standard library module `{name}`',
    summary: '`use` names a standard library module that does not exist.',
    explanation: {
      rationale: 'A `use` path without `./`, `../` or `/` names a standard library module. qpc ships `qubes` (dom0, sys-net, sys-firewall) and `whonix` (sys-whonix, the Whonix templates and Tor listeners). Files of your own are imported with a relative path.',
      avoid: 'use "shared.qpol"',
      prefer: 'use "./shared.qpol"',
    },
  },
  QP2006: {
    slug: 'unreadable-import',
    severity: 'error',
    waiver: 'never',
    template: 'cannot read `{path}`: {reason}',
    summary: 'A file named by `use` does not exist, cannot be read, or is not a policy.',
    explanation: {
      rationale:
        'Relative imports are resolved against the directory of the file that contains the `use`. A policy set that cannot be read completely cannot be checked completely, so qpc stops. qpc reads only regular files of at most 4 MiB; a symbolic link is followed, but a device, a FIFO or a directory is refused, so that no import can make qpc wait for ever or fill its memory. A file that does not parse is quoted only if it looks like a policy: the file itself (links followed) is named `*.qpol` and holds no NUL character. Any other file is reported as not a qpc policy without a word of its text, so that a change to a policy cannot print a file of the machine that checks it, such as `/etc/passwd` or a file of secrets, into a build log.',
      avoid: 'use "../../../etc/hostname"',
      prefer: 'use "./shared-rules.qpol"',
    },
  },
  QP2007: {
    slug: 'import-cycle',
    severity: 'error',
    waiver: 'never',
    template: 'import cycle: {cycle}',
    summary: 'Files import each other in a loop.',
    explanation: {
      rationale: 'Imports form a tree: a file may be used by many files, but a file must not (directly or through others) use itself. Move what both files need into a third file that both use.',
    },
  },
  QP2008: {
    slug: 'non-ascii-name',
    severity: 'error',
    waiver: 'never',
    template: 'non-ASCII character {char} in `{name}`',
    summary: 'A name contains a character outside ASCII.',
    explanation: {
      rationale:
        'Qubes names are ASCII. A name with a look-alike letter (Cyrillic `а` for Latin `a`) reads like another qube to a reviewer but is a different name to qrexec: hidden characters attack review. qpc names the character by its code point.',
      avoid: 'qube vаult in keys   # Cyrillic а',
      prefer: 'qube vault in keys',
    },
  },
  QP2009: {
    slug: 'non-ascii-text',
    severity: 'warning',
    waiver: 'author',
    template: 'non-ASCII character {char} in a string',
    summary: 'A string contains a character outside ASCII.',
    explanation: {
      rationale: 'Strings end up in files that travel to dom0 and into qubes (features, kernel options, reasons in comments). Non-ASCII text there is legal but easy to confuse with look-alikes; qpc points it out so a reviewer looks twice. Write the reason in ASCII, or waive it if the text is meant.',
    },
  },
  QP2010: {
    slug: 'bidi-control',
    severity: 'error',
    waiver: 'never',
    template: 'bidirectional control character {char} in {where}',
    summary: 'The text contains a Unicode bidirectional control character.',
    explanation: {
      rationale:
        'Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) reorder how text is displayed, so a line can show one rule to a reviewer and mean another to qpc ("Trojan Source", CVE-2021-42574). They have no place in a policy, not even in comments.',
    },
  },
  QP2011: {
    slug: 'duplicate-setting',
    severity: 'error',
    waiver: 'never',
    template: 'setting `{key}` is given more than once',
    summary: 'A setting is given twice, in one `settings` block or across files.',
    explanation: {
      rationale: 'Settings (the Qubes release, the Whonix version, the policy file, the global default disposable and kernel) apply to the whole policy set. Giving one twice would make the result depend on which file is read first.',
    },
  },
  QP2012: {
    slug: 'duplicate-item',
    severity: 'error',
    waiver: 'never',
    template: '`{item}` is given more than once for `{name}`',
    summary: 'A single-valued item appears twice in one declaration.',
    explanation: {
      rationale: 'Items such as `template`, `netvm`, `memory` or `label` set one property. Two of them in one declaration leave the intended value unclear. (`amend` may override an item of a declaration made elsewhere: that is what it is for.)',
    },
  },
  QP2013: {
    slug: 'invalid-value',
    severity: 'error',
    waiver: 'never',
    template: '`{value}` is not a valid {what}',
    summary: 'A value is not one that Qubes, Whonix or Tor accepts at this place.',
    explanation: {
      rationale:
        'Values are checked before anything is emitted: labels are Qubes labels, `virt-mode` is `pvh`, `hvm` or `pv`, tags and service names use Qubes\' characters, ports are 1–65535, the policy file name is one `/etc/qubes/policy.d` accepts. A bad value caught here is a failed provisioning or a denied-everything policy avoided in dom0.',
      avoid: 'identity work { network clearnet via sys-firewall; label bleu }',
      prefer: 'identity work { network clearnet via sys-firewall; label blue }',
    },
  },
  QP2014: {
    slug: 'item-not-allowed',
    severity: 'error',
    waiver: 'never',
    template: '`{item}` cannot be used in {form}',
    summary: 'An item is written in a declaration that has no such property.',
    explanation: {
      rationale: 'Each declaration form takes the items that map to its Qubes class: identities take `network`, `label`, `disposable`, `isolation`; qubes take `template`, `memory`, `app`, …; only gateways take `tor`, `uplink` and `listener`; only templates take `whonix`.',
      avoid: 'identity work { memory 400 }',
      prefer: 'qube mail in work { memory 400 }',
    },
  },
  QP2015: {
    slug: 'token-not-allowed',
    severity: 'error',
    waiver: 'never',
    template: '`{token}` cannot be used {column}',
    summary: 'A qrexec token is used in a column where Qubes does not accept or never matches it.',
    explanation: {
      rationale:
        'qrexec accepts each token only in some columns: `@default` and `@dispvm` only as a target (a source rule with them never matches), redirects (`target`, `default`) only to a qube, `@adminvm`, `@dispvm` or `@dispvm:Q`. Qubes rejects the whole policy directory when one file has an invalid token, which denies every qrexec call on the machine.',
      avoid: 'allow qubes.OpenURL from @dispvm to work',
      prefer: 'allow qubes.OpenURL from @type:DispVM to work',
    },
  },
  QP2016: {
    slug: 'invalid-parameter',
    severity: 'error',
    waiver: 'never',
    template: '{problem}',
    summary: 'A rule parameter does not fit the rule\'s action, or is given twice.',
    explanation: {
      rationale:
        'As in qrexec: `target` goes with `allow` and `ask`, `default` only with `ask`, `user` not with `deny`, `no-autostart` not with `deny`; an `allow` to `@default` must say which qube it means with `target`, or Qubes refuses the policy file. A parameter may be given once.',
      avoid: 'allow qubes.ConnectTCP +22 from work to @default',
      prefer: 'allow qubes.ConnectTCP +22 from work to @default target ssh-server',
    },
  },
  QP2017: {
    slug: 'missing-item',
    severity: 'error',
    waiver: 'never',
    template: '{form} `{name}` needs {item}',
    summary: 'A declaration lacks an item it cannot do without.',
    explanation: {
      rationale: 'An identity must say how its qubes reach the network (`network clearnet via G`, `network tor via G` or `network none`); a named disposable must name its disposable template. Without them qpc cannot decide the invariants DESIGN §4 promises.',
    },
  },
  QP2018: {
    slug: 'unused-declaration',
    severity: 'warning',
    waiver: 'author',
    template: '{what} `{name}` is never used',
    summary: 'A template or identity is declared but nothing uses it.',
    explanation: {
      rationale: 'An identity without qubes or a template no qube is based on is often a leftover or a misspelling of the name that was meant. Remove it, or waive the finding with `waive QP2018 on NAME because "…"` if it is kept on purpose.',
    },
  },
  QP2019: {
    slug: 'empty-reason',
    severity: 'error',
    waiver: 'never',
    template: 'the reason in `{keyword}` is empty',
    summary: 'A `because` or `waive` gives an empty reason.',
    explanation: {
      rationale: 'A reason is the record of why a finding was accepted on purpose; it is quoted wherever the finding is reported. An empty one defeats that.',
    },
  },
  QP2020: {
    slug: 'unknown-code',
    severity: 'error',
    waiver: 'never',
    template: '`{code}` is not a qpc diagnostic code',
    summary: '`waive` names a code that does not exist.',
    explanation: {
      rationale: 'A waiver applies to one diagnostic code on one name. Run `qpc explain` to list the codes.',
    },
  },
  QP2021: {
    slug: 'unused-waiver',
    severity: 'warning',
    waiver: 'never',
    template: 'waiver of {code} on `{name}` matches no finding',
    summary: 'A `waive` statement waives nothing.',
    explanation: {
      rationale: 'A waiver that matches nothing is either stale (the finding was fixed) or aimed at the wrong name; either way it should go, or it may silence a future finding nobody has looked at.',
    },
  },
  QP2022: {
    slug: 'release-feature',
    severity: 'error',
    waiver: 'never',
    template: '{feature} needs Qubes {release} or later',
    summary: 'The policy uses something the selected Qubes release does not have.',
    explanation: {
      rationale: 'Names with dots and `uuid:` tokens exist from Qubes 4.3 on. The release is chosen with `settings { qubes 4.3 }`; the default is 4.2.',
    },
  },
  QP2023: {
    slug: 'stock-file-clash',
    severity: 'error',
    waiver: 'never',
    template: '{problem}',
    summary: 'A `stock` block cannot be trusted as written: it names a file qpc writes or a standard-library file, or the machine cannot verify it.',
    explanation: {
      rationale:
        "A `stock` block tells qpc that a policy file already exists in dom0 and what it says; qpc evaluates it but never writes it. The proof is only as good as that statement. A stock block named like a file qpc itself writes (the main policy file or a `policy-file` block) describes a file that provisioning replaces, so dom0 never has its rules; one named like a file of the standard library (`90-default`, `80-whonix`, …, of any release) adds its rules to the standard library's model of that file, although dom0's file does not have them. A stock block must also name the file's sha256, which provisioning (provision.sh and the Salt states) checks on the machine before it changes anything: otherwise a deny in the block could close a channel in qpc's proof that stays open in dom0. The standard library's own stock blocks, which model the files Qubes and Whonix ship, need no sha256.",
      avoid: 'policy-file 90-default stock { deny qubes.OpenURL from @anyvm to @anyvm }',
      prefer: 'policy-file 50-config-filecopy stock sha256 "<sha256 of /etc/qubes/policy.d/50-config-filecopy.policy>" {\n  ask qubes.Filecopy from @anyvm to @anyvm\n}',
    },
  },
  QP2024: {
    slug: 'hidden-control-character',
    severity: 'error',
    waiver: 'never',
    template: '{kind} {char} in {where}',
    summary: 'A comment or a string contains a control character, or a character some viewers show as a line break.',
    explanation: {
      rationale:
        'A comment runs to the end of the line, and a line ends only at a line feed (or CRLF). Vertical tab, form feed, NEL (U+0085) and the line and paragraph separators (U+2028, U+2029) are shown as line breaks by some editors, diff views and terminals, so the rest of a comment can read like a rule to a reviewer while qpc ignores it; a lone carriage return is the opposite, a line break to qpc that some viewers do not show, so a rule can hide behind a comment. Other control characters (escape sequences, NUL, DEL, C1 controls) are invisible or redraw the terminal. None has a place in a policy: a tab is fine, and a string says `\\n` or `\\t` with an escape.',
    },
  },
  QP2025: {
    slug: 'waiver-not-allowed',
    severity: 'error',
    waiver: 'never',
    template: '`{code}` cannot be waived',
    summary: '`waive` names a code whose findings are never waived.',
    explanation: {
      rationale:
        'Every code has a waiver class (`qpc explain CODE` shows it). `author` findings are waived by the policy alone. `explicit` ones, critical for anonymity (a Tor bypass, a channel between a Tor identity and another, a disposable or update path over the clearnet, a dangerous grant), are waived only when the command line also names the code with `--allow-waived CODE`, so that a change to the policy alone, such as a pull request that adds a `because`, cannot accept them. `never` findings make the artifacts wrong, unsafe to install or unlike what the proof describes (a netvm loop, a failed `expect`, an unsafe value, a hidden character): no waiver can make them right, and a `waive` that names one is refused, so that nobody reads it as accepted. Fix what the finding names.',
      avoid: 'waive QP3001 on sys-vpn because "the loop is temporary"',
      prefer: 'gateway sys-vpn { netvm sys-firewall }',
    },
  },
  QP2026: {
    slug: 'unknown-service',
    severity: 'warning',
    waiver: 'author',
    template: 'no stock policy or qpc standard library file knows the service `{service}`',
    summary: 'A rule names a qrexec service one edit away from a service Qubes or Whonix ships.',
    explanation: {
      rationale:
        'qrexec matches service names exactly, so a rule for a misspelt service matches no call: an `allow` grants nothing and, worse, a `deny` closes nothing while the stock rule it was meant to override still decides. qpc knows the services of the stock policy files (those its standard library models, the Admin and policy APIs, the older per-service files); a name one edit (a letter added, left out, changed or swapped) from one of them is almost certainly a typo. Services of your own, far from every known name, are not reported; for one that is close to a known name on purpose, say so with `because` on the rule.',
      avoid: 'deny qubes.Filecpy from work to vault',
      prefer: 'deny qubes.Filecopy from work to vault',
    },
  },
  QP2027: {
    slug: 'bad-service-argument',
    severity: 'error',
    waiver: 'never',
    template: '`{argument}` is not a valid argument of `{service}`: {reason}',
    summary: 'A rule gives a service an argument the service always refuses.',
    explanation: {
      rationale:
        'Some services define what their argument means. `qubes.ConnectTCP +PORT` connects to TCP port PORT of the target qube (qrexec connects it itself, through the service\'s `/dev/tcp/127.0.0.1` link), and qrexec refuses a port that is not a decimal number from 1 to 65535 without leading zeros: a rule with such an argument allows or asks for a call that always fails, and it hides the port that was meant.',
      avoid: 'allow qubes.ConnectTCP +99999 from work to @default target vault',
      prefer: 'allow qubes.ConnectTCP +22 from work to @default target vault',
    },
  },
  QP3001: {
    slug: 'netvm-loop',
    severity: 'error',
    waiver: 'never',
    template: 'netvm loop: {path}',
    summary: 'Qubes reach their network through each other in a circle.',
    explanation: {
      rationale:
        'Each qube has one netvm, so the netvm links form chains that must end at a gateway attached to the physical network (`uplink`) or at a qube with no network. A loop never reaches the network, and Qubes refuses to set a netvm that closes one, half way through provisioning.',
      avoid: 'gateway sys-vpn { netvm sys-tunnel }\ngateway sys-tunnel { netvm sys-vpn }',
      prefer: 'gateway sys-vpn { netvm sys-firewall }\ngateway sys-tunnel { netvm sys-vpn }',
    },
  },
  QP3002: {
    slug: 'offline-with-netvm',
    severity: 'error',
    waiver: 'author',
    template: '`{name}` belongs to the offline identity `{identity}` but has netvm `{netvm}`',
    summary: 'A qube of a `network none` identity is given a netvm.',
    explanation: {
      rationale:
        'An identity with `network none` promises that none of its qubes has a network: that is what keeps a key vault from sending a key anywhere, however compromised it is. A netvm on one of its qubes breaks the promise silently.',
      avoid: 'identity vault { network none }\nqube keys in vault { netvm sys-firewall }',
      prefer: 'identity vault { network none }\nqube keys in vault { template debian-12-xfce }',
    },
  },
  QP3003: {
    slug: 'netvm-bypasses-identity',
    severity: 'error',
    waiver: 'author',
    template: '`{name}` reaches the network without passing `{gateway}`, the gateway of its identity `{identity}`',
    summary: 'A qube\'s explicit netvm routes it around the gateway its identity declares.',
    explanation: {
      rationale:
        'An identity\'s `network clearnet via G` says where its traffic goes: through a firewall, a VPN, a filtering proxy. A qube of that identity whose own `netvm` skips G leaves the identity\'s network silently. A netvm that still passes G (a VPN behind the firewall, say) is fine, and so is `netvm none`.',
      avoid: 'identity work { network clearnet via sys-vpn }\nqube mail in work { netvm sys-firewall }',
      prefer: 'identity work { network clearnet via sys-vpn }\nqube mail in work { template debian-12-xfce }',
    },
  },
  QP3004: {
    slug: 'tor-bypassed',
    severity: 'error',
    waiver: 'explicit',
    template: '`{name}` of Tor identity `{identity}` reaches the network without Tor: {path}',
    summary: 'A qube of a Tor identity has a route to the network that passes no Tor gateway.',
    explanation: {
      rationale:
        'Whonix enforces Tor by topology: a workstation\'s only way out is its Tor gateway, so even a fully compromised application cannot learn the real IP address. A qube of a `tor` identity whose netvm chain reaches the network without passing a Tor gateway sends everything in the clear, under the user\'s own address. This is the invariant qpc exists to prove.',
      avoid: 'identity anon { network tor via sys-whonix }\nqube chat in anon { netvm sys-firewall }',
      prefer: 'identity anon { network tor via sys-whonix }\nqube chat in anon { template whonix-workstation-18 }',
    },
  },
  QP3005: {
    slug: 'wrong-tor-gateway',
    severity: 'error',
    waiver: 'explicit',
    template: '`{name}` of Tor identity `{identity}` reaches the network through `{actual}`, not its own Tor gateway `{gateway}`: {path}',
    summary: 'A qube of a Tor identity uses another identity\'s Tor gateway.',
    explanation: {
      rationale:
        'Each Tor identity has its own Tor gateway so that it has its own Tor client: its own entry guards, circuits and client state. A qube that routes through another identity\'s gateway shares all of that with the other persona, which links the two for anyone watching the guard.',
    },
  },
  QP3006: {
    slug: 'tor-via-clearnet-gateway',
    severity: 'error',
    waiver: 'explicit',
    template: 'identity `{identity}` is declared `network tor` but goes via `{gateway}`, which is not a Tor gateway',
    summary: '`network tor via G` names a gateway that does not run Tor.',
    explanation: {
      rationale:
        'A Tor identity\'s gateway must be a Whonix-Gateway (a `gateway` with `tor`). Anything else forwards the identity\'s traffic in the clear.',
      avoid: 'identity anon { network tor via sys-firewall }',
      prefer: 'identity anon { network tor via sys-whonix }',
    },
  },
  QP3007: {
    slug: 'clearnet-behind-tor',
    severity: 'error',
    waiver: 'explicit',
    template: 'clearnet {what} `{name}` is routed through the Tor gateway `{gateway}`',
    summary: 'A clearnet identity or qube sits behind a Tor gateway.',
    explanation: {
      rationale:
        'A clearnet identity is the user under their own name. Behind a Tor gateway its traffic would share the gateway\'s Tor client, guards and circuits with the anonymous identities it serves, linking them; and clearnet software is not built to be anonymous (it leaks identifiers Whonix workstations scrub). If the identity should be anonymous, make it `network tor`.',
      avoid: 'identity work { network clearnet via sys-whonix }',
      prefer: 'identity work { network clearnet via sys-firewall }',
    },
  },
  QP3008: {
    slug: 'shared-tor-gateway',
    severity: 'warning',
    waiver: 'author',
    template: '`{gateway}` is the Tor gateway of {count} identities: {identities}',
    summary: 'Qubes of several identities use one Tor gateway.',
    explanation: {
      rationale:
        'Qubes behind one Tor gateway share its Tor client: entry guards, the consensus, client state and timing. Tor separates their circuits, but an observer of the guard sees one client, and a compromised gateway sees all identities. An identity counts for the first Tor gateway on its qubes\' routes, also when it reaches it through other gateways. Where the qubes of several identities reach it through one gateway in front of it (a VPN or firewall qube), Tor sees them all as that one client address, and `IsolateClientAddr` no longer keeps their streams on separate circuits; the finding names that gateway. Give each persona its own gateway; waive the finding (`waive QP3008 on GATEWAY because "…"`) where sharing is accepted.',
    },
  },
  QP3009: {
    slug: 'tor-qube-non-whonix-template',
    severity: 'warning',
    waiver: 'author',
    template: '`{name}` of Tor identity `{identity}` is based on `{template}`, not a Whonix workstation template',
    summary: 'A qube of a Tor identity runs on a template that is not Whonix-Workstation.',
    explanation: {
      rationale:
        'Whonix-Workstation is configured not to leak: stream-isolated proxy settings for its applications, no identifying time or locale, hardened defaults. A general-purpose template behind a Tor gateway still cannot leak the IP address (the topology prevents that), but its applications may identify the user in other ways and fall back to shared circuits. Waive it where the template is prepared for anonymity.',
    },
  },
  QP3010: {
    slug: 'whonix-template-outside-tor',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` is not in a Tor identity but is based on the Whonix workstation template `{template}`',
    summary: 'A clearnet or offline qube runs on a Whonix-Workstation template.',
    explanation: {
      rationale:
        'Qubes\' Whonix integration tags every qube on a Whonix-Workstation template `anon-vm` and, from Qubes 4.3 on, forces its netvm to a Whonix gateway. A clearnet qube on such a template would either be moved behind Tor against the policy or carry Whonix\'s identifiers onto the clearnet. Base it on another template.',
    },
  },
  QP3011: {
    slug: 'gateway-without-upstream',
    severity: 'warning',
    waiver: 'author',
    template: 'gateway `{name}` has no upstream: it is neither `uplink` nor given a netvm',
    summary: 'A gateway is connected to nothing.',
    explanation: {
      rationale: 'A gateway provides network to the qubes behind it; without a netvm and without `uplink` it provides none, so its qubes are silently offline. Give it a netvm, or mark it `uplink` if it holds the network card.',
    },
  },
  QP3012: {
    slug: 'tor-gateway-template',
    severity: 'error',
    waiver: 'explicit',
    template: 'the Tor gateway `{name}` is not based on a Whonix gateway template',
    summary: 'A gateway marked `tor` does not run Whonix-Gateway.',
    explanation: {
      rationale:
        '`tor` declares that a gateway forces everything through Tor. Only Whonix-Gateway does that (its firewall drops what is not Tor), so a `tor` gateway must be based on a template declared `whonix gateway`. Otherwise the Tor invariant qpc proves would rest on a name.',
      avoid: 'gateway sys-tor { tor; template debian-12-minimal }',
      prefer: 'gateway sys-tor { tor; template whonix-gateway-18 }',
    },
  },
  QP3013: {
    slug: 'device-on-tor-qube',
    severity: 'error',
    waiver: 'explicit',
    template: '{class} device assigned to `{name}` of Tor identity `{identity}`',
    summary: 'A device is attached to a qube of a Tor identity.',
    explanation: {
      rationale:
        'Devices carry hardware identifiers (MAC addresses, serial numbers, USB descriptors) that software in the qube can read and send over Tor; a microphone carries voice and the room. A Tor identity\'s qubes get no devices. Use a disposable of another identity to read a USB stick, and move files deliberately.',
    },
  },
  QP3014: {
    slug: 'pci-on-pvh',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` has a PCI device but `virt-mode pvh`',
    summary: 'PCI passthrough is declared on a PVH qube.',
    explanation: {
      rationale: 'Qubes refuses PCI devices on PVH qubes: passthrough needs `hvm`. Remove `virt-mode pvh` (Qubes then picks `hvm` for a qube with PCI devices) or write `virt-mode hvm`.',
    },
  },
  QP3015: {
    slug: 'tor-template-updates-clearnet',
    severity: 'error',
    waiver: 'explicit',
    template: 'template `{template}` of `{name}` (Tor identity `{identity}`) would download its updates over the clearnet',
    summary: 'A template used by a Tor identity does not update through a Tor gateway.',
    explanation: {
      rationale:
        "Templates fetch updates through the `qubes.UpdatesProxy` service, and the qrexec policy decides where that call goes. Updating a template used by anonymous qubes over the clearnet tells the network which software those qubes run and that this user runs them. qpc evaluates `qubes.UpdatesProxy` to `@default` from every template a qube of a Tor identity runs on (its own, or that of the disposable template it starts disposables from or is a named disposable of) over the complete policy: the call must be denied, or go only to Tor gateways on the Whonix gateway template (for an ask, every qube the dialog offers). The stock policy sends templates tagged `whonix-updatevm` to sys-whonix and all other templates to sys-net; Whonix templates (`whonix workstation`) carry the tag, and a rule of yours that sends a template's updates elsewhere decides before the stock rules do. The finding points at the mistake: your rule, when one decides; the Tor qube's `template` (or disposable template), when it picks a template that qubes outside Tor identities also run on; the template, when only Tor identities use it. Base a Tor qube on a Whonix workstation template, or on a template of its own tagged `whonix-updatevm`. Tagging a template that clearnet qubes share moves their updates to sys-whonix as well: they go over Tor, and fail whenever sys-whonix cannot reach it.",
      avoid: 'template debian-12-xfce\namend sys-net { template debian-12-xfce }\nqube anon-chat in anon { template debian-12-xfce }',
      prefer: 'template debian-12-xfce\namend sys-net { template debian-12-xfce }\nqube anon-chat in anon { template whonix-workstation-18 }',
    },
  },
  QP3016: {
    slug: 'disposable-outside-identity',
    severity: 'error',
    waiver: 'author',
    template: {
      'default-disposable': '`{name}` of identity `{identity}` starts its disposables from `{disposable}`, a disposable template of identity `{other}`',
      'global-default': "identity `{identity}` starts its disposables from Qubes' global default disposable template `{disposable}`, which belongs to identity `{other}`",
      'identity-disposable': 'the disposable template `{disposable}` of identity `{identity}` belongs to identity `{other}`',
      'named-disposable': 'the named disposable `{name}` of identity `{identity}` runs on `{disposable}`, a disposable template of identity `{other}`',
    },
    summary: 'A qube or identity opens disposables of another identity.',
    explanation: {
      rationale:
        'A qube\'s default disposable is where "open in disposable" and `@dispvm` calls land. A disposable of another identity runs on that identity\'s network and carries its data: a link from a Tor identity opened there loads over the clearnet; a document from a clearnet identity opened in a Tor disposable ties the two together. Each identity names a disposable template of its own.',
    },
  },
  QP3017: {
    slug: 'uplink-with-netvm',
    severity: 'error',
    waiver: 'never',
    template: 'uplink gateway `{name}` also has netvm `{netvm}`',
    summary: 'A gateway is both on the physical network and behind another gateway.',
    explanation: {
      rationale: '`uplink` means the gateway holds the network card and is the end of every route; a netvm as well would make its route ambiguous. Remove one of them.',
    },
  },
  QP3018: {
    slug: 'policy-file-after-global-config',
    severity: 'error',
    waiver: 'never',
    template: 'policy file `{file}` sorts after Global Config\'s `50-config-*` files, which qpc does not see',
    summary: 'The main policy file, which holds the rules that close Tor identities, would be read after files qpc does not model.',
    explanation: {
      rationale:
        "dom0 reads `/etc/qubes/policy.d` in file-name order and the first matching rule wins. Qubes' Global Config tool writes `50-config-*.policy` files (file copy, clipboard, open-in-VM, …) that allow and ask between qubes. qpc's main policy file holds your rules and the rules it generates to close every Tor identity; if it sorts after `50-config-`, a Global Config setting decides first, and qpc's proof no longer describes the machine. Name the main policy file so that it sorts before `50-config-` (the default is `30-qpc`).",
      avoid: 'settings { policy-file 60-qpc }',
      prefer: 'settings { policy-file 30-qpc }',
    },
  },
  QP3020: {
    slug: 'socks-port-shared',
    severity: 'error',
    waiver: 'author',
    template: 'apps `{first}` and `{second}` of `{name}` are both pinned to port {port}',
    summary: 'Two apps of one qube use the same SOCKS port.',
    explanation: {
      rationale:
        'Tor gives each SocksPort its own circuits, and it separates qubes by their address, but two apps of one qube on one port share circuits: an observer at the exit can link what they do. Give each app its own port (`socks dedicated`), or share deliberately with `socks auth`, where SOCKS credentials keep them apart.',
    },
  },
  QP3021: {
    slug: 'socks-port-not-provided',
    severity: 'error',
    waiver: 'never',
    template: 'port {port} is not a SOCKS port that `{gateway}` provides to workstations',
    summary: 'An app is pinned to a port its Tor gateway does not listen on.',
    explanation: {
      rationale:
        '`socks port N` binds an app to a listener the gateway already has (Whonix-Gateway\'s table is in the standard library). A port nothing listens on makes the app fail, or worse, fall back to the transparent proxy with shared circuits. Use `socks dedicated` to let qpc pick a free port, or one of the gateway\'s ports.',
    },
  },
  QP3022: {
    slug: 'socks-port-collision',
    severity: 'error',
    waiver: 'never',
    template: 'port {port} of `{gateway}` is its {kind} listener, not a SOCKS port for workstations',
    summary: 'An app is bound to a port that belongs to another kind of Tor listener.',
    explanation: {
      rationale:
        'The port is taken on the gateway by a listener of another kind (the transparent proxy, DNS, the control port filter) or one bound to the gateway\'s own loopback. A SOCKS client there either fails or talks to the wrong service.',
    },
  },
  QP3023: {
    slug: 'socks-group-exhausted',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` has more `socks dedicated{flags}` apps than the {count} ports of `{gateway}`\'s group {range}',
    summary: 'A qube has more dedicated apps with one flag set than the gateway\'s pre-bound group has ports.',
    explanation: {
      rationale:
        'Whonix-Gateway pre-binds four groups of SOCKS ports for custom applications, one per isolation flag set; qpc gives each dedicated app of a qube its own port in the group that matches its flags. When a qube needs more, qpc cannot make up ports without changing the gateway. Split the apps over qubes, or give some a flag set outside the four (such as `isolate client-protocol`), for which qpc declares new listeners.',
    },
  },
  QP3024: {
    slug: 'socks-none-per-app',
    severity: 'warning',
    waiver: 'author',
    template: 'app `{app}` of `{name}` uses the transparent proxy in per-app identity `{identity}`',
    summary: '`socks none` in a Tor identity that isolates per app.',
    explanation: {
      rationale:
        'Apps that do not use a SOCKS port go through Whonix\'s transparent proxy, where every stream of the qube may share a circuit (no isolation flags, no SOCKS credentials). In an identity declared `isolation per-app` that defeats the point. Bind the app with `socks dedicated` or `socks auth`, or declare the identity `isolation per-qube`.',
    },
  },
  QP3025: {
    slug: 'socks-without-tor-gateway',
    severity: 'error',
    waiver: 'never',
    template: 'app `{app}` of `{name}` has a SOCKS binding, but the netvm of `{name}` is not a Tor gateway',
    summary: 'A SOCKS binding is declared for a qube that does not sit directly behind a Tor gateway.',
    explanation: {
      rationale: 'SOCKS bindings point an app at its Tor gateway\'s ports; they only exist for qubes whose netvm is a Tor gateway. Remove the binding, or move the qube into a Tor identity.',
    },
  },
  QP3026: {
    slug: 'invalid-lock-entry',
    severity: 'error',
    waiver: 'never',
    template: 'lock entry {entry}: {problem}',
    summary: 'An entry of the lock file is not one qpc\'s allocator could have written.',
    explanation: {
      rationale:
        'The lock file (`POLICY.qpol.lock`) records the SOCKS ports and qube numbers qpc allocated, and decides them in later compiles: it is input, like the policy, and reviewed less closely. qpc checks every entry as it would a value of the policy: a dedicated app\'s port must be one of its gateway\'s pre-bound custom groups or a port Whonix leaves free (9112, 9113, 9116, 9119–9121, 9230 and up); a listener qpc adds must be on such a free port and carry isolation flags qpc knows; no two apps of a qube share a port; qube numbers are unique, from 1 (0 is dom0\'s). Any other entry (an app moved to port 22, or to Whonix\'s own 9050) is refused at the entry and never used: it would otherwise become a `+SocksPort` line on the gateway and an opening in its firewall. Remove the entry to let qpc allocate anew, or restore the lock file from version control.',
      avoid: '"apps": { "anon-chat/ssh": 22 },\n"listeners": { "sys-whonix": { "22": ["client-protocol"] } }',
      prefer: '"apps": { "anon-chat/ssh": 9112 },\n"listeners": { "sys-whonix": { "9112": ["client-protocol"] } }',
    },
  },
  QP3030: {
    slug: 'cross-identity-channel',
    severity: 'error',
    waiver: 'explicit',
    template: {
      allow: '`{service}` is allowed from {source} to {target}',
      ask: '`{service}` is allowed from {source} to {target} when the user confirms the dialog',
    },
    summary: 'The complete policy opens a qrexec channel between a Tor identity and another identity or the rest of the system.',
    explanation: {
      rationale:
        'A qrexec call between an anonymous qube and anything outside its identity is a channel the Whonix design closes: a file, a clipboard, a URL or an application started elsewhere carries data (metadata, identifiers, timing) that links the anonymous identity to the user. qpc evaluates the complete policy — your rules, the denials it generates for every Tor identity, and the stock files of the selected Qubes release — for every service and pair of qubes, and reports each channel that remains, `ask` included (one click opens it). The qubes counted are the declared ones, all of them possibly running, plus what a real dom0 also has: a running disposable of every disposable template (in its identity) and qubes outside the policy of every type and tag a rule names (in no identity); a channel to or from one of those is reported as such (README, \"What the proof assumes about the machine\"). A channel you want is declared on the rule that opens it, with `because "…"`; as the finding is critical for anonymity (waiver class explicit), the waiver counts only when the command line names the code as well (`--allow-waived QP3030`, in CI), and the finding is then reported as a warning that quotes the reason.',
      avoid: 'allow qubes.Filecopy from anon-chat to work-email',
      prefer: 'allow qubes.Filecopy from anon-chat to work-email because "publishing the edited interview"',
    },
  },
  QP3031: {
    slug: 'dispvm-outside-identity',
    severity: 'error',
    waiver: 'explicit',
    template: {
      'other-identity': '`{requested}` from {source} of Tor identity `{identity}` opens a disposable of {target}, which belongs to identity `{other}`',
      'no-identity': '`{requested}` from {source} of Tor identity `{identity}` opens a disposable of {target}, which belongs to no identity',
    },
    summary: 'A Tor identity\'s request for a disposable lands in a disposable of another identity.',
    explanation: {
      rationale: '`@dispvm` resolves through the caller\'s default disposable template. A link or document from a Tor identity opened in a disposable of another identity is loaded over that identity\'s network, often the clearnet. Give the identity its own Whonix disposable template (`disposable NAME` on the identity).',
    },
  },
  QP3032: {
    slug: 'dangerous-grant',
    severity: 'error',
    waiver: 'explicit',
    template: '{level} danger: `{service}` {why}',
    summary: 'A rule grants a service that gives the caller control over the target or over the system.',
    explanation: {
      rationale:
        'Danger levels: critical — `qubes.VMShell`, `qubes.VMRootShell`, `qubes.VMExec`, `qubes.VMExecGUI` to anything but a disposable (any command in the target: it is the caller\'s), every `admin.*` service (the Admin API manages qubes), `qubes.Input*` (input injection); high — `qubes.GetDate`, `qubes.SetDateTime`, `qubes.SyncNtpClock` from a Tor identity (clock correlation), `qubes.USB*` and `u2f.*` (devices and their secrets). A grant of `*` includes all of them. When the grant is intended, say why with `because "…"` and name the code on the command line (`--allow-waived QP3032`; an Admin API grant from a Tor identity can change its netvm): it is then a warning quoting the reason.',
      avoid: 'allow qubes.VMShell from dev to build',
      prefer: 'allow qubes.VMShell from dev to @dispvm',
    },
  },
  QP3033: {
    slug: 'unreachable-rule',
    severity: 'warning',
    waiver: 'author',
    template: 'the rule `{rule}` can never decide anything: an earlier rule matches every request it matches',
    summary: 'A rule is shadowed by an earlier rule, in this file or an earlier one.',
    explanation: {
      rationale: 'qrexec takes the first matching rule across all files in name order. A rule after one that matches a superset of its requests is dead: whatever it says never happens, which usually means the author expected it to. The finding shows the rule that wins.',
      avoid: 'allow qubes.Filecopy from @anyvm to @anyvm\ndeny  qubes.Filecopy from anon to work',
      prefer: 'deny  qubes.Filecopy from anon to work\nallow qubes.Filecopy from @anyvm to @anyvm',
    },
  },
  QP3034: {
    slug: 'stock-rule-shadowed',
    severity: 'warning',
    waiver: 'author',
    template: {
      one: 'this rule makes the stock rule `{stock}` of `{file}` unreachable',
      many: 'this rule makes {count} stock rules unreachable, among them `{stock}` of `{file}`',
    },
    summary: 'A rule of yours covers a rule Qubes ships, so the stock rule never applies.',
    explanation: {
      rationale: 'The stock files (Whonix\'s `80-whonix`, `90-default`, …) come after yours in dom0\'s order. A broad rule of yours (a catch-all `deny * from @anyvm to @anyvm`, say) silently switches stock behaviour off; Qubes issue 7755 is exactly that breaking Whonix. If it is intended, say so with `because "…"` on your rule.',
    },
  },
  QP3036: {
    slug: 'requirement-violated',
    severity: 'error',
    waiver: 'never',
    template: {
      allow: 'requirement `{requirement}` does not hold: the policy allows `{service}` from {source} to {target}',
      ask: 'requirement `{requirement}` does not hold: the policy allows `{service}` from {source} to {target} when the user confirms the dialog',
      'allow-disposable': 'requirement `{requirement}` does not hold: the policy allows `{service}` from {source} to a new disposable of {target}',
      'ask-disposable': 'requirement `{requirement}` does not hold: the policy allows `{service}` from {source} to a new disposable of {target} when the user confirms the dialog',
      'shared-gateway': 'requirement `{requirement}` does not hold: `{first}` and `{second}` share the gateway `{shared}`, the netvm of both `{firstQube}` and `{secondQube}`',
      'shared-disposable': 'requirement `{requirement}` does not hold: `{first}` and `{second}` share the disposable template `{shared}`, which both `{firstQube}` and `{secondQube}` start their disposables from',
    },
    summary: 'A `require` statement is violated by the complete policy or the topology.',
    explanation: {
      rationale: '`require A isolated-from B` means no qrexec channel between A and B in either direction (allowed or asked, after evaluating the complete policy), no shared first-hop gateway other than a Tor gateway, and no shared disposable template; `require A never-reaches B` means no channel from A to B. The finding names one call that breaks it, at the rule of yours that opens it when there is one (else at the `require`, with the rule that decides in a note), or the gateway or disposable template both sides share and the qubes that use it.',
    },
  },
  QP3037: {
    slug: 'whonix-tags-off',
    severity: 'warning',
    waiver: 'author',
    template: '`{name}` does not carry Whonix\'s `anon-vm` tag: {consequence}',
    summary: 'A qube of a Tor identity is left without the tags Whonix gives anonymous qubes.',
    explanation: {
      rationale:
        'qpc tags every qube of a Tor identity `anon-vm` (and, on Qubes 4.3, Whonix workstations `sdwdate-gui-client`), as Whonix tags its workstations, because the stock policy decides by that tag: it denies `anon-vm` qubes the clock of dom0 (`qubes.GetDate`), which could tie the identity to the host, and it lets them, and only them, exchange Whonix\'s own calls (time sync status, gateway commands) with Tor gateways. Some deployments leave a qube of their anonymous compartment untagged on purpose (a Debian qube behind its own Whonix gateway). `whonix-tags off` states that shape; the finding names what it changes, and can be waived with the reason.',
      avoid: 'qube proxy in anon { template debian-12; whonix-tags off }',
      prefer: 'qube proxy in anon { template debian-12; whonix-tags off }\nwaive QP3037 on proxy because "upstream leaves the proxy untagged; it needs dom0\'s clock"',
    },
  },
  QP3035: {
    slug: 'expect-failed',
    severity: 'error',
    waiver: 'never',
    template: 'expectation failed: expected {expected}, but the complete policy gives {actual}',
    summary: 'An `expect` statement does not hold for the complete policy.',
    explanation: {
      rationale:
        '`expect` is a unit test of the policy: qpc evaluates the request against everything dom0 will read (the files qpc writes, at their place among the stock files of the selected Qubes release) with qrexec\'s first-match rules, and compares the decision, the resolved target, the offered targets, the preselected target and the user. The finding names the rule that decided, so you can see which line to change (or whether the expectation was wrong).',
      avoid: 'allow qubes.Filecopy from anon-chat to work-email\nexpect qubes.Filecopy from anon-chat to work-email: deny',
      prefer: 'deny qubes.Filecopy from anon-chat to work-email\nexpect qubes.Filecopy from anon-chat to work-email: deny',
    },
  },
  QP4001: {
    slug: 'target-unsupported',
    severity: 'error',
    waiver: 'never',
    template: 'the `{target}` target cannot express {what}',
    summary: 'The policy uses something a selected target cannot write faithfully.',
    explanation: {
      rationale:
        'Each target (qrexec, provision, xen, whonix) declares what of the model it can express, and refuses the rest before it writes anything: an artifact that silently drops a setting would deploy something other than what the policy says. The finding points at the line that asked for it. Change the policy, or leave the target out with `--target`.',
    },
  },
  QP4002: {
    slug: 'target-unsafe-value',
    severity: 'error',
    waiver: 'never',
    template: '{what} `{value}` cannot be written safely into {artifact}',
    summary: 'A value contains characters that the target format cannot carry without changing its meaning.',
    explanation: {
      rationale:
        'Every name and value is checked before it is emitted, so that no input can add a line to a policy file, a word to a shell command or a key to a configuration. A value with a quote, a newline, a control character or a character the format reserves is refused at the line that wrote it.',
      avoid: 'feature vm-config.note "two\\nlines"',
      prefer: 'feature vm-config.note "one line"',
    },
  },
  QP4302: {
    slug: 'xen-domains-left-out',
    severity: 'info',
    waiver: 'never',
    template: 'the Xen files of {count} PV/PVH domains are not written, since neither they, their templates nor the settings name a kernel: {names}',
    summary: 'PV or PVH domains without a kernel named anywhere get no xl.cfg or libvirt file.',
    explanation: {
      rationale:
        'xl starts a PV or PVH domain only from a kernel image in dom0 (`kernel=`), and refuses a file without one. On Qubes such a domain boots the global `default_kernel`, which a Qubes install sets and the policy need not know; the other targets do not need it. The xen target cannot name it, so it writes no file for those domains rather than one xl refuses, and says so once. `--deny-warnings` makes it fail a build; `--target` can leave the xen target out.',
      avoid: 'qube work-web in work { template debian-12-xfce }   # and no `kernel` anywhere, with the xen target compiled',
      prefer: 'settings { kernel "6.6.63-1.fc37" }   # as `qubes-prefs default_kernel` shows it',
    },
  },
  QP4301: {
    slug: 'domain-cannot-boot',
    severity: 'error',
    waiver: 'never',
    template: '`{name}` has no way to boot: {reason}',
    summary: 'A PV or PVH domain names the grub image of the other mode.',
    explanation: {
      rationale:
        'A PVH or PV domain has no firmware: xl starts it only from a kernel image in dom0 (`kernel=` in xl.cfg), and refuses a file without one. Qubes takes the qube\'s `kernel`, else its template\'s, else the global `default_kernel`, which a Qubes install sets but the policy cannot know unless `settings { kernel "VERSION" }` names it. `kernel "VERSION"` is a directory of `/var/lib/qubes/vm-kernels` (`6.6.63-1.fc37`); `kernel none` boots the kernel on the qube\'s own disk through dom0\'s grub image, `pvgrub2-pvh` for PVH and `pvgrub2` for PV; `kernel "pvgrub2-pvh"` names that image itself, and the image of one mode does not start a domain of the other. HVM domains start their firmware and are not concerned.',
      avoid: 'qube work-web in work { template debian-12-xfce }   # and no `kernel` anywhere',
      prefer: 'settings { kernel "6.6.63-1.fc37" }   # as `qubes-prefs default_kernel` shows it',
    },
  },
  QP5001: {
    slug: 'cannot-read',
    severity: 'error',
    waiver: 'never',
    template: 'cannot read `{path}`: {reason}',
    summary: 'A file named on the command line cannot be read, or is not a policy.',
    explanation: {
      rationale:
        'The path does not exist, is a directory, is not a regular file (a device, a FIFO), is larger than 4 MiB, or is not readable; or it does not parse and does not look like a policy (it is not named `*.qpol`, or it holds NUL characters), in which case its text is not shown. Exit code 2.',
    },
  },
  QP5002: {
    slug: 'usage',
    severity: 'error',
    waiver: 'never',
    template: '{message}',
    summary: 'The command line is not one qpc understands.',
    explanation: { rationale: 'Run `qpc --help` for the commands and options. Exit code 2.' },
  },
  QP5003: {
    slug: 'unknown-explain-code',
    severity: 'error',
    waiver: 'never',
    template: 'there is no diagnostic code `{code}`',
    summary: '`qpc explain` was given a code that does not exist.',
    explanation: { rationale: 'Codes look like `QP2001`. `qpc explain` without an argument lists them all.' },
  },
  QP5004: {
    slug: 'not-formatted',
    severity: 'error',
    waiver: 'never',
    template: '`{path}` is not formatted',
    summary: '`qpc fmt --check` found a file that `qpc fmt` would change.',
    explanation: { rationale: 'Run `qpc fmt FILE` to rewrite it in the canonical layout. Exit code 1.' },
  },
  QP5005: {
    slug: 'cannot-write',
    severity: 'error',
    waiver: 'never',
    template: 'cannot write `{path}`: {reason}',
    summary: 'qpc could not write a file.',
    explanation: { rationale: 'The directory is missing or not writable. Exit code 2.' },
  },
  QP5006: {
    slug: 'lock-out-of-date',
    severity: 'error',
    waiver: 'never',
    template: '`{path}` would change, and `--frozen` forbids it',
    summary: 'Under `--frozen`, the lock file does not match the policy.',
    explanation: {
      rationale:
        'The lock file records the SOCKS ports qpc allocated, so that adding or removing one app never moves another. `--frozen` (for CI and provisioning) refuses to allocate anew: run `qpc check` without it, review the lock file change and commit it. Exit code 1.',
    },
  },
  QP5007: {
    slug: 'invalid-lock',
    severity: 'error',
    waiver: 'never',
    template: 'cannot use the lock file `{path}`: {reason}',
    summary: 'The lock file beside the policy is not one qpc wrote.',
    explanation: {
      rationale:
        'qpc will not guess allocations from a damaged lock file: that could move ports under running applications. Restore it from version control, or delete it to allocate every port anew. qpc writes lock files as regular files, so a lock file that is a symbolic link is refused without following it. A lock file that reads but has an entry qpc could not have written is QP3026, at the entry. Exit code 2.',
    },
  },
  QP5008: {
    slug: 'invalid-request',
    severity: 'error',
    waiver: 'never',
    template: 'cannot query `{request}`: {reason}',
    summary: '`qpc query` was given a request it cannot read.',
    explanation: { rationale: 'A request is `SERVICE[+ARG] SOURCE TARGET`: a qrexec service with an optional argument, a qube of the policy as source, and a qube, `@default`, `@adminvm`, `@dispvm` or `@dispvm:Q` as target. Exit code 2.' },
  },
  QP5009: {
    slug: 'cannot-write-output',
    severity: 'error',
    waiver: 'never',
    template: 'cannot write the output directory `{path}`: {reason}',
    summary: '`qpc compile` could not write its artifacts; the previous output is left as it was.',
    explanation: {
      rationale:
        'qpc builds the new output beside the old one and swaps them with renames only when every file is written, so a failed or interrupted compile leaves the previous complete set in place. Check the directory\'s permissions and free space. Exit code 2.',
    },
  },
  QP5010: {
    slug: 'output-out-of-date',
    severity: 'error',
    waiver: 'never',
    template: '`{path}` {change}',
    summary: 'Under `--check`, the output directory differs from what `qpc compile` would write.',
    explanation: {
      rationale:
        '`qpc compile --check` writes nothing and compares: it reports every artifact that is missing, different or not qpc\'s, so CI can refuse a policy change whose artifacts were not rebuilt, or a deployed set that was edited by hand. Run `qpc compile` without `--check` and review the difference. Exit code 1.',
    },
  },
  QP6001: {
    slug: 'native-syntax-error',
    severity: 'error',
    waiver: 'never',
    template: 'policy syntax error: {message}',
    summary: "A line of a native policy file that Qubes' policy loader rejects.",
    explanation: {
      rationale:
        "`qpc lint` reads the files of /etc/qubes/policy.d as Qubes' own loader does (qubes-core-qrexec `qrexec/policy/parser.py` of the release) and reports each line it would refuse, with Qubes' own message: a wrong number of fields, a service or argument with characters qrexec does not take, a token a column does not take (`@dispvm` as a source, `@anyvm` in `target=`), an unknown action, a parameter the action does not take or gives twice, a `notify=`/`autostart=` other than `yes` or `no`, an `allow` to `@default` without `target=`, an unknown directive. Qubes does not skip such a line: it refuses the whole policy, and while it does, dom0 denies every qrexec call on the machine (file copy, clipboard, updates, the Admin API), until the file is fixed. Comments take a line of their own: there are no inline comments, and commas do not separate parameters.",
      avoid: 'qubes.Filecopy * work vault allow,notify=yes   # copy to the vault',
      prefer: '# copy to the vault\nqubes.Filecopy * work vault allow notify=yes',
    },
  },
  QP6002: {
    slug: 'native-invalid-filename',
    severity: 'error',
    waiver: 'never',
    template: 'dom0 refuses the policy file name `{path}`',
    summary: 'A `*.policy` file of the policy directory has a name Qubes refuses.',
    explanation: {
      rationale:
        "dom0 reads the regular files of /etc/qubes/policy.d whose names end in `.policy` and do not start with `.`; a name among them with a character other than a lowercase letter, a digit, `_`, `.` or `-` makes the loader refuse the whole policy (`invalid filename`), and dom0 then denies every qrexec call on the machine. Files named otherwise (`README`, `30-user.policy.rpmsave`, `.30-user.policy`) are not read at all (QP6005).",
      avoid: '30-Work.policy',
      prefer: '30-work.policy',
    },
  },
  QP6003: {
    slug: 'native-include-error',
    severity: 'error',
    waiver: 'never',
    template: {
      file: 'not a file: {path}',
      directory: 'not a directory: {path}',
      cycle: 'include cycle: `{path}` is included while it is being read',
    },
    summary: 'An `!include`, `!include-dir` or `!include-service` names nothing dom0 has, or includes itself.',
    explanation: {
      rationale:
        "dom0 resolves the path of an include against /etc/qubes/policy.d; `qpc lint` reads the directory given in its place, so a path under /etc/qubes/policy.d that is not in that directory is not in dom0's either. Qubes refuses the whole policy when an include names no file (`!include`, `!include-service`) or no directory (`!include-dir`), and follows an include that leads back to a file being read until Python gives up; either way dom0 then denies every qrexec call on the machine. Paths outside /etc/qubes/policy.d cannot be read offline (QP6004).",
      avoid: '!include-service admin.vm.List * include/admin-local-ro   # and no include/admin-local-ro',
      prefer: '!include-service admin.vm.List * include/admin-local-ro   # with include/admin-local-ro in the policy directory',
    },
  },
  QP6004: {
    slug: 'native-not-read',
    severity: 'warning',
    waiver: 'never',
    template: {
      outside: '`{path}` is outside /etc/qubes/policy.d: lint cannot read it',
      unreadable: 'cannot read `{path}`: {reason}',
      compat: '`!compat-4.0` splices the legacy policy of `{path}`, which lint does not read',
    },
    summary: 'A file dom0 reads that `qpc lint` cannot: the analysis does not know its rules.',
    explanation: {
      rationale:
        "`qpc lint` reads what it was given, standing for /etc/qubes/policy.d; an include of another dom0 path, a file it may not read (dom0 reads policy files as root) and the legacy files that `!compat-4.0` splices in from /etc/qubes-rpc/policy are not known to it, so its analysis is of the other rules only: a rule there may decide first. `!compat-4.0` is reported as information, since Qubes' own 35-compat.policy holds it. Copy the files into the directory given (for an include) or make them readable.",
    },
  },
  QP6005: {
    slug: 'native-file-skipped',
    severity: 'info',
    waiver: 'never',
    template: '`{path}` is skipped: {reason}',
    summary: 'A file of a policy directory that dom0 does not read.',
    explanation: {
      rationale:
        "dom0 reads only the regular files of /etc/qubes/policy.d (and of an `!include-dir`) whose names end in `.policy` and do not start with `.`: a `README`, a backup (`30-user.policy.bak`, `.rpmsave`), a directory (`include/`, whose files only an include reads) or a hidden file is not part of the policy, whatever it holds. `qpc lint` says so, so that a rule written into such a file is not believed to count.",
      avoid: '30-user.policy.disabled   # believed to be read',
      prefer: '30-user.policy',
    },
  },
  QP6101: {
    slug: 'native-dead-rule',
    severity: 'warning',
    waiver: 'never',
    template: 'the rule `{rule}` never decides: an earlier rule matches every request it matches',
    summary: 'A rule of a policy file is dead: one earlier rule, in its file or one dom0 reads before it, matches all its requests first.',
    explanation: {
      rationale:
        "qrexec takes the first matching rule over all files in dom0's order. A rule after one that matches every request it matches never decides, whatever it says: usually its author expected it to (a deny that protects nothing, say). `qpc lint` judges \"every request\" over the qubes of the system information (`--system-info`), so a rule naming a qube the machine does not have is not reported; it shows the rule that wins. Rules of the stock files are not reported (QP6102 says when a rule of another file covers them).",
      avoid: 'qubes.USBAttach * @anyvm @anyvm ask\nqubes.USBAttach * @anyvm @tag:sd-workstation deny',
      prefer: 'qubes.USBAttach * @anyvm @tag:sd-workstation deny\nqubes.USBAttach * @anyvm @anyvm ask',
    },
  },
  QP6102: {
    slug: 'native-stock-shadowed',
    severity: 'info',
    waiver: 'never',
    template: {
      one: 'this rule makes the stock rule `{stock}` of `{file}` unreachable',
      many: 'this rule makes {count} stock rules unreachable, among them `{stock}` of `{file}`',
    },
    summary: 'A rule of a policy file covers a rule Qubes ships, so the stock rule never applies.',
    explanation: {
      rationale:
        "The stock files (`80-whonix`, `90-default`, …) come after the files of users and Salt formulas in dom0's order; a broad rule before them (a catch-all `* * @anyvm @anyvm deny`) switches the stock behaviour off, often on purpose. Qubes issue 7755 is such a rule breaking Whonix. `qpc lint` names the stock rules it covers so that the effect is seen; it is information, not a warning.",
    },
  },
  QP6103: {
    slug: 'native-anonymous-channel',
    severity: 'warning',
    waiver: 'never',
    template: {
      allow: '`{service}` is allowed from {sources} to {targets}, across the `anon-vm` boundary',
      ask: '`{service}` is allowed from {sources} to {targets} when the user confirms the dialog, across the `anon-vm` boundary',
      'allow-both': '`{service}` is allowed between {sources} (tagged `anon-vm`) and {targets}, both ways',
      'ask-both': '`{service}` is allowed between {sources} (tagged `anon-vm`) and {targets}, both ways, when the user confirms the dialog',
    },
    summary: 'The policy allows or asks for a call between a qube tagged `anon-vm` and a qube without the tag.',
    explanation: {
      rationale:
        "Whonix tags its workstations `anon-vm`. A qrexec call between one of them and any other qube (file copy, clipboard, opening a file or a URL, starting an app) is a channel that can carry what identifies the user out of the anonymous qube, or something that deanonymizes it in; the stock policy asks for several of them. `qpc lint` evaluates the policy over the qubes of `--system-info` with qpc's channel analysis and reports each deciding rule once per service and direction, naming the qubes on each side; Whonix's own services between a workstation and a gateway (`whonix.*`, `sdwdate*`) are not channels. Calls between two `anon-vm` qubes are not reported: native files carry no identities to tell them apart. Deny the service across the boundary in a file dom0 reads before the deciding rule, or write the machine as a qpc policy, where identities close these channels.",
      avoid: 'qubes.Filecopy * @anyvm @anyvm ask',
      prefer: 'qubes.Filecopy * @tag:anon-vm @tag:anon-vm ask\nqubes.Filecopy * @tag:anon-vm @anyvm deny\nqubes.Filecopy * @anyvm @tag:anon-vm deny\nqubes.Filecopy * @anyvm @anyvm ask',
    },
  },
  QP6104: {
    slug: 'native-dangerous-grant',
    severity: 'warning',
    waiver: 'never',
    template: '{level} danger: `{service}` {why}',
    summary: 'A rule of a policy file grants a service that gives the caller control over the target or over the system.',
    explanation: {
      rationale:
        "The danger levels of QP3032, applied to the rules of files that are not stock: critical — `qubes.VMShell`, `qubes.VMRootShell`, `qubes.VMExec`, `qubes.VMExecGUI` to anything but a disposable, every `admin.*` service, `qubes.Input*`; high — the clock services from a qube tagged `anon-vm`, `qubes.USB*` and `u2f.*`. A grant of `*` includes all of them. Such a grant can be what the machine needs (a management qube, sys-usb); the finding names it so that a reviewer sees each one.",
      avoid: 'qubes.VMShell * dev build allow',
      prefer: 'qubes.VMShell * dev @dispvm allow',
    },
  },
  QP6105: {
    slug: 'native-no-system-info',
    severity: 'info',
    waiver: 'never',
    template: 'no system information: the qubes are guessed from the names the rules use',
    summary: '`qpc lint` ran without `--system-info`: what depends on the qubes\' tags, types and default disposables is unknown.',
    explanation: {
      rationale:
        "A rule with `@tag:`, `@type:`, `@dispvm` or `@anyvm` decides by the qubes the machine has and their properties. Without the system information `qpc lint` assumes one qube per name the rules use (an AppVM without tags or default disposable, dom0 apart), so it finds no channel of an `anon-vm` qube and judges dead rules over those qubes only. Give `--system-info` the directory a `qpc snapshot` recorded on the machine, or a file with the JSON of Qubes' `internal.GetSystemInfo` (what `qrexec-policy-graph --system-info` reads).",
    },
  },
  QP6201: {
    slug: 'import-rule-not-expressible',
    severity: 'warning',
    waiver: 'never',
    template: 'the rule `{rule}` cannot be written in the language: {reason}; the import leaves it out',
    summary: '`qpc import` met a native rule that has no spelling in the language, and left it out (as a comment where it was).',
    explanation: {
      rationale:
        "The language writes every column of a native rule with its own words, and names only qubes the policy declares. A rule whose source or target is `*` (every qube and token, dom0 included: `@anyvm` does not match dom0), a qube by UUID, or a qube the snapshot does not have, cannot be written. The import goes on without it and marks its place with `# not imported:`; `qpc import --verify` then shows the requests it decided. Write the rule by hand for the qubes it meant, or remove it from dom0.",
    },
  },
  QP6202: {
    slug: 'import-not-imported',
    severity: 'warning',
    waiver: 'never',
    template: '{what} is not imported: {reason}',
    summary: '`qpc import` left out a piece of the machine the language or the targets cannot express yet.',
    explanation: {
      rationale:
        'Where a property of the machine has no counterpart the targets can provision (a device assignment, for one), or a file holds nothing the import can read, the import says so instead of dropping it silently; a device is written as a comment in its qube, so the author can add it by hand once qpc provisions it.',
    },
  },
  QP6203: {
    slug: 'import-stock-file-changed',
    severity: 'warning',
    waiver: 'never',
    template: '`{file}` has the name of a stock file of Qubes {release} but not its rules: the import keeps the stock model',
    summary: 'A policy file of the machine has the name of one Qubes ships, but its rules differ from the stock file.',
    explanation: {
      rationale:
        "The standard library models the stock files of each release (`90-default`, `80-whonix`, …) and a policy may not replace them (QP2023). A machine whose copy was edited by hand decides differently from the model: the import cannot say so in the language, so it keeps the model and reports the file; `qpc import --verify` shows the requests that decide differently. Move the changes into a file of your own that dom0 reads earlier (a `policy-file 30-…` block) and restore the stock file.",
    },
  },
  QP6204: {
    slug: 'import-decides-differently',
    severity: 'error',
    waiver: 'never',
    template: '`{request}` decides differently: in dom0 {original}, in the import {imported}',
    summary: '`qpc import --verify` found a request that the imported policy decides differently from the machine\'s policy files.',
    explanation: {
      rationale:
        "`--verify` evaluates the machine's policy files (read as dom0 reads them) and the import's complete policy (the rules qpc would emit and the stock files) over the same system information, for every qube, every service the files name and the stock channel services, and every target (`@dispvm`, `@default`, `@adminvm` included), and compares action, target and ask list. A difference that is not one of qpc's documented closing rules (QP6205) means the import is not equivalent: usually a rule the import left out (QP6201, QP6203).",
    },
  },
  QP6205: {
    slug: 'import-closing-rule-difference',
    severity: 'info',
    waiver: 'never',
    template: '`{request}` decides differently: in dom0 {original}, in the import {imported}, by a rule qpc generates to close the Tor identity `{identity}`',
    summary: 'A request the import decides differently because qpc closes the stock channels of a Tor identity, as documented.',
    explanation: {
      rationale:
        "For every Tor identity qpc generates the rules that close the stock channels (file copy, clipboard, open-in-VM, open-URL, start-app, …) between the identity's qubes and every other identity or system qube. The imported policy therefore denies calls that the machine's files ask for or allow: intended, and listed one by one so that none is silent. Importing with `--no-identities` writes no Tor identity and gives no such difference.",
    },
  },
  QP9001: {
    slug: 'internal-error',
    severity: 'error',
    waiver: 'never',
    template: 'internal error: {message}',
    summary: 'qpc hit a bug.',
    explanation: { rationale: 'This is a bug in qpc, not in your policy. Please report it with the input that caused it. Exit code 3.' },
  },
} as const satisfies Record<string, CodeSpec>;

export type Code = keyof typeof codes;

/** The waiver class of a code ({@link WaiverClass}); `never` for a code the catalogue gives none. */
export function waiverClass(code: Code): WaiverClass {
  return (codes[code] as CodeSpec).waiver ?? 'never';
}

/** A code's message templates: one without a kind, or one per kind of finding. */
export function templatesOf(spec: CodeSpec): readonly { readonly kind?: string; readonly template: string }[] {
  return typeof spec.template === 'string' ? [{ template: spec.template }] : Object.entries(spec.template).map(([kind, template]) => ({ kind, template }));
}

/** Whether a string is a known code. */
export function isCode(s: string): s is Code {
  return Object.prototype.hasOwnProperty.call(codes, s);
}

/** All codes in numeric order. */
export const allCodes: readonly Code[] = (Object.keys(codes) as Code[]).sort();
