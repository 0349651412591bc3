/**
 * The argument parser: per-command option tables and help, `--`, options
 * a command does not take, did-you-mean for misspelt commands and options,
 * and usage errors (QP5002, exit 2) in the error format the line asked for.
 */
import test from 'ava';
import fc from 'fast-check';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { commands, parseCommandLine, UsageError } from '../../../../compiler/cli/args.js';
import { runQpc } from '../../../helpers/cli.js';

const policy = 'use "qubes"\ntemplate deb\nidentity work { network clearnet via sys-firewall; label blue }\nqube mail in work { template deb }\n';
const host = overlayHost(new Map([['-x.qpol', policy]]), nodeHost);

/** The message of the usage error a command line gets. */
function usage(argv: string[]): string {
  const r = runQpc(argv);
  if (r.code !== 2) return `exit ${r.code}: ${r.stdout}${r.stderr}`;
  return [...r.stderr.matchAll(/^error\[(QP\d+)\]: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`).join('\n');
}

test('per-command help: `qpc check --help` and `qpc help check` are the same text, with only check\'s options', (t) => {
  const a = runQpc(['check', '--help']);
  const b = runQpc(['help', 'check']);
  t.is(a.code, 0);
  t.is(b.code, 0);
  t.is(a.stdout, b.stdout);
  t.regex(a.stdout, /^qpc check \[OPTIONS\] FILE\.\.\./);
  t.regex(a.stdout, /--frozen/);
  t.regex(a.stdout, /no lock file is read or written/);
  t.false(a.stdout.includes('--output'), 'an option of compile only is not listed');
  t.false(a.stdout.includes('--junit'));
  t.regex(runQpc(['help', 'test']).stdout, /--junit FILE/);
  t.regex(runQpc(['compile', '-h']).stdout, /-o, --output DIR/);
});

test('`qpc help` is the global text listing every command', (t) => {
  const r = runQpc(['help']);
  t.is(r.code, 0);
  t.is(r.stdout, runQpc(['--help']).stdout);
  for (const c of commands) t.regex(r.stdout, new RegExp(`^  ${c} `, 'm'));
  t.is(usage(['help', 'chekc']), 'QP5002: unknown command `chekc`; did you mean `check`?');
});

test('`--` ends the options: a file named `-x.qpol` after it is a file', (t) => {
  const r = runQpc(['check', '--', '-x.qpol'], { host });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^-x\.qpol: ok/);
  t.regex(usage(['check', '-x.qpol']), /unknown option `-x`/);
  // After `--`, `--help` is a file name too.
  t.is(runQpc(['check', '--', '--help']).code, 2);
  t.regex(runQpc(['check', '--', '--help']).stderr, /cannot read `--help`/);
});

test('an option of another command is named with the commands that take it', (t) => {
  t.is(usage(['fmt', '--frozen', 'x.qpol']), 'QP5002: `--frozen` is not an option of `qpc fmt`; it is an option of check, compile');
  t.is(usage(['check', '-o', 'out', 'x.qpol']), 'QP5002: `--output` is not an option of `qpc check`; it is an option of compile, graph, snapshot, import, plan');
  t.is(usage(['lsp', '--error-format', 'plain']), 'QP5002: `--error-format` is not an option of `qpc lsp`; it is an option of check, compile, fmt, query, explain, graph, lint, import, plan');
  t.is(usage(['test', '--error-format', 'json', 'x.qpol']), 'QP5002: `--error-format` is not an option of `qpc test`; it is an option of check, compile, fmt, query, explain, graph, lint, import, plan');
});

test('did you mean, for unknown options and commands', (t) => {
  t.is(usage(['check', '--froze', 'x.qpol']), 'QP5002: unknown option `--froze` for `qpc check`; did you mean `--frozen`?');
  t.is(usage(['check', '--dney-warnings', 'x.qpol']), 'QP5002: unknown option `--dney-warnings` for `qpc check`; did you mean `--deny-warnings`?');
  // Nearest among all options when the command has none close.
  t.is(usage(['check', '--junt', 'x.qpol']), 'QP5002: unknown option `--junt` for `qpc check`; did you mean `--junit`?');
  t.is(usage(['check', '--bogus', 'x.qpol']), 'QP5002: unknown option `--bogus` for `qpc check`');
  for (const name of ['constructor', '__proto__', 'toString']) t.is(usage(['check', `--${name}=1`, 'x.qpol']), `QP5002: unknown option \`--${name}\` for \`qpc check\``, name);
  t.is(usage(['chekc', 'x.qpol']), 'QP5002: unknown command `chekc`; did you mean `check`?');
  t.is(usage(['frobnicate']), 'QP5002: unknown command `frobnicate`; expected check, compile, fmt, query, test, explain, lsp, graph, snapshot, lint, import or plan');
  t.is(usage(['check', '--color', 'allways', 'x.qpol']), 'QP5002: unknown colour mode `allways` for `--color`; expected auto, always or never (did you mean `always`?)');
});

