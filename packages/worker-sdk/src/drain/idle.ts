import { performance } from 'node:perf_hooks';

import { type Connection, idleCloseDelay, idleGraceFor, type IdleRule, isUpgraded } from './connections.js';

/** An idle socket still open this close to the deadline is closed gently (FIN) rather than forced. */
const IDLE_DEADLINE_MARGIN_MS = 1000;

/**
 * The idle rule of one drain: a keep-alive connection with nothing in flight is closed once it has been quiet
 * for its grace (see IdleRule), never later than just before the deadline. A request that arrives after the
 * FIN is never handed to the app (see unanswerable() in marking.ts).
 */
export class IdleCloser {
  constructor(
    private readonly rule: IdleRule,
    private readonly deadlineAt: number,
    private readonly lingerMs: number,
  ) {}

  schedule(conn: Connection): void {
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = null;
    conn.bytesRead = conn.socket.bytesRead;
    const now = performance.now();
    const grace = idleGraceFor(this.rule, conn.server as { keepAliveTimeout?: number });
    // Never past the deadline: what is still idle just before it is closed gently, not forced.
    const delay = Math.min(
      idleCloseDelay(conn.lastActive, now, grace),
      Math.max(0, Math.ceil(this.deadlineAt - IDLE_DEADLINE_MARGIN_MS - now)),
    );
    if (delay === 0) {
      this.closeIdle(conn);
    } else {
      conn.idleTimer = setTimeout(() => this.closeIdle(conn), delay);
      conn.idleTimer.unref();
    }
  }

  /** FIN, not RST: the socket keeps reading, so a request already on the wire meets an orderly close. */
  end(conn: Connection, cause: 'idle' | 'long-lived'): void {
    conn.cause = cause;
    conn.socket.end();
    const linger = setTimeout(() => conn.socket.destroy(), this.lingerMs);
    linger.unref();
  }

  private closeIdle(conn: Connection): void {
    conn.idleTimer = null;
    // Timers run before the poll phase: after this process was busy for a while, a request may be waiting
    // in the socket, unread, while the timer says the socket was quiet. Decide after the poll phase read it.
    setImmediate(() => {
      if (conn.pending.length > 0 || isUpgraded(conn) || conn.socket.destroyed || conn.cause) return;
      if (conn.socket.bytesRead !== conn.bytesRead) {
        // Part of a request arrived (its headers are not complete yet): not idle, start the grace again.
        conn.lastActive = performance.now();
        this.schedule(conn);
        return;
      }
      this.end(conn, 'idle');
    });
  }
}
