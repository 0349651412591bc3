/**
 * The canonical layout of `qpc fmt` (DESIGN §3, §6): one statement or item per
 * line, blocks indented two spaces, single spaces between words, runs of rules
 * aligned in columns, runs of end-of-line comments aligned in one column, every
 * comment kept, blank lines kept but collapsed to one.
 * Pure: builds a string from the tree and the text it was parsed from.
 */
import type * as A from './ast.js';

/** A node printed on lines of its own: a statement, an item, a setting or a rule in a `policy-file` block. */
type Child = A.Statement | A.Item | A.Setting;

/** Column widths of a run of consecutive rules. */
interface Columns {
  readonly service: number;
  readonly source: number;
}

/** An output line: its code, the comment at its end, and the block it belongs to. */
interface Line {
  readonly code: string;
  comment?: string;
  /** The block (file or `{ }` body) whose sequence printed the line; a block's head and `}` belong to the enclosing one. */
  readonly level: number;
}

const INDENT = '  ';

/** The greatest difference in code width between two lines whose end-of-line comments share a column. */
const MAX_SPREAD = 40;

/** The width of the action column of aligned rules (`allow`). */
const ACTION_WIDTH = 5;

/** A blank line between two elements; a line holding only `;` counts as blank. */
const BLANK = /\n[ \t\r;]*\n/;

/**
 * Formats a parsed file in the canonical layout. `text` is the source `file`
 * was parsed from: blank lines and the placement of comments are read from it.
 * The result parses to the same tree (modulo spans, and braces around an empty
 * declaration) with the same comments, and formatting it again changes nothing.
 */
export function format(file: A.PolicyFile, text: string): string {
  const printer = new Printer(file.comments, text);
  printer.sequence(file.statements, '', text.length);
  return printer.finish();
}

/** Writes lines, taking comments from one sorted queue as the walk passes them. */
class Printer {
  private readonly lines: Line[] = [];
  private readonly comments: readonly A.Comment[];
  /** The queue position: comments before it have been taken. */
  private next = 0;
  /** How many comments were written, to catch one taken and lost. */
  private written = 0;
  /** The block being printed, and how many blocks were opened. */
  private level = 0;
  private levels = 0;

  constructor(
    comments: readonly A.Comment[],
    private readonly text: string,
  ) {
    // Keyed by offset: a comment is collected once however the parser got there.
    this.comments = [...new Map(comments.map((c) => [c.span.start, c])).values()].sort((a, b) => a.span.start - b.span.start);
  }

  finish(): string {
    if (this.written !== this.comments.length) throw new Error(`format: wrote ${this.written} of ${this.comments.length} comments`);
    return this.lines.length === 0 ? '' : alignComments(this.lines).join('\n') + '\n';
  }

  /**
   * Prints the children of a file or block. Comments that start before `close`
   * (the offset of the block's `}`, or the end of the file) and are not on a
   * child's line go on lines of their own at this indentation.
   */
  sequence(children: readonly Child[], indent: string, close: number): void {
    const outer = this.level;
    this.level = ++this.levels;
    const columns = ruleColumns(children, this.text);
    let prevEnd: number | undefined;
    children.forEach((child, i) => {
      for (let c = this.peek(child.span.start); c; c = this.peek(child.span.start)) prevEnd = this.ownLine(c, indent, prevEnd);
      this.blank(prevEnd, child.span.start);
      const limit = children[i + 1]?.span.start ?? close;
      prevEnd = this.child(child, indent, columns.get(child), limit);
    });
    for (let c = this.peek(close); c; c = this.peek(close)) prevEnd = this.ownLine(c, indent, prevEnd);
    this.level = outer;
  }

