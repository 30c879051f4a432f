import { statSync } from 'node:fs';
import os from 'node:os';

import type { DebugAnswer, DebugRequest } from '@supervise/worker-sdk/protocol';

import { SuperviseError } from '../../errors.js';
import type { Supervisor } from '../../master/supervisor.js';
import type { WorkerProcess } from '../../worker/worker-process.js';
import type { DebugFileReply, InspectReply } from '../reply.js';
import type { RequestOf } from '../api.js';

/**
 * The control socket's commands for one worker (inspect, heap-snapshot, report): find it by pid or slot, ask it
 * over IPC (the SDK's debug.ts acts in the worker's own process), answer with what it did. No restart.
 */

/** A heap snapshot stops the worker's event loop for as long as it takes to write: a large heap takes a while. */
const HEAP_SNAPSHOT_TIMEOUT_MS = 300_000;
const DEBUG_TIMEOUT_MS = 30_000;

/** The worker with this pid, else the serving (or starting) worker of this slot. */
export function findWorker(supervisor: Supervisor, target: number): WorkerProcess {
  const live = supervisor.liveWorkers().filter((w) => w.state !== 'exited');
  const byPid = live.find((w) => w.pid === target);
  if (byPid) return byPid;
  const inSlot = live.filter((w) => w.slot === target && (w.state === 'ready' || w.state === 'starting'));
  const found = inSlot.find((w) => w.state === 'ready') ?? inSlot[0];
  if (found) return found;
  const known = live.map((w) => `${w.pid} (slot ${w.slot})`).join(', ') || 'none';
  throw new SuperviseError('ERR_NO_WORKER', `no live worker has pid or slot ${target}; workers: ${known}`);
}

async function ask(
  supervisor: Supervisor,
  worker: WorkerProcess,
  request: DebugRequest,
): Promise<DebugAnswer & { ok: true }> {
  const timeout = request.action === 'heap-snapshot' ? HEAP_SNAPSHOT_TIMEOUT_MS : DEBUG_TIMEOUT_MS;
  const answer = await worker.debug(request, timeout);
  if (!answer.ok) {
    const cmd = request.action === 'inspect-close' ? 'inspect' : request.action;
    throw new SuperviseError('ERR_CONTROL', `${cmd}: worker ${worker.pid} (slot ${worker.slot}): ${answer.error}`);
  }
  supervisor.log.info(
    {
      event: 'worker.debug',
      action: request.action,
      pid: worker.pid,
      slot: worker.slot,
      url: answer.url,
      path: answer.path,
    },
    `worker ${worker.pid} (slot ${worker.slot}): ${request.action}${answer.url ? ` on ${answer.url}` : ''}${answer.path ? `: ${answer.path}` : ''}`,
  );
  return answer;
}

export async function inspectWorker(supervisor: Supervisor, request: RequestOf<'inspect'>): Promise<InspectReply> {
  const worker = findWorker(supervisor, request.target);
  const answer = await ask(
    supervisor,
    worker,
    request.close === true ? { action: 'inspect-close' } : { action: 'inspect', port: request.port ?? 0 },
  );
  return { ok: true, pid: worker.pid, slot: worker.slot, url: answer.url ?? null };
}

/** heap-snapshot and report: the file goes into `dir`, else the system's temporary directory. */
export async function debugFile(
  supervisor: Supervisor,
  request: RequestOf<'heap-snapshot'> | RequestOf<'report'>,
): Promise<DebugFileReply> {
  const worker = findWorker(supervisor, request.target);
  const dir = request.dir ?? os.tmpdir();
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new SuperviseError('ERR_USAGE', `${request.cmd}: ${dir} is not a directory`);
  const answer = await ask(supervisor, worker, { action: request.cmd, dir });
  return { ok: true, pid: worker.pid, slot: worker.slot, path: answer.path ?? '' };
}
