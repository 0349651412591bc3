/**
 * The arguments of `qpc`: one table of options, each naming the commands
 * that take it, parsed with Node's `util.parseArgs`; the help texts, global
 * and per command, written from the same table. A command line qpc does not
 * understand is a `UsageError` whose message says what is wrong and, for a
 * misspelt command or option, what was probably meant.
 */
import { parseArgs as parseTokens } from 'node:util';
import { isCode, waiverClass, errorFormats, isErrorFormat, type ErrorFormat, suggest, version } from '../index.js';
import type { ColorMode } from './color.js';

export const commands = ['check', 'compile', 'fmt', 'query', 'test', 'explain', 'lsp', 'graph', 'snapshot', 'lint', 'import', 'plan'] as const;
export type Command = (typeof commands)[number];

/** The file name that stands for standard input. */
export const STDIN_ARG = '-';

/** What one command is for, in its help. */
interface CommandSpec {
  readonly synopsis: string;
  /** One line for the global help. */
  readonly brief: string;
  /** The paragraphs of `qpc help COMMAND`. */
  readonly about: string;
}

const commandSpecs: Record<Command, CommandSpec> = {
  check: {
    synopsis: 'qpc check [OPTIONS] FILE...',
    brief: 'check policies; allocate SOCKS ports and update FILE.lock',
    about:
      'Checks each FILE as the entry of a policy set: every stage and every target\'s own\n' +
      'check, so that a policy check calls ok compiles. Allocates SOCKS ports and writes\n' +
      'them to FILE.lock beside FILE when they change and nothing is wrong.\n' +
      '\n' +
      'FILE - reads the policy from standard input (shown as <stdin>); its relative `use`\n' +
      'paths resolve from the current directory, and no lock file is read or written\n' +
      'for it (ports are allocated afresh).',
  },
  compile: {
    synopsis: 'qpc compile [OPTIONS] FILE -o DIR',
    brief: 'check, then write every artifact into DIR',
    about:
      'Checks the policy set whose entry is FILE and, when there is no error, replaces DIR\n' +
      'as a whole with its artifacts (DIR becomes a link to a complete set kept beside it).\n' +
      'With --check it writes nothing and compares DIR with what it would write.',
  },
  fmt: {
    synopsis: 'qpc fmt [OPTIONS] FILE...',
    brief: 'format files in place (FILE - reads stdin, writes stdout)',
    about: 'Rewrites each FILE in the canonical layout. FILE - formats standard input to\nstandard output. With --check it writes nothing and reports the files it would change.',
  },
  query: {
    synopsis: 'qpc query [OPTIONS] FILE REQUEST...',
    brief: "evaluate requests ('SERVICE[+ARG] SOURCE TARGET') and name the deciding rule",
    about:
      "Evaluates each REQUEST ('SERVICE[+ARG] SOURCE TARGET') against the complete policy,\n" +
      'stock files included, with qrexec\'s first-match rules, and names the rule that\n' +
      'decided. --requests FILE (or -) reads one request per line.',
  },
  test: {
    synopsis: 'qpc test [OPTIONS] FILE...',
    brief: "run the policies' `expect` statements and report each one",
    about:
      "Runs the `expect` statements of each FILE's policy set against its complete policy\n" +
      'and reports every one as passed or failed, then a summary. Exit 1 when one failed\n' +
      'or a policy has errors. Writes no lock file.',
  },
  explain: {
    synopsis: 'qpc explain [QPnnnn...]',
    brief: 'explain a diagnostic code, or list all codes',
    about: 'Shows the explanation of each code: what it finds, why, and what to write instead.\nWithout a code, lists every code with its severity and summary.',
  },
  lsp: {
    synopsis: 'qpc lsp [--stdio] [--clientProcessId PID]',
    brief: 'run the language server on stdin/stdout (for editors)',
    about:
      'Runs the language server, speaking LSP over standard input and output until the\n' +
      'client exits. It speaks over standard input/output only: --node-ipc, --pipe and\n' +
      '--socket are refused.',
  },
  graph: {
    synopsis: 'qpc graph [OPTIONS] FILE [-o OUT]',
    brief: 'draw the identities, the network routes and the qrexec channels',
    about:
      "Checks the policy set whose entry is FILE and draws it: identities as clusters in their\n" +
      'label colour, qubes, gateways, netvm edges to the network, and the qrexec channels\n' +
      'that cross identities (allow solid, ask dashed, danger and findings in colour).\n' +
      'SVG by default, rendered in process; --format dot for Graphviz, json for tools.',
  },
  snapshot: {
    synopsis: 'qpc snapshot [-o FILE]',
    brief: "write the dom0 script that records the machine's state into a directory",
    about:
      'Writes a POSIX sh script (to FILE, or standard output) that runs in dom0 with the\n' +
      'stock tools only, changes nothing, and records the qubes, their properties, tags,\n' +
      'features, services and devices, the global properties, /etc/qubes/policy.d and\n' +
      "the running Whonix gateways' torrc.d and whonix_firewall.d into one directory:\n" +
      '`sh snapshot.sh [--start-gateways] DIR`. The format is in docs/snapshot.md.',
  },
  lint: {
    synopsis: 'qpc lint [OPTIONS] DIR|FILE...',
    brief: "check a dom0's native qrexec policy files (/etc/qubes/policy.d) as Qubes reads them",
    about:
      "Reads each DIR as dom0 reads /etc/qubes/policy.d (its `*.policy` files, sorted)\n" +
      'and each FILE in the order given, follows `!include`, `!include-dir` and\n' +
      "`!include-service` as Qubes' loader of the release does, reports every line that\n" +
      'loader would refuse (one such line makes dom0 deny every qrexec call), then\n' +
      "analyses the rules. --system-info FILE gives the machine's qubes (the JSON of\n" +
      'internal.GetSystemInfo, or a directory `qpc snapshot` recorded); without it, only\n' +
      'the qubes the rules name are known.',
  },
  import: {
    synopsis: 'qpc import [OPTIONS] SNAPSHOT [-o POLICY.qpol]',
    brief: 'write the policy in the language equivalent to a machine `qpc snapshot` recorded',
    about:
      'Reads the directory `qpc snapshot` recorded and writes an equivalent policy (to\n' +
      'POLICY.qpol, or standard output): the stock policy files come from `use "qubes"`\n' +
      "and `use \"whonix\"`, Global Config's files become `stock` blocks, the others\n" +
      '`policy-file` blocks; qubes, templates, disposables and gateways come from their\n' +
      'properties; identities are guessed, each guess marked `# guessed:`. It never\n' +
      'writes into SNAPSHOT. --verify evaluates the machine\'s policy files and the\n' +
      'import over every qube, service and target and lists every request they decide\n' +
      'differently (exit 1 for one the rules closing the Tor identities do not explain).',
  },
  plan: {
    synopsis: 'qpc plan [OPTIONS] FILE --snapshot DIR | --system-info FILE',
    brief: 'show what provisioning would change on a recorded machine, before it changes it',
    about:
      'Compiles the policy set whose entry is FILE (writing nothing, its lock file neither)\n' +
      'and compares the machine `qpc snapshot` recorded in DIR with what provision.sh would\n' +
      'make of it: qubes to create, properties, tags, features, services and devices to\n' +
      'change, global properties, policy files to add, change (a unified diff) or remove,\n' +
      'Whonix files per gateway, per qube and per file in provisioning order; qubes the\n' +
      'policy does not declare are listed, never touched. Changes that weaken isolation are\n' +
      'marked !!. --system-info FILE (the JSON of internal.GetSystemInfo) compares the\n' +
      'qrexec part alone: qubes, classes, tags, default disposables. --format json for\n' +
      'machines (docs/plan.md). -o PLAN also writes the plan file `provision.sh --plan PLAN`\n' +
      'reads: it stops unless the machine is still in the snapshot\'s state, --dry-run prints\n' +
      'the plan, --only-changes visits only the qubes it changes. Exit 0 when nothing would\n' +
      'change, 2 when something would, 1 on any error.',
  },
};

