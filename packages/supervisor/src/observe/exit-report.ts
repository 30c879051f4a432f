import { DRAIN_KIND_NAMES, DRAIN_KINDS, type DrainKindCounts } from '@supervise/worker-sdk/protocol';

import type { Logger } from './logger.js';
import { plural } from './text.js';
import type { ExitInfo } from '../worker/worker-process.js';

/** The log line of a worker's exit: how it left, and what its drain reported. */
export function exitReport(
  w: { pid: number; slot: number; id: number; generation: number; timedOut: boolean },
  info: ExitInfo,
  killTimeoutMs: number,
): { level: 'info' | 'warn'; fields: Record<string, unknown>; message: string } {
  const fields = {
    event: 'worker.exit',
    slot: w.slot,
    pid: w.pid,
    worker: w.id,
    generation: w.generation,
    code: info.code,
    signal: info.signal,
    intended: info.intended,
    killed: info.killed,
    ...(info.died ? { died: true, reason: info.reason } : {}),
    ...(info.stats ? { drain: info.stats } : {}),
  };
  return { fields, ...exitLine(w, info, killTimeoutMs) };
}

function exitLine(
  w: { pid: number; timedOut: boolean },
  info: ExitInfo,
  killTimeoutMs: number,
): { level: 'info' | 'warn'; message: string } {
  const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`;
  if (info.killed) {
    return {
      level: 'warn',
      message: w.timedOut
        ? `worker ${w.pid} killed after ${killTimeoutMs} ms: it did not exit in time`
        : `worker ${w.pid} killed (SIGKILL)`,
    };
  }
  if (info.died) {
    return {
      level: 'warn',
      message: `worker ${w.pid} died during its drain (${info.reason ?? 'stop'}): it ${info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`}`,
    };
  }
  const stats = info.stats;
  if (stats) {
    const forcedNote = stats.forced > 0 ? describeForced(stats.forcedKinds) : '';
    return {
      level: 'info',
      message:
        `worker ${w.pid} drained in ${stats.durationMs} ms (${plural(stats.requestsCompleted, 'request')} completed, ` +
        `${plural(stats.finished + stats.closedIdle + stats.closedLongLived, 'connection')} closed${forcedNote}) and exited with ${how}`,
    };
  }
  return { level: info.intended ? 'info' : 'warn', message: `worker ${w.pid} exited with ${how}` };
}

export function describeForced(kinds: DrainKindCounts): string {
  const forced = DRAIN_KIND_NAMES.filter((k) => kinds[k] > 0);
  const parts = forced.map((k) => `${kinds[k]} ${DRAIN_KINDS[k].label}`);
  // The engine closes WebSockets, event streams and HTTP/2 sessions itself; a raw protocol only the app knows.
  const hint = forced.some((k) => DRAIN_KINDS[k].appCloses)
    ? '; close raw protocol connections in an onDrain hook (worker SDK)'
    : '';
  return `, forced at the deadline: ${parts.join(', ')}${hint}`;
}

/** A serving worker that exited without being asked to. */
export function logCrash(
  log: Logger,
  w: { pid: number; slot: number; lastLines: string[] },
  info: ExitInfo,
  uptimeMs: number,
): void {
  const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`;
  log.error(
    {
      event: 'worker.crash',
      slot: w.slot,
      pid: w.pid,
      code: info.code,
      signal: info.signal,
      uptimeMs,
      lastLines: w.lastLines,
    },
    `worker ${w.pid} (slot ${w.slot}) crashed with ${how} after ${uptimeMs} ms`,
  );
}
