/**
 * Reads native qrexec policy files (the R4.1+ format of
 * `/etc/qubes/policy.d`) the way Qubes' loader does: qubes-core-qrexec
 * `qrexec/policy/parser.py`, `FilePolicy` (v4.2.25 for 4.2, v4.3.12 for
 * 4.3), so that a file qpc accepts is one dom0 accepts, with the same rules,
 * and a line dom0 refuses is refused here with dom0's words.
 *
 *   parser.py                              here
 *   ---------                              ----
 *   `filter_filepaths`, `load_policy_dir`  {@link readNativePolicy} (a DIR), `includeDir`
 *   `AbstractParser.load_policy_file`      `loadNew`
 *   `load_policy_file_service`             `loadOld` (`!include-service` files)
 *   `Rule.__init__`, `Rule.from_line`      `makeRule`
 *   `validate_service_and_argument`        `serviceAndArgument`
 *   `VMToken.__new__`                      compiler/qrexec/token.ts `tokenIn`
 *   `resolve_path`, `resolve_filepath`     `resolve`
 *
 * Qubes stops at the first problem and then denies every call; this reader
 * goes on and reports every problem, in load order, so the first error it
 * reports is the one dom0 would log ({@link NativeReadResult.rejections}).
 *
 * Paths: dom0 resolves `!include*` paths against `/etc/qubes/policy.d` (4.2;
 * 4.3 against the directory of the top-level file being read, which for the
 * files of that directory is the same). Offline, that directory is the DIR
 * given (or a FILE's own directory): a path under `/etc/qubes/policy.d` maps
 * into it; any other path cannot be read here and is reported (QP6004).
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { CompilerHost } from '../host.js';
import { ioReason } from '../host.js';
import { SourceFile, type Span } from '../source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { QrexecRule, QubesRelease } from '../qrexec/types.js';
import { RPCNAME_CHARS, readRuleTokens, tokenIn, type Column } from '../qrexec/token.js';
import { isPythonSpace, pyList, pyRepr, pyTuple, sortedChars, splitWords, textLines, type Word } from './python.js';

/** dom0's policy directory (`POLICYPATH`). */
export const POLICY_DIR = '/etc/qubes/policy.d';

/** The suffix of the files dom0 reads in a policy directory (`POLICYSUFFIX`). */
const SUFFIX = '.policy';

/** `FILENAME_ALLOWED_CHARSET`: a considered file named otherwise makes Qubes refuse the whole policy. */
const FILENAME = /^[0-9a-z_.-]*$/;

/** One entry of a directory, symbolic links followed (`Path.is_file()`). */
export interface DirEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'other';
}

/** A host that can also list directories; without `listDir` the local file system is listed. */
export interface NativeHost extends CompilerHost {
  /** The entries of a directory; throws an Error with a `code` (ENOENT, ENOTDIR, EACCES) otherwise. */
  listDir?(dir: string): readonly DirEntry[];
}