type Owners = readonly Command[] | 'all';

interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  /** The value's name in help. */
  readonly value?: string;
  readonly commands: Owners;
  readonly help: string;
  /** Not taken: the usage error it gets instead. */
  readonly refused?: string;
}

const diagnosed: Command[] = ['check', 'compile', 'fmt', 'query', 'test', 'explain', 'graph', 'lint', 'import', 'plan'];
const stdioOnly = 'qpc\'s language server speaks over standard input/output only; start it with `qpc lsp --stdio`';

/** Every option, in the order help lists them. */
const optionSpecs: Record<string, OptionSpec> = {
  // Not for `test`: its report is on stdout, where the machine formats write; `--junit` is its machine format.
  'error-format': { type: 'string', value: 'FORMAT', commands: diagnosed.filter((c) => c !== 'test'), help: `diagnostics as ${errorFormats.join(', ')} (default human)` },
  color: { type: 'string', value: 'WHEN', commands: diagnosed, help: 'colour in human output: auto (default), always or never' },
  'deny-warnings': { type: 'boolean', commands: ['check', 'compile', 'test', 'lint'], help: 'treat warnings as errors (exit 1)' },
  'allow-waived': { type: 'string', value: 'CODE', commands: ['check', 'compile', 'query', 'test', 'plan'], help: "let the policy's waivers of CODE count, for a code of waiver class explicit\n(repeatable; qpc explain CODE shows the class)" },
  frozen: { type: 'boolean', commands: ['check', 'compile'], help: 'refuse to change a lock file (exit 1 if it would change)' },
  check: { type: 'boolean', commands: ['compile', 'fmt'], help: 'write nothing; report what would change (exit 1 if anything would)' },
  diff: { type: 'boolean', commands: ['check', 'compile', 'fmt'], help: 'with --check or --frozen: print a unified diff of what would change' },
  output: { type: 'string', short: 'o', value: 'DIR', commands: ['compile', 'graph', 'snapshot', 'import', 'plan'], help: 'the output directory (graph, snapshot, import: the output file; default standard output;\nplan: the plan file provision.sh --plan reads, the plan still printed)' },
  target: { type: 'string', value: 'LIST', commands: ['compile'], help: 'comma-separated targets: qrexec, whonix, provision, xen (default: all)' },
  format: { type: 'string', value: 'FORMAT', commands: ['query', 'graph', 'plan'], help: 'query, plan: human (default) or json; graph: svg (default), dot or json' },
  view: { type: 'string', value: 'VIEW', commands: ['graph'], help: 'network, channels or all (default)' },
  service: { type: 'string', value: 'SERVICE', commands: ['graph'], help: 'draw only channels of SERVICE (repeatable)' },
  templates: { type: 'boolean', commands: ['graph'], help: 'draw the templates too' },
  collapse: { type: 'boolean', commands: ['graph'], help: 'draw each identity as one node (automatic above 60 qubes)' },
  requests: { type: 'string', value: 'FILE', commands: ['query'], help: 'read requests from FILE, one per line (- for standard input)' },
  junit: { type: 'string', value: 'FILE', commands: ['test'], help: 'also write the results as JUnit XML to FILE' },
  release: { type: 'string', value: 'RELEASE', commands: ['lint'], help: "the Qubes release whose policy loader to follow: 4.2 (default) or 4.3" },
  snapshot: { type: 'string', value: 'DIR', commands: ['plan'], help: 'the directory `qpc snapshot` recorded on the machine to compare' },
  graph: { type: 'string', value: 'FILE', commands: ['lint'], help: 'also draw the calls the policy lets qubes make to each other into FILE:\nSVG, or DOT for a name ending .dot, JSON for .json (docs/graph.md)' },
  'system-info': { type: 'string', value: 'FILE', commands: ['lint', 'plan'], help: "the machine's qubes: the JSON of internal.GetSystemInfo (as\nqrexec-policy-graph --system-info reads it), or a directory qpc snapshot recorded" },
  'no-identities': { type: 'boolean', commands: ['import'], help: 'guess no identities: every qube in one of its own, none through Tor\n(no generated rule, so no decision changes)' },
  verify: { type: 'boolean', commands: ['import'], help: "compare the import's decisions with the machine's policy files and list\nevery difference" },
  stdio: { type: 'boolean', commands: ['lsp'], help: 'speak over standard input/output (the default and only transport)' },
  clientProcessId: { type: 'string', value: 'PID', commands: ['lsp'], help: 'exit when the editor process PID is gone' },
  'node-ipc': { type: 'boolean', commands: ['lsp'], help: '', refused: stdioOnly },
  pipe: { type: 'string', commands: ['lsp'], help: '', refused: stdioOnly },
  socket: { type: 'string', commands: ['lsp'], help: '', refused: stdioOnly },
  help: { type: 'boolean', short: 'h', commands: 'all', help: 'show this help' },
  version: { type: 'boolean', short: 'V', commands: 'all', help: 'show the version' },
};

