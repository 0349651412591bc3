/**
 * `qpc fmt` on random valid programs: every statement and item form of the
 * grammar, laid out at random (spaces and tabs, `;`, blank lines, CRLF, braces
 * on one line), with comments on lines of their own, at ends of lines and
 * inside braces. Formatting keeps the meaning and the comments, and is stable,
 * and end-of-line comments on consecutive lines are aligned.
 */
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { format } from '../../compiler/syntax/print.js';
import { commentTexts, parseValid, stripLayout } from '../helpers/ast.js';

type Arb = fc.Arbitrary<string>;

const RUNS = { numRuns: 300 };

// ---------------------------------------------------------------- tokens

/** Words the grammar treats as keywords somewhere; names avoid them so every generated text is valid. */
const KEYWORDS = new Set(['in', 'max', 'via', 'none', 'on', 'off', 'from', 'to', 'because', 'socks', 'isolate']);

const name: Arb = fc
  .oneof(
    fc.constantFrom('work', 'vault', 'anon-chat', 'sys-firewall', 'sys-whonix', 'debian-12-xfce', 'whonix-workstation-18', 'isolated'),
    fc.stringMatching(/^[a-z][a-z0-9._-]{0,9}$/),
  )
  .filter((n) => !KEYWORDS.has(n));

const int: Arb = fc.oneof(fc.nat({ max: 70000 }).map(String), fc.constantFrom('0400', '007'));

/** A string literal as written: escapes where required, a tab raw or escaped. */
const stringLit: Arb = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'Z', ' ', '#', '{', '}', ';', "'", 'é', '\u202e'),
      fc.constantFrom('"', '\\', '\n', '\t').map((c) => ({ '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t' })[c]!),
      fc.constant('\t'),
    ),
    { maxLength: 8 },
  )
  .map((parts) => '"' + parts.join('') + '"');

const endpoint: Arb = fc.oneof(
  name,
  fc.constantFrom('@anyvm', '@adminvm', '@default', '@dispvm', '@type:AppVM'),
  name.map((n) => `@dispvm:${n}`),
  name.map((n) => `@tag:${n}`),
);

const service: Arb = fc.oneof(fc.constantFrom('qubes.Filecopy', 'qubes.OpenURL', 'qubes.ConnectTCP', '*'), fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9._-]{0,9}$/));
const argument: Arb = fc.stringMatching(/^\+[a-zA-Z0-9._:@+-]{0,6}$/);
const action: Arb = fc.constantFrom('allow', 'ask', 'deny');

// ---------------------------------------------------------------- layout

const space: Arb = fc.constantFrom(' ', '  ', '\t', ' \t ');
const maybeSpace: Arb = fc.oneof(fc.constant(''), space);
const newline: Arb = fc.constantFrom('\n', '\n', '\r\n');
const commentBody: Arb = fc.stringMatching(/^[ -~\t]{0,12}$/);
const comment: Arb = fc.tuple(maybeSpace, commentBody).map(([s, b]) => `${s}#${b}`);

/** Words separated by random spaces; empty words (absent options) are dropped. */
function words(...parts: Arb[]): Arb {
  return fc
    .tuple(fc.tuple(...parts), fc.array(space, { minLength: parts.length, maxLength: parts.length }))
    .map(([ws, ss]) => ws.filter((w) => w !== '').reduce((acc, w, i) => (i === 0 ? w : acc + ss[i] + w), ''));
}

const opt = (a: Arb): Arb => fc.option(a, { nil: '' });
const lit = (s: string): Arb => fc.constant(s);

/** What may come between two statements or items: blank lines, `;`, comments on lines of their own. */
const gap: Arb = fc
  .array(fc.oneof(newline, newline.map((n) => n + n), space, fc.constant(';'), fc.tuple(comment, newline).map(([c, n]) => c + n)), { maxLength: 4 })
  .map((ps) => ps.join(''));

/** How a statement or item ends: `;`, a line break, a comment, or nothing before `}` or the end of the file. */
const end = fc.oneof(
  fc.tuple(maybeSpace, fc.constant(';')).map(([s, e]) => s + e),
  fc.tuple(maybeSpace, newline).map(([s, e]) => s + e),
  fc.tuple(comment, newline).map(([c, n]) => c + n),
  fc.constant(null),
);

/**
 * Elements with random gaps and ends. `closed` tells whether a `}` follows
 * (else the end of the file, where a last comment may lack its line break).
 */