/** Lists a directory of the local file system, following symbolic links as `Path.is_file()` does. */
export function nodeListDir(dir: string): DirEntry[] {
  return readdirSync(dir).map((name) => {
    try {
      const st = statSync(path.join(dir, name));
      return { name, kind: st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other' };
    } catch {
      return { name, kind: 'other' }; // a dangling link: not a file
    }
  });
}

/** A problem that makes Qubes refuse the whole policy, as dom0 would log it. */
export interface Rejection {
  /** The file as shown in diagnostics; absent for a file name refused in a directory listing. */
  readonly file?: string;
  readonly line?: number;
  /** Qubes' message, without its `FILE:LINE:` prefix. */
  readonly message: string;
}

export interface NativeReadResult {
  /** The rules, in the order dom0 evaluates them. */
  readonly rules: readonly QrexecRule[];
  /** Every file read, by the path shown in diagnostics (the path as named, plus the relative path). */
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** The top-level files read, in order, by shown path. */
  readonly files: readonly string[];
  /** QP6xxx, stage `load`. */
  readonly diagnostics: readonly Diagnostic[];
  /** What makes Qubes refuse the policy, in load order: the first is what dom0 reports. Empty when dom0 loads it. */
  readonly rejections: readonly Rejection[];
}

export interface NativeReadOptions {
  /**
   * The stock files of the release as the standard library models them, by
   * file name without `.policy`, each with its rules in order: a file whose
   * name and rules (its includes spliced) equal one of them has `stock` rules.
   */
  readonly stock?: ReadonlyMap<string, readonly QrexecRule[]>;
}

/** At most this many QP6001 per file: dom0 stops at the first. */
const MAX_ERRORS_PER_FILE = 20;

type Action = QrexecRule['action'];

/** The parameters each action takes (`Allow.__init__`, `Ask.__init__`, `Deny.__init__`). */
const PARAMS: Record<Action, readonly string[]> = {
  allow: ['target', 'user', 'notify', 'autostart'],
  ask: ['target', 'default_target', 'user', 'notify', 'autostart'],
  deny: ['notify'],
};
const CLASS_NAME: Record<Action, string> = { allow: 'Allow', ask: 'Ask', deny: 'Deny' };

/** A word of a line with its span. */
interface Tok {
  readonly text: string;
  readonly span: Span;
}

/** Where a file is read from: its shown path, its local path, and the directory dom0's policy directory maps to. */
interface Place {
  readonly shown: string;
  readonly local: string;
  /** The local directory standing for `/etc/qubes/policy.d`, and how it is shown. */
  readonly root: { readonly local: string; readonly shown: string };
  /** The file's path relative to the root, without `.policy`: the rules' `policyFile`. */
  readonly name: string;
}

class Loader {
  readonly rules: QrexecRule[] = [];
  readonly sources = new Map<string, SourceFile>();
  readonly diagnostics: Diagnostic[] = [];
  readonly rejections: Rejection[] = [];
  readonly files: string[] = [];
  /** For each rule, the top-level file it was read through (without `.policy`). */
  readonly tops: string[] = [];
  private top_ = '';
  /** The directories reported as skipped (QP6005), by their diagnostic: one an include read from is not worth saying. */
  readonly skippedDirs = new Map<Diagnostic, string>();
  /** The local paths being read, for include cycles. */
  private readonly stack: string[] = [];
  private readonly listDir: (dir: string) => readonly DirEntry[];

  constructor(
    private readonly host: NativeHost,
    private readonly release: QubesRelease,
  ) {
    this.listDir = host.listDir ? (d) => host.listDir!(d) : nodeListDir;
  }

  report(d: Diagnostic): void {
    this.diagnostics.push({ ...d, stage: 'load' });
  }

  reject(file: string | undefined, line: number | undefined, message: string): void {
    this.rejections.push({ ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}), message });
  }

  /** A command-line argument: a directory read as dom0 reads policy.d, or a file. */
  top(arg: string): void {
    let entries: readonly DirEntry[] | undefined;
    try {
      entries = this.listDir(arg);
    } catch (e) {
      // Not a directory (or nothing there): read as a file, which says why not.
      const code = (e as { code?: string }).code;
      if (code !== 'ENOTDIR' && code !== 'ENOENT') {
        this.report(diag('QP5001', undefined, { path: arg, reason: ioReason(e) }));
        return;
      }
    }
    if (entries !== undefined) {
      const root = { local: arg, shown: arg.replace(/(.)\/+$/, '$1') };
      for (const name of this.considered(entries, root.shown, POLICY_DIR)) {
        const shown = join(root.shown, name);
        this.file({ shown, local: path.join(arg, name), root, name: name.slice(0, -SUFFIX.length) }, undefined, true);
      }
      return;
    }
    const dir = path.posix.dirname(arg);
    const base = path.posix.basename(arg);
    const place: Place = { shown: arg, local: arg, root: { local: dir, shown: dir }, name: base.endsWith(SUFFIX) && base.length > SUFFIX.length ? base.slice(0, -SUFFIX.length) : base };
    let text: string;
    try {
      text = this.host.readFile(arg);
    } catch (e) {
      this.report(diag('QP5001', undefined, { path: arg, reason: ioReason(e) }));
      return;
    }
    this.loadTop(place, text);
  }

  /**
   * `filter_filepaths`: the regular `*.policy` files not starting with `.`,
   * sorted; a considered name outside `[0-9a-z_.-]` makes Qubes refuse the
   * whole policy. Says what is skipped and why.
   */
  private considered(entries: readonly DirEntry[], shownDir: string, dom0Dir: string): string[] {
    const out: string[] = [];
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const shown = join(shownDir, e.name);
      // `Path.suffix` of `.policy` alone is empty.
      const policy = e.name.endsWith(SUFFIX) && e.name.length > SUFFIX.length;
      let why: string | undefined;
      if (e.kind !== 'file') why = e.kind === 'directory' ? 'a directory, and no include reads from it: dom0 reads only the `*.policy` files of a policy directory' : 'not a regular file: dom0 reads only regular `*.policy` files';
      else if (!policy) why = 'not a `.policy` file: dom0 does not read it';
      else if (e.name.startsWith('.')) why = 'its name starts with `.`: dom0 does not read it';
      if (why !== undefined) {
        this.report(diag('QP6005', undefined, { path: shown, reason: why }));
        if (e.kind === 'directory') this.skippedDirs.set(this.diagnostics[this.diagnostics.length - 1]!, shown);
        continue;
      }
      if (!FILENAME.test(e.name)) {
        const dom0 = `${dom0Dir}/${e.name}`;
        this.reject(undefined, undefined, `invalid filename: ${dom0}`);
        this.report(
          diag('QP6002', undefined, { path: shown }, {
            help: 'rename the file with only lowercase letters, digits, `_`, `.` and `-` (such as `30-user.policy`), or move it out of the directory',
            notes: [`dom0 refuses the whole policy for this name (\`invalid filename: ${dom0}\`) and then denies every qrexec call on the machine`],
          }),
        );
        continue;
      }
      out.push(e.name);
    }
    return out;
  }

  /** Reads one file of a directory (or an include) and loads it. */
  private file(place: Place, at: Tok | undefined, isTop: boolean): string | undefined {
    let text: string;
    try {
      text = this.host.readFile(place.local);
    } catch (e) {
      this.report(
        diag('QP6004', at?.span, { kind: 'unreadable', path: place.shown, reason: ioReason(e) }, {
          notes: ['dom0 reads this file; its rules are not known to lint, so the analysis below is of the other files only'],
        }),
      );
      return undefined;
    }
    if (isTop) this.loadTop(place, text);
    return text;
  }

  private loadTop(place: Place, text: string): void {
    this.files.push(place.shown);
    this.top_ = place.name;
    this.loadNew(place, text);
  }

  private source(place: Place, text: string): SourceFile {
    const s = new SourceFile(place.shown, text);
    this.sources.set(place.shown, s);
    return s;
  }

  /**
   * What a file's loading calls for each line Qubes refuses: recorded as a
   * rejection, and reported up to MAX_ERRORS_PER_FILE times per file.
   */
  private failer(place: Place): (line: number, message: string, at: Span, label: string) => void {
    let errors = 0;
    return (line, message, at, label) => {
      this.reject(place.shown, line, message);
      if (errors++ >= MAX_ERRORS_PER_FILE) return;
      this.report(rejected(message, at, label, errors === MAX_ERRORS_PER_FILE));
    };
  }

  /** `load_policy_file`: the new syntax, with directives. */
  private loadNew(place: Place, text: string): void {
    const src = this.source(place, text);
    this.stack.push(path.resolve(place.local));
    const fail = this.failer(place);
    for (const l of textLines(text)) {
      const words = splitWords(l.text);
      if (words.length === 0 || words[0]!.text.startsWith('#')) continue;
      const toks = words.map((w) => tok(src, l.start, w));
      const whole = src.span(toks[0]!.span.start, toks[toks.length - 1]!.span.end);
      const first = toks[0]!;
      if (first.text.startsWith('!')) {
        const params = toks.slice(1);
        const arity = (n: number): boolean => {
          if (params.length === n) return true;
          fail(l.number, 'invalid number of params', whole, `\`${first.text}\` takes ${n === 0 ? 'no parameter' : n === 1 ? 'one path' : 'SERVICE ARGUMENT PATH'}`);
          return false;
        };
        switch (first.text) {
          case '!include':
            if (arity(1)) this.include(place, params[0]!, l.number, undefined, fail);
            break;
          case '!include-dir':
            if (arity(1)) this.includeDir(place, params[0]!, l.number);
            break;
          case '!include-service': {
            if (!arity(3)) break;
            const sa = serviceAndArgument(params[0]!, params[1]!);
            if ('message' in sa) fail(l.number, sa.message, sa.at.span, sa.label);
            else this.include(place, params[2]!, l.number, sa, fail);
            break;
          }
          case '!compat-4.0':
            if (!arity(0)) break;
            this.report(
              diag('QP6004', first.span, { kind: 'compat', path: '/etc/qubes-rpc/policy' }, {
                severity: 'info',
                notes: ['dom0 splices the old per-service files of /etc/qubes-rpc/policy here (on a stock Qubes 4.2, `qubes.USB`: deny to every qube), before every later file; dom0 logs that the directive is transitional and will be deprecated'],
              }),
            );
            break;
          default:
            fail(l.number, 'invalid directive', first.span, 'not `!include`, `!include-dir`, `!include-service` or `!compat-4.0`');
        }
        continue;
      }
      if (toks.length < 5) {
        fail(l.number, 'wrong number of fields', whole, 'a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM=VALUE…]');
        continue;
      }
      const sa = serviceAndArgument(toks[0]!, toks[1]!);
      if ('message' in sa) {
        fail(l.number, sa.message, sa.at.span, sa.label);
        continue;
      }
      this.rule(place, l.number, whole, sa, toks[2]!, toks[3]!, toks[4]!, toks.slice(5), fail);
    }
    this.stack.pop();
  }

  /** `load_policy_file_service`: the old syntax (`SOURCE TARGET ACTION[,PARAM=VALUE]`) for one service and argument. */
  private loadOld(place: Place, text: string, sa: ServiceArgument): void {
    const src = this.source(place, text);
    this.stack.push(path.resolve(place.local));
    const fail = this.failer(place);
    for (const l of textLines(text)) {
      const trimmed = pyStrip(l.text);
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      // The compatibility substitutions keep every offset: `$include:` and `!include ` have the same length.
      const line = l.text.replaceAll('$include:', '!include ').replaceAll('$', '@').replaceAll(',', ' ');
      const toks = splitWords(line).map((w) => tok(src, l.start, w));
      const whole = src.span(toks[0]!.span.start, toks[toks.length - 1]!.span.end);
      if (toks[0]!.text.startsWith('!')) {
        if (toks[0]!.text !== '!include') fail(l.number, 'invalid directive', toks[0]!.span, 'an `!include-service` file takes only `!include` (or `$include:`)');
        else if (toks.length !== 2) fail(l.number, 'invalid number of params', whole, '`!include` takes one path');
        else this.include(place, toks[1]!, l.number, sa, fail);
        continue;
      }
      if (toks.length < 3) {
        fail(l.number, 'wrong number of fields', whole, 'a line of an `!include-service` file is SOURCE TARGET ACTION[,PARAM=VALUE…]');
        continue;
      }
      this.rule(place, l.number, whole, sa, toks[0]!, toks[1]!, toks[2]!, toks.slice(3), fail);
    }
    this.stack.pop();
  }

  /** `Rule.__init__`, in its order of checks. */
  private rule(place: Place, line: number, whole: Span, sa: ServiceArgument, source: Tok, target: Tok, action: Tok, params: readonly Tok[], fail: Fail): void {
    const column = (t: Tok, c: Column, what: string): boolean => {
      const k = tokenIn(t.text, c, this.release);
      if (k.kind !== 'invalid') return true;
      fail(line, reworded(k.problem ?? `invalid ${c} token`, t.text), t.span, `not a token Qubes ${this.release} takes as ${what}`);
      return false;
    };
    if (!column(source, 'source', 'a source')) return;
    if (!column(target, 'target', 'a target')) return;
    if (action.text !== 'allow' && action.text !== 'ask' && action.text !== 'deny') {
      fail(line, `invalid action: ${action.text}`, action.span, 'the action is `allow`, `ask` or `deny` (parameters follow, separated by spaces)');
      return;
    }
    const act: Action = action.text;
    const kw = new Map<string, { value: string; at: Tok }>();
    for (const p of params) {
      const eq = p.text.indexOf('=');
      if (eq < 0) {
        fail(line, `invalid action parameter syntax: ${pyRepr(p.text)}`, p.span, p.text.startsWith('#') ? 'comments take a line of their own' : 'a parameter is KEY=VALUE');
        return;
      }
      const key = p.text.slice(0, eq);
      if (kw.has(key)) {
        fail(line, `parameter given twice: ${pyRepr(key)}`, p.span, 'given again here');
        return;
      }
      kw.set(key, { value: p.text.slice(eq + 1), at: p });
    }
    for (const key of ['notify', 'autostart']) {
      const v = kw.get(key);
      if (v !== undefined && v.value !== 'yes' && v.value !== 'no') {
        fail(line, `${pyRepr(key)} is ${pyRepr(v.value)}, but can be only 'yes' or 'no'`, v.at.span, 'only `yes` or `no`');
        return;
      }
    }
    for (const [key, v] of kw) {
      if (PARAMS[act].includes(key)) continue;
      fail(line, `invalid parameters for action ${CLASS_NAME[act]}: ${pyList(params.map((p) => p.text))}`, v.at.span, `\`${act}\` takes ${PARAMS[act].map((k) => `\`${k}=\``).join(', ')}`);
      return;
    }
    for (const key of ['target', 'default_target']) {
      const v = kw.get(key);
      if (v === undefined) continue;
      const k = tokenIn(v.value, 'redirect', this.release);
      if (k.kind === 'invalid') {
        fail(line, reworded(k.problem ?? 'invalid redirect token', v.value), v.at.span, `not a token Qubes ${this.release} takes in \`${key}=\``);
        return;
      }
    }
    if (act === 'allow' && !kw.has('target') && tokenIn(target.text, 'target', this.release).kind === 'default') {
      fail(line, 'allow action for @default rule must specify target= option', target.span, 'a call naming no target needs a `target=`');
      return;
    }
    const bool = (key: string): boolean | undefined => (kw.has(key) ? kw.get(key)!.value === 'yes' : undefined);
    const redirect = kw.get('target')?.value;
    const defaultTarget = kw.get('default_target')?.value;
    const user = kw.get('user')?.value;
    const notify = bool('notify');
    const autostart = bool('autostart');
    const base = {
      service: sa.service,
      argument: sa.argument,
      source: source.text,
      target: target.text,
      action: act,
      ...(redirect !== undefined ? { redirect } : {}),
      ...(defaultTarget !== undefined ? { defaultTarget } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(notify !== undefined ? { notify } : {}),
      ...(autostart !== undefined ? { autostart } : {}),
      origin: { policyFile: place.name, stock: false, span: whole, id: `${place.name}#${line}` },
    };
    this.rules.push({ ...base, tokens: readRuleTokens(base, this.release) });
    this.tops.push(this.top_);
  }

  /** Where an include path leads: the local file standing for the dom0 path, or undefined when it is outside the policy directory. */
  private resolve(place: Place, word: string): { dom0: string; local?: string; shown?: string; rel?: string } {
    const dom0 = path.posix.resolve(POLICY_DIR, word);
    if (dom0 !== POLICY_DIR && !dom0.startsWith(`${POLICY_DIR}/`)) return { dom0 };
    const rel = dom0.slice(POLICY_DIR.length + 1);
    return { dom0, local: rel === '' ? place.root.local : path.join(place.root.local, rel), shown: rel === '' ? place.root.shown : join(place.root.shown, rel), rel };
  }

  /** `!include PATH` (new syntax), or `!include-service`'s file and the `!include` lines in it (old syntax, `sa` given). */
  private include(place: Place, at: Tok, line: number, sa: ServiceArgument | undefined, fail: Fail): void {
    const r = this.resolve(place, at.text);
    if (r.local === undefined) {
      this.report(outside(r.dom0, at.span));
      return;
    }
    if (this.stack.includes(path.resolve(r.local))) {
      this.reject(place.shown, line, `include cycle: ${r.dom0}`);
      this.report(
        diag('QP6003', at.span, { kind: 'cycle', path: r.dom0 }, {
          label: 'included again while it is being read',
          help: 'remove the `!include` that leads back to a file being read',
          notes: ['dom0 follows the includes until Python gives up (RecursionError): the policy does not load, and dom0 denies every qrexec call on the machine'],
        }),
      );
      return;
    }
    const inc: Place = { shown: r.shown!, local: r.local, root: place.root, name: r.rel!.endsWith(SUFFIX) && r.rel!.length > SUFFIX.length ? r.rel!.slice(0, -SUFFIX.length) : r.rel! };
    let text: string;
    try {
      text = this.host.readFile(r.local);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
        this.reject(place.shown, line, `not a file: ${r.dom0}`);
        this.report(diag('QP6003', at.span, { kind: 'file', path: r.dom0 }, { label: `no such file in ${place.root.shown}`, help: INCLUDE_HELP }));
        return;
      }
      this.report(diag('QP6004', at.span, { kind: 'unreadable', path: inc.shown, reason: ioReason(e) }, { notes: ['dom0 reads this file; its rules are not known to lint, so the analysis below is of the other files only'] }));
      return;
    }
    if (sa === undefined) this.loadNew(inc, text);
    else this.loadOld(inc, text, sa);
  }

  /** `!include-dir DIR`: every considered file of DIR, in order. */
  private includeDir(place: Place, at: Tok, line: number): void {
    const r = this.resolve(place, at.text);
    if (r.local === undefined) {
      this.report(outside(r.dom0, at.span));
      return;
    }
    let entries: readonly DirEntry[];
    try {
      entries = this.listDir(r.local);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.reject(place.shown, line, `not a directory: ${r.dom0}`);
        this.report(diag('QP6003', at.span, { kind: 'directory', path: r.dom0 }, { label: `no such directory in ${place.root.shown}`, help: INCLUDE_HELP }));
      } else this.report(diag('QP6004', at.span, { kind: 'unreadable', path: r.shown!, reason: ioReason(e) }, { notes: ['dom0 reads this directory; its rules are not known to lint'] }));
      return;
    }
    for (const name of this.considered(entries, r.shown!, r.dom0)) {
      const rel = r.rel === '' ? name : `${r.rel}/${name}`;
      const inc: Place = { shown: join(r.shown!, name), local: path.join(r.local, name), root: place.root, name: rel.slice(0, -SUFFIX.length) };
      if (this.stack.includes(path.resolve(inc.local))) {
        this.reject(place.shown, line, `include cycle: ${r.dom0}/${name}`);
        this.report(
          diag('QP6003', at.span, { kind: 'cycle', path: `${r.dom0}/${name}` }, {
            label: 'this directory holds a file being read',
            help: 'include a directory that does not hold the including file',
            notes: ['dom0 follows the includes until Python gives up (RecursionError): the policy does not load, and dom0 denies every qrexec call on the machine'],
          }),
        );
        continue;
      }
      const text = this.file(inc, at, false);
      if (text !== undefined) this.loadNew(inc, text);
    }
  }
}