/** Every option qpc takes, as `[long name, short name]` (the refused transports of `lsp` left out). */
export function optionNames(): [string, string | undefined][] {
  return Object.entries(optionSpecs).filter(([, s]) => s.refused === undefined).map(([n, s]) => [n, s.short]);
}

export class UsageError extends Error {}

export type QueryFormat = 'human' | 'json' | 'svg' | 'dot';

/** A command line, parsed. */
export interface Options {
  command?: Command;
  files: string[];
  errorFormat: ErrorFormat;
  denyWarnings: boolean;
  color: ColorMode;
  check: boolean;
  frozen: boolean;
  diff: boolean;
  format: QueryFormat;
  requests?: string;
  output?: string;
  targets?: string[];
  /** `--allow-waived`: explicit-class codes whose waivers in the policy count. */
  allowWaived?: string[];
  junit?: string;
  /** `qpc lint --release`. */
  release?: '4.2' | '4.3';
  /** `qpc lint --system-info`, `qpc plan --system-info`. */
  systemInfo?: string;
  /** `lint --graph FILE`: where to draw the channels. */
  graphFile?: string;
  /** `qpc plan --snapshot`. */
  snapshot?: string;
  /** `qpc import --no-identities`. */
  noIdentities?: boolean;
  /** `qpc import --verify`. */
  verify?: boolean;
  /** `qpc lsp --clientProcessId`: the editor process whose end ends the server. */
  clientProcessId?: number;
  /** `qpc graph`: what to draw. */
  view?: 'network' | 'channels' | 'all';
  services?: string[];
  templates?: boolean;
  collapse?: boolean;
}