function sequence(element: Arb, min: number, max: number, closed: boolean): Arb {
  return fc
    .tuple(fc.array(fc.tuple(gap, element, end), { minLength: min, maxLength: max }), gap, fc.option(comment, { nil: undefined }))
    .map(([elements, last, lastComment]) => {
      let out = '';
      let bare = false;
      elements.forEach(([g, e, en], i) => {
        bare = en === null && i === elements.length - 1;
        out += g + e + (en ?? '\n');
      });
      if (bare) return out;
      // Only the end of the file may close a comment that has no line break.
      return out + last + (closed ? '' : (lastComment ?? ''));
    });
}

function block(element: Arb, min: number, max: number): Arb {
  return fc.tuple(maybeSpace, sequence(element, min, max, true)).map(([s, body]) => `${s}{${body}}`);
}

// ---------------------------------------------------------------- items and statements

const isolateFlags: Arb = fc
  .array(fc.oneof(fc.constantFrom('dest-addr', 'dest-port', 'client-protocol'), name), { minLength: 1, maxLength: 3 })
  .chain((fs) => words(lit('isolate'), ...fs.map(lit)));

const socks: Arb = fc.oneof(
  words(lit('socks'), lit('dedicated'), opt(isolateFlags)),
  words(lit('socks'), lit('port'), int),
  words(lit('socks'), lit('auth')),
  words(lit('socks'), lit('none')),
);

const item: Arb = fc.oneof(
  words(fc.constantFrom('template', 'netvm', 'default-disposable', 'disposable'), fc.oneof(name, lit('none'))),
  words(fc.constantFrom('label', 'virt-mode', 'isolation', 'whonix', 'tag'), name),
  words(lit('memory'), int, opt(words(lit('max'), int))),
  words(lit('vcpus'), int),
  words(fc.constantFrom('kernel', 'kernelopts'), fc.oneof(stringLit, lit('none'))),
  words(lit('device'), fc.constantFrom('pci', 'usb', 'block', 'mic'), opt(stringLit), opt(lit('no-strict-reset'))),
  words(lit('feature'), name, stringLit),
  words(lit('service'), name, opt(fc.constantFrom('on', 'off'))),
  fc.constantFrom('autostart', 'tor', 'uplink'),
  words(lit('network'), fc.oneof(words(fc.constantFrom('clearnet', 'tor'), lit('via'), name), lit('none'))),
  fc.tuple(words(lit('app'), name), opt(block(socks, 1, 1))).map(([a, b]) => a + b),
  words(
    lit('listener'),
    fc.constantFrom('socks', 'control', 'trans'),
    fc.oneof(int, fc.tuple(int, int).map(([a, b]) => `${a}..${b}`)),
    fc.array(name, { maxLength: 2 }).map((os) => os.join(' ')),
    opt(isolateFlags),
  ),
);

const ruleParam: Arb = fc.oneof(
  words(fc.constantFrom('target', 'default'), endpoint),
  words(lit('user'), name),
  fc.constantFrom('notify', 'no-notify', 'no-autostart'),
  words(lit('because'), stringLit),
);

const rule: Arb = fc
  .tuple(action, service, fc.option(fc.tuple(maybeSpace, argument), { nil: undefined }), words(lit('from'), endpoint, lit('to'), endpoint), fc.array(ruleParam, { maxLength: 3 }), space)
  .map(([a, s, arg, ends, ps, sp]) => [a + sp + s + (arg ? arg.join('') : ''), ends, ...ps].join(sp));

const expectParam: Arb = fc.oneof(
  fc
    .tuple(fc.constantFrom('target', 'targets', 'default'), fc.array(fc.tuple(endpoint, maybeSpace, maybeSpace), { minLength: 1, maxLength: 3 }))
    .map(([k, es]) => `${k} ` + es.map(([e, a, b], i) => (i === 0 ? e : `${a},${b}${e}`)).join('')),
  words(lit('user'), name),
);

const expectation: Arb = fc
  .tuple(service, opt(fc.tuple(maybeSpace, argument).map((p) => p.join(''))), endpoint, endpoint, maybeSpace, space, action, fc.array(expectParam, { maxLength: 2 }))
  .map(([s, arg, from, to, before, after, d, ps]) => [`expect ${s}${arg} from ${from} to ${to}${before}:${after}${d}`, ...ps].join(' '));

const release: Arb = fc.constantFrom('4.2', '4.3');

const setting: Arb = fc.oneof(
  words(fc.constantFrom('qubes', 'whonix'), fc.constantFrom('4.2', '4.3', '18', '17')),
  words(fc.constantFrom('policy-file', 'default-disposable'), name),
  words(lit('kernel'), fc.oneof(stringLit, lit('none'))),
);