const INCLUDE_HELP = 'add the file to the policy directory, or remove the include: while it names nothing, Qubes refuses the whole policy and dom0 denies every qrexec call on the machine';

type Fail = (line: number, message: string, at: Span, label: string) => void;

/** A rule's service and argument as Qubes stores them (`*` for any). */
interface ServiceArgument {
  readonly service: string;
  readonly argument: string;
}

/** `validate_service_and_argument`, with the word at fault. */
function serviceAndArgument(service: Tok, argument: Tok): ServiceArgument | { message: string; at: Tok; label: string } {
  const any = service.text === '*';
  if (!any) {
    const bad = invalidChars(service.text, true);
    if (bad.length > 0) return { message: `service ${pyRepr(service.text)} contains invalid characters: ${pyTuple(bad)}`, at: service, label: 'a service name has only letters, digits, `.`, `_` and `-`' };
  }
  if (argument.text !== '*') {
    const bad = invalidChars(argument.text, false);
    if (bad.length > 0) return { message: `argument ${pyRepr(argument.text)} contains invalid characters: ${pyTuple(bad)}`, at: argument, label: 'an argument has only letters, digits, `+`, `.`, `_` and `-`' };
    if (!argument.text.startsWith('+')) return { message: `argument ${pyRepr(argument.text)} does not start with +`, at: argument, label: 'the second column is the argument: `*` or `+ARG`' };
    if (any) return { message: 'only * argument allowed for * service', at: argument, label: 'a rule for every service (`*`) takes every argument (`*`)' };
  }
  return { service: service.text, argument: argument.text };
}