export function defaultOptions(): Options {
  return { files: [], errorFormat: 'human', denyWarnings: false, color: 'auto', check: false, frozen: false, diff: false, format: 'human' };
}

export type Parsed = { readonly kind: 'run'; readonly options: Options } | { readonly kind: 'help'; readonly text: string } | { readonly kind: 'version' };

const takes = (spec: OptionSpec, c: Command): boolean => spec.commands === 'all' || spec.commands.includes(c);
const flag = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

function list(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The code `--allow-waived` names: one whose waiver class is `explicit` (an `author` waiver needs no flag, a `never` one is not waived). */
function allowWaivedCode(v: string): string {
  const c = v.trim().toUpperCase();
  if (!isCode(c)) throw new UsageError(`\`--allow-waived ${v}\`: \`${v}\` is not a qpc diagnostic code`);
  const cls = waiverClass(c);
  if (cls === 'author') throw new UsageError(`\`--allow-waived ${c}\`: ${c} is waived by the policy alone; the flag is for codes of waiver class explicit`);
  if (cls === 'never') throw new UsageError(`\`--allow-waived ${c}\`: ${c} cannot be waived`);
  return c;
}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  const s = suggest(v, allowed);
  throw new UsageError(`unknown ${what} \`${v}\` for \`--${name}\`; expected ${list(allowed)}${s ? ` (did you mean \`${s}\`?)` : ''}`);
}

/** Sets the option `name` of `o` from its value. */
function apply(o: Options, name: string, v: string | undefined): void {
  switch (name) {
    case 'error-format':
      if (!isErrorFormat(v!)) oneOf(name, v!, errorFormats, 'error format');
      o.errorFormat = v as ErrorFormat;
      return;
    case 'color':
      o.color = oneOf(name, v!, ['auto', 'always', 'never'] as const, 'colour mode');
      return;
    case 'format':
      o.format = o.command === 'graph' ? oneOf(name, v!, ['svg', 'dot', 'json'] as const, 'format') : oneOf(name, v!, ['human', 'json'] as const, 'format');
      return;
    case 'view':
      o.view = oneOf(name, v!, ['network', 'channels', 'all'] as const, 'view');
      return;
    case 'service':
      o.services = [...(o.services ?? []), v!];
      return;
    case 'templates':
      o.templates = true;
      return;
    case 'collapse':
      o.collapse = true;
      return;
    case 'no-identities':
      o.noIdentities = true;
      return;
    case 'verify':
      o.verify = true;
      return;
    case 'deny-warnings':
      o.denyWarnings = true;
      return;
    case 'check':
      o.check = true;
      return;
    case 'frozen':
      o.frozen = true;
      return;
    case 'diff':
      o.diff = true;
      return;
    case 'requests':
      o.requests = v;
      return;
    case 'output':
      o.output = v;
      return;
    case 'junit':
      o.junit = v;
      return;
    case 'release':
      o.release = oneOf(name, v!, ['4.2', '4.3'] as const, 'Qubes release');
      return;
    case 'system-info':
      o.systemInfo = v;
      return;
    case 'graph':
      o.graphFile = v;
      return;
    case 'snapshot':
      o.snapshot = v;
      return;
    case 'target':
      o.targets = [...(o.targets ?? []), ...v!.split(',').map((x) => x.trim()).filter((x) => x !== '')];
      return;
    case 'allow-waived':
      o.allowWaived = [...(o.allowWaived ?? []), allowWaivedCode(v!)];
      return;
    case 'clientProcessId': {
      if (!/^\d{1,10}$/.test(v!) || Number(v) < 1) throw new UsageError(`\`--clientProcessId ${v}\`: expected a process id`);
      o.clientProcessId = Number(v);
      return;
    }
  }
}

