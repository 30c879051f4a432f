import cluster, { type Worker } from 'node:cluster';
import { accessSync, constants, statSync } from 'node:fs';

import { WorkerFailure } from './state.js';

/**
 * The fork itself, apart from the worker's life: a spawn that fails (the working directory is gone, the node
 * binary was removed by a package upgrade, EAGAIN) leaves node:cluster's worker without a pid and emits its
 * error a tick later. Such a worker never existed: it is a boot failure with its cause in one line, and no
 * WorkerProcess (whose pid is always a real one) is made for it.
 */
export async function forkWorker(env: Record<string, string>, cwd: string): Promise<Worker> {
  let worker: Worker;
  try {
    worker = cluster.fork(env);
  } catch (err) {
    // node throws at once for the errors it does not call run-time ones (an invalid argument, ENOMEM...).
    throw spawnFailure((err as NodeJS.ErrnoException).code, cwd);
  }
  if (worker.process.pid !== undefined) return worker;
  // ENOENT, EACCES, EAGAIN, EMFILE, ENFILE: node emits them on the next tick; the errno says which.
  const code = await new Promise<string | undefined>((resolve) => {
    worker.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    setImmediate(() => resolve(undefined));
  });
  worker.on('error', () => {});
  throw spawnFailure(code, cwd);
}

function problemWith(file: string, dir: boolean, mode: number): 'missing' | 'denied' | null {
  try {
    const st = statSync(file);
    if (dir !== st.isDirectory()) return 'missing';
    accessSync(file, mode);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : 'missing';
  }
}

/**
 * The one line that says why a worker could not be started. ENOENT from a spawn names the binary even when it is
 * the working directory that is missing, so both are looked at.
 */
export function spawnFailure(code: string | undefined, cwd: string, execPath = process.execPath): WorkerFailure {
  const dir = problemWith(cwd, true, constants.X_OK);
  const bin = problemWith(execPath, false, constants.X_OK);
  let why: string;
  if (dir === 'missing') why = `working directory ${cwd} does not exist`;
  else if (dir === 'denied') why = `working directory ${cwd} is not accessible`;
  else if (bin === 'missing') why = `node binary ${execPath} not found`;
  else if (bin === 'denied') why = `node binary ${execPath} is not executable`;
  else if (code === 'EAGAIN') why = 'the system refused a new process (EAGAIN: a process limit was reached)';
  else if (code === 'EMFILE' || code === 'ENFILE') why = `no file descriptors left to start a process (${code})`;
  else why = `spawn failed${code ? ` (${code})` : ''}`;
  return new WorkerFailure('spawn', `cannot start worker: ${why}`, []);
}
