/**
 * Colour follows `--color`, then FORCE_COLOR, then NO_COLOR and
 * NODE_DISABLE_COLORS, then TERM=dumb, then whether stderr is a terminal.
 */
import test from 'ava';
import { useColor } from '../../../../compiler/cli/color.js';
import { processIo } from '../../../../compiler/cli/main.js';
import { overlayHost, nodeHost } from '../../../../compiler/host.js';
import { runQpc } from '../../../helpers/cli.js';

const host = overlayHost(new Map([['bad.qpol', 'use "qubes"\ntemplate deb\ngateway sys-vpn { template deb; netvm sys-firewal }\n']]), nodeHost);
const coloured = (argv: string[], env: Record<string, string>, isTTY: boolean): boolean => runQpc(['check', ...argv, 'bad.qpol'], { host, env, isTTY }).stderr.includes('\u001b[');

test('the order of precedence', (t) => {
  const cases: [Parameters<typeof useColor>[0], Record<string, string>, boolean, boolean][] = [
    ['auto', {}, true, true],
    ['auto', {}, false, false],
    ['always', { NO_COLOR: '1', TERM: 'dumb' }, false, true],
    ['never', { FORCE_COLOR: '1' }, true, false],
    ['auto', { FORCE_COLOR: '1' }, false, true],
    ['auto', { FORCE_COLOR: '3', NO_COLOR: '1', TERM: 'dumb' }, false, true],
    ['auto', { FORCE_COLOR: '0' }, true, false],
    // An empty FORCE_COLOR is not set.
    ['auto', { FORCE_COLOR: '' }, false, false],
    ['auto', { FORCE_COLOR: '' }, true, true],
    ['auto', { NO_COLOR: '1' }, true, false],
    // An empty NO_COLOR is not set (no-color.org).
    ['auto', { NO_COLOR: '' }, true, true],
    ['auto', { NODE_DISABLE_COLORS: '1' }, true, false],
    ['auto', { TERM: 'dumb' }, true, false],
    ['auto', { TERM: 'xterm-256color' }, true, true],
  ];
  for (const [mode, env, tty, want] of cases) t.is(useColor(mode, env, tty), want, `${mode} ${JSON.stringify(env)} tty=${tty}`);
});

test('the command line reads the environment from CliIo', (t) => {
  t.true(coloured([], {}, true));
  t.false(coloured([], { NO_COLOR: '1' }, true));
  t.false(coloured([], { TERM: 'dumb' }, true));
  t.true(coloured([], { FORCE_COLOR: '1' }, false));
  t.false(coloured([], { FORCE_COLOR: '0' }, true));
  t.true(coloured(['--color', 'always'], { FORCE_COLOR: '0' }, false));
  t.false(coloured(['--color=never'], { FORCE_COLOR: '1' }, true));
  // Only human output is coloured.
  t.false(coloured(['--error-format', 'plain'], { FORCE_COLOR: '1' }, true));
});

test('the real process passes its environment and whether stderr is a terminal, unfiltered', (t) => {
  const io = processIo();
  t.is(io.env, process.env);
  t.is(io.isTTY, Boolean(process.stderr.isTTY));
});