  /** Prints one child and the comment at the end of its line; returns where the child's text ends. */
  private child(child: Child, indent: string, columns: Columns | undefined, limit: number): number {
    switch (child.kind) {
      case 'Declaration':
        if (child.items.length > 0 || this.peek(child.span.end)) {
          return this.block(declarationHead(child), indent, (child.identity ?? child.name).span.end, child, child.items, limit);
        }
        break;
      case 'SettingsBlock':
        return this.block('settings', indent, child.span.start + 'settings'.length, child, child.settings, limit);
      case 'PolicyFileBlock':
        return this.block(policyFileHead(child), indent, (child.releases[child.releases.length - 1] ?? child.sha256 ?? child.name).span.end, child, child.rules, limit);
    }
    // A one-line form can still hold comments (inside an `app`'s braces): they
    // move before the line, and the last one to its end if that is free.
    const inside: A.Comment[] = [];
    for (let c = this.peek(child.span.end); c; c = this.peek(child.span.end)) {
      inside.push(c);
      this.next++;
    }
    const last = this.trailingComment(child.span.end, limit) ? undefined : inside.pop();
    for (const c of inside) this.pushComment(indent + commentText(c));
    this.push(indent + line(child, columns));
    if (last) return this.appendComment(last);
    return this.trailing(child.span.end, limit);
  }

  /**
   * Prints `HEAD {`, the children, `}`. `after` is an offset between the head
   * and the `{`. An empty block without comments prints `HEAD {}` where the
   * braces are required and `HEAD` where they are not.
   */
  private block(head: string, indent: string, after: number, node: Child, children: readonly Child[], limit: number): number {
    const close = node.span.end - 1;
    if (children.length === 0 && !this.peek(close)) {
      this.push(indent + head + (node.kind === 'Declaration' ? '' : ' {}'));
      return this.trailing(node.span.end, limit);
    }
    const open = this.text.indexOf('{', after);
    this.push(`${indent}${head} {`);
    this.trailing(open + 1, children[0]?.span.start ?? close);
    this.sequence(children, indent + INDENT, close);
    this.push(indent + '}');
    return this.trailing(node.span.end, limit);
  }

  /** The next comment, if it starts before `before`. */
  private peek(before: number): A.Comment | undefined {
    const c = this.comments[this.next];
    return c && c.span.start < before ? c : undefined;
  }

  /** The next comment if it sits after `end` on the same line and before `limit`. */
  private trailingComment(end: number, limit: number): A.Comment | undefined {
    const c = this.comments[this.next];
    if (!c || c.span.start < end || c.span.start >= limit) return undefined;
    return this.text.slice(end, c.span.start).includes('\n') ? undefined : c;
  }

  /** Moves the comment at the end of the line ending at `end` to the last printed line; returns where the line's text ends. */
  private trailing(end: number, limit: number): number {
    const c = this.trailingComment(end, limit);
    if (!c) return end;
    this.next++;
    return this.appendComment(c);
  }

  /** Adds a comment, already taken from the queue, to the end of the last printed line. */
  private appendComment(c: A.Comment): number {
    this.written++;
    const last = this.lines[this.lines.length - 1];
    last.comment = last.comment === undefined ? commentText(c) : `${last.comment}  ${commentText(c)}`;
    return c.span.end;
  }

  /** Prints a comment on its own line; returns where it ends. */
  private ownLine(c: A.Comment, indent: string, prevEnd: number | undefined): number {
    this.next++;
    this.blank(prevEnd, c.span.start);
    this.pushComment(indent + commentText(c));
    return c.span.end;
  }

  /** Prints a line holding only a comment. */
  private pushComment(commentLine: string): void {
    this.written++;
    this.push(commentLine);
  }

  /** Prints a line of code (or a comment on its own line) in the current block. */
  private push(code: string): void {
    this.lines.push({ code, level: this.level });
  }

  /** Keeps one blank line where the source has any between two elements of a block. */
  private blank(prevEnd: number | undefined, start: number): void {
    if (prevEnd !== undefined && BLANK.test(this.text.slice(prevEnd, start))) this.push('');
  }
}

