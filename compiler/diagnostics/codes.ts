/**
 * The diagnostics catalogue: every code qpc can report, with its severity,
 * message template, one-line summary and explanation. Codes are stable: never
 * renumber or reuse one; retire it with `retired: true`.
 *
 * Ranges: QP1xxx syntax, QP2xxx names and binding, QP3xxx analysis,
 * QP4xxx targets, QP5xxx command line and I/O, QP9xxx internal.
 */

export interface CodeSpec {
  readonly slug: string;
  readonly severity: 'error' | 'warning' | 'info';
  /** Message with `{placeholders}`; lowercase start, no final period. */
  readonly template: string;
  readonly summary: string;
  /** Regal's shape: why it matters, what to avoid, what to write instead. */
  readonly explanation: { readonly rationale: string; readonly avoid?: string; readonly prefer?: string };
  readonly retired?: boolean;
}

export const codes = {
  QP1001: {
    slug: 'syntax-error',
    severity: 'error',
    template: 'expected {expected}, found {found}',
    summary: 'The text does not follow the grammar of the policy language.',
    explanation: {
      rationale:
        'qpc reads a policy as statements, one per line (or separated by `;`), and blocks in braces. The parser stops at the first place where what is written cannot continue any statement, and names what it expected there. Nothing is compiled from a file with a syntax error.',
      avoid: 'qube work in work {\n  memory 400MB\n}',
      prefer: 'qube work in work {\n  memory 400   # MiB, a plain number\n}',
    },
  },
  QP1002: {
    slug: 'unterminated-string',
    severity: 'error',
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
    template: 'the file is not valid UTF-8',
    summary: 'A policy file contains bytes that are not UTF-8.',
    explanation: {
      rationale: 'Policy files are UTF-8 text. Bytes that do not decode are shown as U+FFFD; the file may be binary, truncated or in another encoding, so qpc refuses to guess what it means.',
      prefer: 'Save the file as UTF-8 (plain ASCII is UTF-8).',
    },
  },
  QP2001: {
    slug: 'unknown-name',
    severity: 'error',
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
    template: 'cannot read `{path}`: {reason}',
    summary: 'A file named by `use` does not exist or cannot be read.',
    explanation: {
      rationale: 'Relative imports are resolved against the directory of the file that contains the `use`. A policy set that cannot be read completely cannot be checked completely, so qpc stops.',
    },
  },
  QP2007: {
    slug: 'import-cycle',
    severity: 'error',
    template: 'import cycle: {cycle}',
    summary: 'Files import each other in a loop.',
    explanation: {
      rationale: 'Imports form a tree: a file may be used by many files, but a file must not (directly or through others) use itself. Move what both files need into a third file that both use.',
    },
  },
  QP2008: {
    slug: 'non-ascii-name',
    severity: 'error',
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
    template: 'non-ASCII character {char} in a string',
    summary: 'A string contains a character outside ASCII.',
    explanation: {
      rationale: 'Strings end up in files that travel to dom0 and into qubes (features, kernel options, reasons in comments). Non-ASCII text there is legal but easy to confuse with look-alikes; qpc points it out so a reviewer looks twice. Write the reason in ASCII, or waive it if the text is meant.',
    },
  },
  QP2010: {
    slug: 'bidi-control',
    severity: 'error',
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
    template: 'setting `{key}` is given more than once',
    summary: 'A setting is given twice, in one `settings` block or across files.',
    explanation: {
      rationale: 'Settings (the Qubes release, the Whonix version, the policy file, the global default disposable) apply to the whole policy set. Giving one twice would make the result depend on which file is read first.',
    },
  },
  QP2012: {
    slug: 'duplicate-item',
    severity: 'error',
    template: '`{item}` is given more than once for `{name}`',
    summary: 'A single-valued item appears twice in one declaration.',
    explanation: {
      rationale: 'Items such as `template`, `netvm`, `memory` or `label` set one property. Two of them in one declaration leave the intended value unclear. (`amend` may override an item of a declaration made elsewhere: that is what it is for.)',
    },
  },
  QP2013: {
    slug: 'invalid-value',
    severity: 'error',
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
    template: '{form} `{name}` needs {item}',
    summary: 'A declaration lacks an item it cannot do without.',
    explanation: {
      rationale: 'An identity must say how its qubes reach the network (`network clearnet via G`, `network tor via G` or `network none`); a named disposable must name its disposable template. Without them qpc cannot decide the invariants DESIGN §4 promises.',
    },
  },
  QP2018: {
    slug: 'unused-declaration',
    severity: 'warning',
    template: '{what} `{name}` is never used',
    summary: 'A template or identity is declared but nothing uses it.',
    explanation: {
      rationale: 'An identity without qubes or a template no qube is based on is often a leftover or a misspelling of the name that was meant. Remove it, or waive the finding with `waive QP2018 on NAME because "…"` if it is kept on purpose.',
    },
  },
  QP2019: {
    slug: 'empty-reason',
    severity: 'error',
    template: 'the reason in `{keyword}` is empty',
    summary: 'A `because` or `waive` gives an empty reason.',
    explanation: {
      rationale: 'A reason is the record of why a finding was accepted on purpose; it is quoted wherever the finding is reported. An empty one defeats that.',
    },
  },
  QP2020: {
    slug: 'unknown-code',
    severity: 'error',
    template: '`{code}` is not a qpc diagnostic code',
    summary: '`waive` names a code that does not exist.',
    explanation: {
      rationale: 'A waiver applies to one diagnostic code on one name. Run `qpc explain` to list the codes.',
    },
  },
  QP2021: {
    slug: 'unused-waiver',
    severity: 'warning',
    template: 'waiver of {code} on `{name}` matches no finding',
    summary: 'A `waive` statement waives nothing.',
    explanation: {
      rationale: 'A waiver that matches nothing is either stale (the finding was fixed) or aimed at the wrong name; either way it should go, or it may silence a future finding nobody has looked at.',
    },
  },
  QP2022: {
    slug: 'release-feature',
    severity: 'error',
    template: '{feature} needs Qubes {release} or later',
    summary: 'The policy uses something the selected Qubes release does not have.',
    explanation: {
      rationale: 'Names with dots and `uuid:` tokens exist from Qubes 4.3 on. The release is chosen with `settings { qubes 4.3 }`; the default is 4.2.',
    },
  },
  QP5001: {
    slug: 'cannot-read',
    severity: 'error',
    template: 'cannot read `{path}`: {reason}',
    summary: 'A file named on the command line cannot be read.',
    explanation: { rationale: 'The path does not exist, is a directory, or is not readable. Exit code 2.' },
  },
  QP5002: {
    slug: 'usage',
    severity: 'error',
    template: '{message}',
    summary: 'The command line is not one qpc understands.',
    explanation: { rationale: 'Run `qpc --help` for the commands and options. Exit code 2.' },
  },
  QP5003: {
    slug: 'unknown-explain-code',
    severity: 'error',
    template: 'there is no diagnostic code `{code}`',
    summary: '`qpc explain` was given a code that does not exist.',
    explanation: { rationale: 'Codes look like `QP2001`. `qpc explain` without an argument lists them all.' },
  },
  QP5004: {
    slug: 'not-formatted',
    severity: 'error',
    template: '`{path}` is not formatted',
    summary: '`qpc fmt --check` found a file that `qpc fmt` would change.',
    explanation: { rationale: 'Run `qpc fmt FILE` to rewrite it in the canonical layout. Exit code 1.' },
  },
  QP5005: {
    slug: 'cannot-write',
    severity: 'error',
    template: 'cannot write `{path}`: {reason}',
    summary: 'qpc could not write a file.',
    explanation: { rationale: 'The directory is missing or not writable. Exit code 2.' },
  },
  QP9001: {
    slug: 'internal-error',
    severity: 'error',
    template: 'internal error: {message}',
    summary: 'qpc hit a bug.',
    explanation: { rationale: 'This is a bug in qpc, not in your policy. Please report it with the input that caused it. Exit code 3.' },
  },
} as const satisfies Record<string, CodeSpec>;

export type Code = keyof typeof codes;

/** Whether a string is a known code. */
export function isCode(s: string): s is Code {
  return Object.prototype.hasOwnProperty.call(codes, s);
}

/** All codes in numeric order. */
export const allCodes: readonly Code[] = (Object.keys(codes) as Code[]).sort();