/** A did-you-mean for an unknown option: among the command's options first, then among all. */
function optionSuggestion(raw: string, command: Command | undefined): string {
  const name = raw.replace(/^-+/, '');
  const visible = (spec: OptionSpec) => spec.refused === undefined;
  const own = Object.entries(optionSpecs).filter(([, s]) => visible(s) && (command === undefined || takes(s, command)));
  const all = Object.entries(optionSpecs).filter(([, s]) => visible(s));
  for (const pool of [own, all]) {
    const s = suggest(name, pool.map(([n]) => n));
    if (s !== undefined) return `; did you mean \`--${s}\`?`;
  }
  return '';
}

/**
 * Parses a command line. `into` receives the options as they are read, so
 * that a usage error found later is still reported in the error format the
 * line asked for.
 */
export function parseCommandLine(argv: readonly string[], into: Options = defaultOptions()): Parsed {
  const table: Record<string, { type: 'boolean' | 'string'; short?: string }> = {};
  for (const [name, spec] of Object.entries(optionSpecs)) table[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  const { tokens } = parseTokens({ args: [...argv], options: table, allowPositionals: true, strict: false, tokens: true });
  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const first = positionals[0];
  const o = into;
  const wantsHelp = tokens.some((t) => t.kind === 'option' && t.name === 'help');

  // The error format and colour first, so that every usage error on the line is reported as it asks
  // (unless the command named does not take them).
  const named = (commands as readonly string[]).includes(first ?? '') ? (first as Command) : undefined;
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value === undefined || (t.name !== 'error-format' && t.name !== 'color') || (named !== undefined && !takes(optionSpecs[t.name], named))) continue;
    if (t.name === 'error-format' && isErrorFormat(t.value)) o.errorFormat = t.value;
    if (t.name === 'color' && (t.value === 'auto' || t.value === 'always' || t.value === 'never')) o.color = t.value;
  }

  if (first === 'help') {
    if (positionals.length > 2) throw new UsageError('`qpc help` takes at most one COMMAND');
    const topic = positionals[1];
    return { kind: 'help', text: topic === undefined ? globalHelp() : commandHelp(commandName(topic)) };
  }
  const command = first === undefined ? undefined : commandName(first);
  o.command = command;
  o.files = positionals.slice(1);
  if (wantsHelp) return { kind: 'help', text: command === undefined ? globalHelp() : commandHelp(command) };
  if (tokens.some((t) => t.kind === 'option' && t.name === 'version')) return { kind: 'version' };

  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = Object.hasOwn(optionSpecs, t.name) ? optionSpecs[t.name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option \`${t.rawName}\`${command ? ` for \`qpc ${command}\`` : ''}${optionSuggestion(t.rawName, command)}`);
    if (command === undefined) throw new UsageError(`\`${flag(t.name)}\` needs a command before it; try \`qpc --help\``);
    if (!takes(spec, command)) {
      const owners = spec.commands === 'all' ? commands : spec.commands;
      throw new UsageError(`\`${flag(t.name)}\` is not an option of \`qpc ${command}\`; it is an option of ${owners.join(', ')}`);
    }
    if (spec.refused !== undefined) throw new UsageError(`\`${t.rawName}\` is not supported: ${spec.refused}`);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`\`${flag(t.name)}\` takes no value (given \`${t.rawName}=${t.value}\`)`);
      apply(o, t.name, undefined);
      continue;
    }
    // A value that is itself a long option (`-o --frozen`) is a value left out, not a directory named `--frozen`.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(`\`${t.rawName}\` needs a value: \`${t.rawName} ${optionSpecs[t.name].value ?? 'VALUE'}\``);
    apply(o, t.name, t.value);
  }
  if (command === undefined) throw new UsageError('no command given; try `qpc --help`');
  validate(o, command);
  return { kind: 'run', options: o };
}

