import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { expect } from 'vitest';

import { type CliRun, freePort, runCli, type Supervised, supervise, tempDir, trackPid, waitGone } from './supervise.js';

/** A master started the way a deploy starts one: in its own release directory, found from there by the CLI. */
export interface MasterInDir {
  dir: string;
  port: number;
  /** PORT, and XDG_RUNTIME_DIR inside `dir`: the master's control socket is this test's alone. */
  env: Record<string, string>;
  s: Supervised;
  /** `supervise <args>` run in `dir`, as a user would type it there. */
  ctl(args: string[]): Promise<CliRun>;
}

/**
 * Writes `files` (name -> content: the app, its config file) into a fresh directory and starts `supervise <args>`
 * there. Does not wait for readiness: a test of a master that must fail to start awaits its exit instead.
 */
export async function masterInDir(
  prefix: string,
  args: string[],
  { files = {}, env: extra = {} }: { files?: Record<string, string>; env?: Record<string, string> } = {},
): Promise<MasterInDir> {
  const dir = tempDir(prefix);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const port = await freePort();
  const env = { PORT: String(port), XDG_RUNTIME_DIR: path.join(dir, 'run'), ...extra };
  const s = supervise(args, { cwd: dir, env });
  return { dir, port, env, s, ctl: (a) => runCli(a, { cwd: dir, env }) };
}

/** The pids an upgrade replaces, as `supervise status --json` gives them. */
export interface MasterPids {
  master: { pid: number };
  workers: { pid: number }[];
}

/**
 * `supervise upgrade <args>`, which must succeed: the new master's pid, tracked for killAll() (it is no child of
 * the test), once the old master and every one of its workers have exited (within `goneMs`).
 */
export async function upgradeDone(
  ctl: (args: string[]) => Promise<CliRun>,
  before: MasterPids,
  { args = [], goneMs }: { args?: string[]; goneMs: number },
): Promise<{ run: CliRun; to: number }> {
  const run = await ctl(['upgrade', ...args]);
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
  const to = Number(/master (\d+) \(node/.exec(run.stdout)?.[1]);
  trackPid(to);
  expect(to).not.toBe(before.master.pid);
  await waitGone([before.master.pid, ...before.workers.map((w) => w.pid)], goneMs);
  return { run, to };
}
