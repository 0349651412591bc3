/**
 * Tests that need a real tool (tor, shellcheck, xmllint, a C compiler,
 * libvirt's schemas, neovim …). Where a tool is missing, the test is skipped
 * with a loud SKIPPED line on a developer machine and fails under `CI=true`,
 * where `.ci/run` installs every tool (DESIGN §7).
 */
import test, { type ImplementationFn } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** A program on PATH, or an absolute file that must exist. */
export function haveTool(tool: string): boolean {
  if (path.isAbsolute(tool)) return existsSync(tool);
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && existsSync(path.join(dir, tool)));
}

/** The tools of the list that are missing. */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => !haveTool(t));
}

/**
 * Registers `fn` as a test that needs `tools`: run when they are all present;
 * otherwise skipped loudly, or failed under `CI=true`.
 */
export function toolTest(title: string, tools: readonly string[], fn: ImplementationFn<[]>): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    test(title, fn);
    return;
  }
  const what = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') {
    test(title, (t) => t.fail(`${what}, which .ci/run installs: the tool is missing under CI`));
    return;
  }
  process.stderr.write(`SKIPPED: ${title} (${what}; install it to run this check)\n`);
  test.skip(title, fn);
}

/** Runs a program and returns its exit status and output. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}