/** The command a word names; a usage error with a suggestion otherwise. */
function commandName(word: string): Command {
  if ((commands as readonly string[]).includes(word)) return word as Command;
  const s = suggest(word, [...commands, 'help']);
  throw new UsageError(`unknown command \`${word}\`${s ? `; did you mean \`${s}\`?` : `; expected ${list(commands)}`}`);
}

/** What each command needs beyond its options. */
function validate(o: Options, command: Command): void {
  const stdinTwice = o.files.filter((f) => f === STDIN_ARG).length + (o.requests === STDIN_ARG ? 1 : 0) > 1;
  if (stdinTwice) throw new UsageError('standard input (`-`) can be read only once');
  switch (command) {
    case 'check':
      if (o.files.length === 0) throw new UsageError('`qpc check` needs at least one FILE (or - for standard input)');
      if (o.diff && !o.frozen) throw new UsageError('`qpc check --diff` shows the lock file change `--frozen` refuses: add `--frozen`');
      return;
    case 'compile':
      if (o.files.length !== 1) throw new UsageError('`qpc compile` needs exactly one FILE (the entry of the policy set)');
      if (o.files[0] === STDIN_ARG) throw new UsageError('`qpc compile` reads its policy from a file, not standard input (its lock file is beside it)');
      if (o.output === undefined) throw new UsageError('`qpc compile` needs an output directory: `-o DIR`');
      if (o.diff && !o.check && !o.frozen) throw new UsageError('`qpc compile --diff` shows what `--check` or `--frozen` finds would change: add one of them');
      return;
    case 'fmt':
      if (o.files.length === 0) throw new UsageError('`qpc fmt` needs at least one FILE (or - for standard input)');
      if (o.diff && !o.check) throw new UsageError('`qpc fmt --diff` shows what `--check` finds would change: add `--check`');
      return;
    case 'query':
      if (o.files.length === 0 || (o.files.length === 1 && o.requests === undefined)) throw new UsageError('`qpc query` needs FILE and at least one request (or --requests FILE)');
      if (o.files[0] === STDIN_ARG) throw new UsageError('`qpc query` reads its policy from a file; requests can come from standard input with `--requests -`');
      return;
    case 'test':
      if (o.files.length === 0) throw new UsageError('`qpc test` needs at least one FILE (or - for standard input)');
      return;
    case 'explain':
      return;
    case 'lsp':
      if (o.files.length > 0) throw new UsageError(`\`qpc lsp\` takes no arguments (given \`${o.files[0]}\`)`);
      return;
    case 'lint':
      if (o.files.length === 0) throw new UsageError('`qpc lint` needs at least one DIR or FILE (such as a copy of /etc/qubes/policy.d)');
      if (o.files.includes(STDIN_ARG)) throw new UsageError('`qpc lint` reads policy files and directories, not standard input');
      return;
    case 'import':
      if (o.files.length !== 1) throw new UsageError('`qpc import` needs exactly one SNAPSHOT (a directory `qpc snapshot` recorded)');
      if (o.files[0] === STDIN_ARG) throw new UsageError('`qpc import` reads a snapshot directory, not standard input');
      return;
    case 'plan':
      if (o.files.length !== 1) throw new UsageError('`qpc plan` needs exactly one FILE (the entry of the policy set)');
      if (o.files[0] === STDIN_ARG) throw new UsageError('`qpc plan` reads its policy from a file, not standard input (its lock file is beside it)');
      if ((o.snapshot === undefined) === (o.systemInfo === undefined)) throw new UsageError('`qpc plan` compares with one machine: give `--snapshot DIR` or `--system-info FILE`');
      if (o.output !== undefined && o.snapshot === undefined) throw new UsageError('`qpc plan -o PLAN` writes a plan provision.sh compares the machine with: it needs `--snapshot DIR` (a system info has no machine state)');
      if (o.format === 'json' && o.errorFormat !== 'human' && o.errorFormat !== 'plain') throw new UsageError(`\`qpc plan --format json\` writes the plan to standard output, where \`--error-format ${o.errorFormat}\` writes its document: use one or the other`);
      return;
    case 'snapshot':
      if (o.files.length > 0) throw new UsageError(`\`qpc snapshot\` takes no arguments (given \`${o.files[0]}\`); the script it writes takes the directory`);
      return;
  }
}