/**
 * The text of the lines, end-of-line comments aligned as gofmt does. A run is
 * a maximal sequence of consecutive lines of one block that all end in a
 * comment; a blank line, a line without a comment (a comment on its own line
 * included) or a line of another block ends it. In a run, every `#` starts two
 * spaces after the longest code; a lone comment is two spaces after its code.
 * So that one long line does not push the others far right, a run is split
 * before the first line that would make its longest and shortest code differ
 * by more than MAX_SPREAD columns; the rest of the run is split the same way.
 * Widths depend only on the code, so formatting the output again keeps them.
 */
function alignComments(lines: readonly Line[]): string[] {
  const out = lines.map((l) => l.code);
  const align = (from: number, to: number, width: number): void => {
    for (let k = from; k < to; k++) out[k] = lines[k].code.padEnd(width + 2) + lines[k].comment;
  };
  let i = 0;
  while (i < lines.length) {
    const first = lines[i];
    if (first.comment === undefined) {
      i++;
      continue;
    }
    let start = i;
    let min = first.code.length;
    let max = min;
    let j = i + 1;
    for (; j < lines.length && lines[j].comment !== undefined && lines[j].level === first.level; j++) {
      const w = lines[j].code.length;
      if (Math.max(max, w) - Math.min(min, w) > MAX_SPREAD) {
        align(start, j, max);
        start = j;
        min = max = w;
      } else {
        min = Math.min(min, w);
        max = Math.max(max, w);
      }
    }
    align(start, j, max);
    i = j;
  }
  return out;
}

/** `#` and the comment's text without trailing blanks. */
function commentText(c: A.Comment): string {
  return '#' + c.text.replace(/[ \t\r\f\v]+$/, '');
}

/**
 * Column widths for each rule in a run of two or more consecutive rules, a run
 * being broken by a blank line or another kind of child (comments do not break it).
 */
function ruleColumns(children: readonly Child[], text: string): Map<Child, Columns> {
  const out = new Map<Child, Columns>();
  let run: A.Rule[] = [];
  const flush = (): void => {
    if (run.length > 1) {
      const columns = {
        service: run.reduce((w, r) => Math.max(w, ruleService(r).length), 0),
        source: run.reduce((w, r) => Math.max(w, r.source.text.length), 0),
      };
      for (const r of run) out.set(r, columns);
    }
    run = [];
  };
  let prev: Child | undefined;
  for (const child of children) {
    if (child.kind !== 'Rule' || (prev && BLANK.test(text.slice(prev.span.end, child.span.start)))) flush();
    if (child.kind === 'Rule') run.push(child);
    prev = child;
  }
  flush();
  return out;
}

function policyFileHead(p: A.PolicyFileBlock): string {
  return words(
    'policy-file',
    p.name.text,
    ...(p.stock ? ['stock'] : []),
    ...(p.sha256 ? ['sha256', quote(p.sha256)] : []),
    ...(p.releases.length ? ['for', ...p.releases.map((r) => r.text)] : []),
  );
}

function declarationHead(d: A.Declaration): string {
  return `${d.form} ${d.name.text}` + (d.identity ? ` in ${d.identity.text}` : '');
}

/** The one-line text of a child; for a block, the form it takes without items or comments. */
function line(child: Child, columns: Columns | undefined): string {
  switch (child.kind) {
    case 'UseStatement':
      return `use ${quote(child.path)}`;
    case 'SettingsBlock':
      return 'settings {}';
    case 'Setting':
      return `${child.key.text} ${child.string ? quote(child.string) : child.value.text}`;
    case 'Declaration':
      return declarationHead(child);
    case 'Rule':
      return rule(child, columns);
    case 'PolicyFileBlock':
      return `${policyFileHead(child)} {}`;
    case 'Require':
      return `require ${child.subject.text} ${child.relation} ${child.object.text}`;
    case 'Expect':
      return words(
        'expect',
        child.service.text + (child.argument?.text ?? ''),
        'from',
        child.source.text,
        'to',
        `${child.target.text}:`,
        child.decision,
        ...child.params.map(expectParam),
      );
    case 'Waive':
      return `waive ${child.code.text} on ${child.subject.text} because ${quote(child.reason)}`;
    default:
      return item(child);
  }
}