/** `get_invalid_characters`: the characters outside `RPCNAME_ALLOWED_CHARSET` (and `+` for a service), sorted as Python sorts them. */
function invalidChars(s: string, noPlus: boolean): string[] {
  const bad: string[] = [];
  for (const ch of s) if (!RPCNAME_CHARS.test(ch) || (noPlus && ch === '+')) bad.push(ch);
  return sortedChars(bad);
}

/** Qubes formats tokens in its messages with `repr()`: the token model quotes them plainly; quote them as Python does. */
function reworded(problem: string, text: string): string {
  const plain = `'${text}'`;
  return problem.endsWith(plain) ? problem.slice(0, -plain.length) + pyRepr(text) : problem;
}

function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPythonSpace(s.charCodeAt(a))) a++;
  while (b > a && isPythonSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

function tok(src: SourceFile, lineStart: number, w: Word): Tok {
  return { text: w.text, span: src.span(lineStart + w.start, lineStart + w.end) };
}

function join(dir: string, name: string): string {
  return dir === '' || dir === '.' ? name : dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

function rejected(message: string, at: Span, label: string, last: boolean): Diagnostic {
  return diag('QP6001', at, { message }, {
    label,
    help: 'fix or remove this line: while one file of the policy has such a line, Qubes refuses the whole policy and dom0 denies every qrexec call on the machine',
    notes: last ? ['dom0 stops at the first such line; lint shows at most 20 per file'] : [],
  });
}

function outside(dom0: string, at: Span): Diagnostic {
  return diag('QP6004', at, { kind: 'outside', path: dom0 }, {
    notes: ['lint reads the files of the policy directory given, standing for /etc/qubes/policy.d; the rules of this file are not known to it, so the analysis is of the other files only'],
  });
}

/** Two rules equal as Qubes reads them (columns, action and parameters; not where they are). */
function sameRule(a: QrexecRule, b: QrexecRule): boolean {
  return a.service === b.service && a.argument === b.argument && a.source === b.source && a.target === b.target && a.action === b.action && a.redirect === b.redirect && a.defaultTarget === b.defaultTarget && a.user === b.user && (a.notify ?? a.action === 'deny') === (b.notify ?? b.action === 'deny') && (a.autostart ?? true) === (b.autostart ?? true);
}

/**
 * Reads native policy files: each DIR as dom0 reads `/etc/qubes/policy.d`,
 * each FILE in the order given. Never throws: what cannot be read is a
 * diagnostic, and the rest is read.
 */
export function readNativePolicy(paths: readonly string[], host: NativeHost, release: QubesRelease, opts: NativeReadOptions = {}): NativeReadResult {
  const loader = new Loader(host, release);
  for (const p of paths) loader.top(p);
  let rules: QrexecRule[] = loader.rules;
  if (opts.stock !== undefined && opts.stock.size > 0) rules = markStock(rules, loader.tops, opts.stock);
  const read = [...loader.sources.keys()];
  const diagnostics = loader.diagnostics.filter((d) => {
    const dir = loader.skippedDirs.get(d);
    return dir === undefined || !read.some((f) => f.startsWith(`${dir}/`));
  });
  return { rules, sources: loader.sources, files: loader.files, diagnostics, rejections: loader.rejections };
}

/**
 * Marks as stock the rules of every top-level file whose name and rules
 * (includes spliced in) equal a stock file of the release; `tops` names
 * each rule's top-level file.
 */
function markStock(rules: readonly QrexecRule[], tops: readonly string[], stock: ReadonlyMap<string, readonly QrexecRule[]>): QrexecRule[] {
  const groups: { top: string; rules: QrexecRule[] }[] = [];
  let current: { top: string; rules: QrexecRule[] } | undefined;
  rules.forEach((r, i) => {
    const top = tops[i]!;
    if (current === undefined || current.top !== top) groups.push((current = { top, rules: [] }));
    current.rules.push(r);
  });
  return groups.flatMap((g) => {
    const model = stock.get(g.top);
    const same = model !== undefined && model.length === g.rules.length && model.every((m, i) => sameRule(m, g.rules[i]!));
    return same ? g.rules.map((r) => ({ ...r, origin: { ...r.origin, stock: true } })) : g.rules;
  });
}