/** One option's line(s) in help. */
function optionLines(name: string, spec: OptionSpec): string {
  const head = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
  const [firstLine, ...more] = spec.help.split('\n');
  const pad = ' '.repeat(30);
  return `  ${head.padEnd(28)}${head.length >= 28 ? `\n${pad}` : ''}${firstLine}\n${more.map((l) => `${pad}${l}\n`).join('')}`;
}

const exitCodes = `exit codes: 0 ok, 1 policy errors (or, with --check or --frozen, something would change;
            with qpc test, a failed expect), 2 usage or I/O error, 3 internal error
`;

/** `qpc --help`, `qpc help`. */
export function globalHelp(): string {
  const lines = commands.map((c) => `  ${c.padEnd(10)}${commandSpecs[c].brief}\n`).join('');
  return `qpc ${version} — the Qubes-Whonix policy compiler

usage: qpc COMMAND [OPTIONS] [ARGS...]

commands:
${lines}  help      show this text, or \`qpc help COMMAND\` for one command's options

options of every command:
${optionLines('help', optionSpecs.help)}${optionLines('version', optionSpecs.version)}
\`--\` ends the options: every argument after it is a FILE, even one that starts with \`-\`.

${exitCodes}`;
}

/** `qpc COMMAND --help`, `qpc help COMMAND`. */
export function commandHelp(c: Command): string {
  const spec = commandSpecs[c];
  const opts = Object.entries(optionSpecs).filter(([, s]) => takes(s, c) && s.refused === undefined);
  return `${spec.synopsis}

${spec.about}

options:
${opts.map(([n, s]) => optionLines(n, s)).join('')}
${exitCodes}`;
}
