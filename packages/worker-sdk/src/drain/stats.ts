import { DRAIN_KINDS, zeroCounts } from '../drain-kinds.js';
import type { DrainStats } from '../protocol.js';
import type { Connection } from './connections.js';

export function emptyStats(): DrainStats {
  return {
    finished: 0,
    closedIdle: 0,
    closedLongLived: 0,
    forced: 0,
    forcedKinds: zeroCounts(),
    requestsCompleted: 0,
    hookFailures: 0,
    durationMs: 0,
    timedOut: false,
  };
}

/** Counts a connection that closed during the drain, by why it closed. */
export function countClosed(stats: DrainStats, conn: Connection, waitingIdle: boolean): void {
  switch (conn.cause) {
    case 'idle':
      stats.closedIdle++;
      break;
    case 'long-lived':
      stats.closedLongLived++;
      break;
    case 'forced':
      break;
    default:
      if (DRAIN_KINDS[conn.kind].longLived || conn.upgraded) stats.closedLongLived++;
      // Closed while the idle rule waited for it: node's own keep-alive timer, or the client, closed it idle.
      else if (waitingIdle) stats.closedIdle++;
      else stats.finished++;
  }
}