test('values: missing, given to a flag, or an option in its place', (t) => {
  t.is(usage(['compile', 'x.qpol', '-o']), 'QP5002: `-o` needs a value: `-o DIR`');
  t.is(usage(['compile', 'x.qpol', '-o', '--frozen']), 'QP5002: `-o` needs a value: `-o DIR`');
  t.is(usage(['check', '--frozen=yes', 'x.qpol']), 'QP5002: `--frozen` takes no value (given `--frozen=yes`)');
  t.is(usage(['check', '--error-format']), 'QP5002: `--error-format` needs a value: `--error-format FORMAT`');
  // `=` gives any value, one starting with `-` included.
  const o = parseCommandLine(['compile', 'x.qpol', '--output=--odd']);
  t.is(o.kind === 'run' ? o.options.output : undefined, '--odd');
});

test('every usage error is in the error format the line asks for, wherever it is on the line', (t) => {
  for (const argv of [['check', '--bogus', '--error-format', 'json', 'x.qpol'], ['chekc', '--error-format=json'], ['fmt', '--frozen', '--error-format', 'json', 'x']]) {
    const r = runQpc(argv);
    t.is(r.code, 2, argv.join(' '));
    t.is(JSON.parse(r.stdout)[0].code, 'QP5002', argv.join(' '));
    t.is(r.stderr, '');
  }
});

test('what each command needs', (t) => {
  t.is(usage(['check']), 'QP5002: `qpc check` needs at least one FILE (or - for standard input)');
  t.is(usage(['compile', 'a.qpol']), 'QP5002: `qpc compile` needs an output directory: `-o DIR`');
  t.is(usage(['fmt', '--diff', 'a.qpol']), 'QP5002: `qpc fmt --diff` shows what `--check` finds would change: add `--check`');
  t.is(usage(['check', '-', '-']), 'QP5002: standard input (`-`) can be read only once');
  t.is(usage(['lsp', 'x.qpol']), 'QP5002: `qpc lsp` takes no arguments (given `x.qpol`)');
  t.is(usage(['test']), 'QP5002: `qpc test` needs at least one FILE (or - for standard input)');
  t.is(usage(['lint']), 'QP5002: `qpc lint` needs at least one DIR or FILE (such as a copy of /etc/qubes/policy.d)');
  t.is(usage(['lint', '--release', '4.4', 'policy.d']), 'QP5002: unknown Qubes release `4.4` for `--release`; expected 4.2 or 4.3 (did you mean `4.2`?)');
  t.is(usage(['check', '--system-info', 'info.json', 'x.qpol']), 'QP5002: `--system-info` is not an option of `qpc check`; it is an option of lint, plan');
  t.is(usage([]), 'QP5002: no command given; try `qpc --help`');
  t.is(usage(['import']), 'QP5002: `qpc import` needs exactly one SNAPSHOT (a directory `qpc snapshot` recorded)');
  t.is(usage(['import', '-']), 'QP5002: `qpc import` reads a snapshot directory, not standard input');
  t.is(usage(['check', '--verify', 'x.qpol']), 'QP5002: `--verify` is not an option of `qpc check`; it is an option of import');
  const sarif = runQpc(['check', '--diff', '--error-format', 'sarif', '--frozen', 'x.qpol']);
  t.is(sarif.code, 2);
  t.regex(JSON.parse(sarif.stdout).runs[0].results[0].message.text, /^`--diff` prints to standard output, where `--error-format sarif` writes its document: use one or the other/);
});

