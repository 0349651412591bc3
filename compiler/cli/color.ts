/**
 * Whether the command line colours its human output, by the conventions
 * Node documents for `tty.WriteStream.prototype.getColorDepth`, in its
 * order: `--color always|never` decides; else `FORCE_COLOR` (non-empty and
 * not `0` forces colour on, `0` off); else `NO_COLOR` (any non-empty value)
 * or `NODE_DISABLE_COLORS` turn it off, as does `TERM=dumb`; else colour
 * only when standard error is a terminal.
 */

export type ColorMode = 'auto' | 'always' | 'never';

/** The environment variables colour depends on (process.env, or a test's). */
export type Environment = Readonly<Record<string, string | undefined>>;

export function useColor(mode: ColorMode, env: Environment, isTTY: boolean): boolean {
  if (mode !== 'auto') return mode === 'always';
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0';
  if ((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.NODE_DISABLE_COLORS !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}