/** `SERVICE` or `SERVICE +ARG`, the service column of a rule. */
function ruleService(r: A.Rule): string {
  return r.service.text + (r.argument ? ' ' + r.argument.text : '');
}

/** One rule in canonical form; `columns` pads it to align with its neighbours. */
export function rule(r: A.Rule, columns?: Columns): string {
  const params = r.params.map(ruleParam);
  if (!columns) return words(r.action, ruleService(r), 'from', r.source.text, 'to', r.target.text, ...params);
  return words(
    r.action.padEnd(ACTION_WIDTH),
    ruleService(r).padEnd(columns.service),
    'from',
    r.source.text.padEnd(columns.source),
    'to',
    r.target.text,
    ...params,
  );
}

function ruleParam(p: A.RuleParam): string {
  switch (p.kind) {
    case 'EndpointParam':
      return `${p.key} ${p.value.text}`;
    case 'UserParam':
      return `user ${p.value.text}`;
    case 'FlagParam':
      return p.flag;
    case 'BecauseParam':
      return `because ${quote(p.reason)}`;
  }
}

/** One parameter of an `expect` in canonical form. */
export function expectParam(p: A.ExpectParam): string {
  switch (p.kind) {
    case 'ExpectTargets':
      return `${p.key} ${p.values.map((v) => v.text).join(', ')}`;
    case 'UserParam':
      return `user ${p.value.text}`;
  }
}

/** One item of a declaration in canonical form. */
export function item(i: A.Item): string {
  switch (i.kind) {
    case 'RefItem':
      return `${i.key} ${i.target?.text ?? 'none'}`;
    case 'ValueItem':
      return `${i.key} ${i.value.text}`;
    case 'MemoryItem':
      return words('memory', i.memory.text, ...(i.max ? ['max', i.max.text] : []));
    case 'CountItem':
      return `${i.key} ${i.value.text}`;
    case 'StringItem':
      return `${i.key} ${i.value ? quote(i.value) : 'none'}`;
    case 'DeviceItem':
      return words('device', i.deviceClass.text, ...(i.id ? [quote(i.id)] : []), ...i.options.map((w) => w.text));
    case 'FeatureItem':
      return `feature ${i.key.text} ${quote(i.value)}`;
    case 'ServiceItem':
      return words('service', i.service.text, ...(i.state ? [i.state.text] : []));
    case 'FlagItem':
      return i.flag;
    case 'NetworkItem':
      return words('network', i.mode.text, ...(i.via ? ['via', i.via.text] : []));
    case 'AppItem':
      return `app ${i.name.text}` + (i.socks ? ` { ${socks(i.socks)} }` : '');
    case 'ListenerItem':
      return words(
        'listener',
        i.listenerKind.text,
        i.from.text + (i.to ? '..' + i.to.text : ''),
        ...i.options.map((w) => w.text),
        ...(i.isolate.length > 0 ? ['isolate', ...i.isolate.map((w) => w.text)] : []),
      );
  }
}

function socks(s: A.SocksBinding): string {
  switch (s.mode) {
    case 'dedicated':
      return words('socks dedicated', ...(s.isolate.length > 0 ? ['isolate', ...s.isolate.map((w) => w.text)] : []));
    case 'port':
      return `socks port ${s.port?.text ?? ''}`;
    case 'auth':
    case 'none':
      return `socks ${s.mode}`;
  }
}

function words(...parts: readonly string[]): string {
  return parts.join(' ');
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t' };

/** A string literal with the grammar's escapes (`\"`, `\\`, `\n`, `\t`). */
function quote(s: A.StringLit): string {
  return '"' + s.value.replace(/[\\"\n\t]/g, (c) => ESCAPES[c]) + '"';
}