const declaration: Arb = fc
  .tuple(
    fc.oneof(
      words(fc.constantFrom('adminvm', 'template', 'gateway', 'identity', 'amend'), name),
      words(fc.constantFrom('qube', 'disposable', 'named-disposable', 'standalone'), name, lit('in'), name),
    ),
    fc.option(block(item, 0, 5), { nil: '' }),
  )
  .map(([head, b]) => head + b);

const statement: Arb = fc.oneof(
  words(lit('use'), stringLit),
  block(setting, 0, 3).map((b) => 'settings' + b),
  declaration,
  declaration,
  rule,
  rule,
  fc.tuple(words(lit('policy-file'), name, opt(words(lit('stock'), opt(words(lit('sha256'), stringLit)))), opt(words(lit('for'), release, opt(release)))), block(rule, 0, 3)).map(([h, b]) => h + b),
  words(lit('require'), name, fc.constantFrom('isolated-from', 'never-reaches'), name),
  expectation,
  words(lit('waive'), fc.stringMatching(/^QP[0-9]{4}$/), lit('on'), name, lit('because'), stringLit),
);

const program: Arb = sequence(statement, 0, 8, false);

// ---------------------------------------------------------------- properties

test('the generator makes valid programs', (t) => {
  fc.assert(
    fc.property(program, (text) => {
      parseValid(text);
    }),
    RUNS,
  );
  t.pass();
});

test('formatting keeps the meaning and the comments', (t) => {
  fc.assert(
    fc.property(program, (text) => {
      const before = parseValid(text);
      const out = format(before, text);
      const after = parseValid(out);
      deepStrictEqual(stripLayout(after.statements), stripLayout(before.statements));
      deepStrictEqual(commentTexts(after), commentTexts(before));
    }),
    RUNS,
  );
  t.pass();
});

test('formatting is idempotent', (t) => {
  fc.assert(
    fc.property(program, (text) => {
      const out = format(parseValid(text), text);
      strictEqual(format(parseValid(out), out), out);
    }),
    RUNS,
  );
  t.pass();
});

test('the output is in canonical layout', (t) => {
  fc.assert(
    fc.property(program, (text) => {
      const out = format(parseValid(text), text);
      if (out === '') return;
      strictEqual(out.includes('\r'), false, 'LF only');
      strictEqual(/[ \t]$/m.test(out), false, 'no trailing blanks');
      strictEqual(out.endsWith('\n') && !out.endsWith('\n\n'), true, 'one final newline');
      strictEqual(out.startsWith('\n'), false, 'no blank line at the start');
      strictEqual(out.includes('\n\n\n'), false, 'at most one blank line');
      const code = out.replace(/"(?:[^"\\]|\\.)*"|#.*$/gm, '');
      strictEqual(/\{ *\n\n|\n\n *\}/.test(code), false, 'no blank line at the start or end of a block');
      strictEqual(code.includes(';'), false, 'no `;` outside strings and comments');
    }),
    RUNS,
  );
  t.pass();
});

/** A line's code and the column of its end-of-line comment's `#`, if it has code and such a comment. */
function splitComment(l: string): { code: string; hash: number } | undefined {
  let inString = false;
  for (let i = 0; i < l.length; i++) {
    const c = l[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '#') {
      const code = l.slice(0, i).trimEnd();
      return code.trim() === '' ? undefined : { code, hash: i };
    }
  }
  return undefined;
}

test('end-of-line comments on consecutive lines are aligned', (t) => {
  fc.assert(
    fc.property(program, (text) => {
      const out = format(parseValid(text), text);
      const indent = (s: string): number => s.length - s.trimStart().length;
      // Runs: consecutive lines with code and a comment at one indentation (so in one block).
      const runs: { code: string; hash: number }[][] = [];
      let prev: string | undefined;
      for (const l of out.split('\n')) {
        const line = splitComment(l);
        if (!line) runs.push([]);
        else if (prev !== undefined && runs.at(-1)!.length > 0 && indent(prev) === indent(l)) runs.at(-1)!.push(line);
        else runs.push([line]);
        prev = l;
      }
      for (const run of runs) {
        // The greedy split: a part ends before the line that would make its widths differ by more than 40.
        let part: { code: string; hash: number }[] = [];
        const check = (): void => {
          const widths = part.map((p) => p.code.length);
          for (const p of part) strictEqual(p.hash, Math.max(...widths) + 2, `aligned: ${JSON.stringify(part)}`);
        };
        for (const line of run) {
          const widths = [...part, line].map((p) => p.code.length);
          if (part.length > 0 && Math.max(...widths) - Math.min(...widths) > 40) {
            check();
            part = [];
          }
          part.push(line);
        }
        if (part.length > 0) check();
      }
    }),
    RUNS,
  );
  t.pass();
});