test('qpc plan: one FILE and one machine; its usage errors exit 1, since 2 means "something would change"', (t) => {
  const planUsage = (argv: string[]): string => {
    const r = runQpc(argv);
    if (r.code !== 1) return `exit ${r.code}: ${r.stdout}${r.stderr}`;
    return [...r.stderr.matchAll(/^error\[(QP\d+)\]: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`).join('\n');
  };
  t.is(planUsage(['plan', '--snapshot', 'DIR']), 'QP5002: `qpc plan` needs exactly one FILE (the entry of the policy set)');
  t.is(planUsage(['plan', '-', '--snapshot', 'DIR']), 'QP5002: `qpc plan` reads its policy from a file, not standard input (its lock file is beside it)');
  t.is(planUsage(['plan', 'x.qpol']), 'QP5002: `qpc plan` compares with one machine: give `--snapshot DIR` or `--system-info FILE`');
  t.is(planUsage(['plan', 'x.qpol', '--snapshot', 'DIR', '--system-info', 'i.json']), 'QP5002: `qpc plan` compares with one machine: give `--snapshot DIR` or `--system-info FILE`');
  t.is(planUsage(['plan', 'x.qpol', '--snapshot', 'DIR', '--format', 'svg']), 'QP5002: unknown format `svg` for `--format`; expected human or json');
  t.is(planUsage(['plan', 'x.qpol', '--snapshot', 'DIR', '--frozen']), 'QP5002: `--frozen` is not an option of `qpc plan`; it is an option of check, compile');
  const json = runQpc(['plan', 'x.qpol', '--snapshot', 'DIR', '--format', 'json', '--error-format', 'json']);
  t.is(json.code, 1);
  t.regex(json.stdout, /`qpc plan --format json` writes the plan to standard output, where `--error-format json` writes its document/);
  const o = parseCommandLine(['plan', 'x.qpol', '--snapshot', 'DIR', '--format', 'json', '--allow-waived', 'QP3004']);
  t.is(o.kind, 'run');
  if (o.kind === 'run') t.like(o.options, { command: 'plan', files: ['x.qpol'], snapshot: 'DIR', format: 'json' });
  t.regex(runQpc(['help', 'plan']).stdout, /^qpc plan \[OPTIONS\] FILE --snapshot DIR \| --system-info FILE$/m);
});

test('qpc lsp takes the arguments LSP clients pass, and refuses the transports it does not speak', (t) => {
  for (const argv of [['lsp', '--stdio'], ['lsp', '--stdio', '--clientProcessId=4242'], ['lsp', '--clientProcessId', '4242', '--stdio']]) {
    const o = parseCommandLine(argv);
    t.is(o.kind, 'run', argv.join(' '));
    if (argv.length > 2) t.is(o.kind === 'run' ? o.options.clientProcessId : undefined, 4242);
  }
  for (const argv of [['lsp', '--node-ipc'], ['lsp', '--pipe=/run/x.sock'], ['lsp', '--socket=5000']]) {
    t.regex(usage(argv), /is not supported: qpc's language server speaks over standard input\/output only/, argv.join(' '));
  }
  t.is(usage(['lsp', '--clientProcessId=abc']), 'QP5002: `--clientProcessId abc`: expected a process id');
  t.is(usage(['check', '--stdio', 'x.qpol']), 'QP5002: `--stdio` is not an option of `qpc check`; it is an option of lsp');
});

test('any command line parses or is a usage error, never anything else', (t) => {
  const word = fc.oneof(
    fc.constantFrom(...commands, 'help', '-', '--', '-o', '-h', '-V', '-x', '--frozen', '--diff', '--check', '--color', '--error-format', '--allow-waived', '--target', '--junit', '--clientProcessId', '--stdio', '--pipe', 'json', 'always', 'QP3030', 'x.qpol'),
    fc.string({ maxLength: 12 }).map((s) => `--${s}`),
    fc.string({ maxLength: 12 }),
  );
  fc.assert(
    fc.property(fc.array(word, { maxLength: 8 }), (argv) => {
      try {
        parseCommandLine(argv);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
