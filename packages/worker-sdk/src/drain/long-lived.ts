import { type Connection, isEventStream } from './connections.js';
import { closedByApp, closeWebSocket } from './websocket.js';

/**
 * A server-sent event stream never ends by itself: end it (the final chunk, so the client's EventSource
 * reconnects with Last-Event-ID to a worker that serves), and close its socket once that is flushed. An app
 * that writes to it afterwards gets the usual write-after-end error on the response, which must not crash the
 * worker.
 */
export function endEventStream(conn: Connection): void {
  if (conn.kind !== 'http' || conn.closeAfterFinish) return;
  const stream = conn.pending.find((r) => r.headersSent && !r.writableEnded && isEventStream(r));
  if (!stream) return;
  conn.closeAfterFinish = true;
  stream.on('error', () => {});
  stream.end();
}

/** While draining, how often responses that started streaming events since the drain began are looked for. */
const SWEEP_MS = 250;

/**
 * The long-lived connections of one drain: once the drain hooks have had their first turn, every WebSocket
 * the app is not closing itself gets the engine's close (see websocket.ts) and every event stream is ended;
 * then a sweep does the same for those that begin later (a request or an upgrade on a kept-alive socket) and
 * for WebSockets whose handshake had not been answered yet.
 */
export class LongLivedCloser {
  private due = false;
  private sweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly conns: () => Iterable<Connection>,
    private readonly code: number,
    private readonly waitMs: number,
  ) {}

  /** Call as the drain hooks start (`hooks`: whether there are any). */
  start(hooks: boolean): void {
    const written = new Map<Connection, number>();
    for (const conn of this.conns()) if (conn.websocket) written.set(conn, conn.socket.bytesWritten);
    setImmediate(() => {
      for (const conn of this.conns()) {
        if (!conn.websocket || conn.appCloses) continue;
        if (hooks && closedByApp(conn, written.get(conn))) conn.appCloses = true;
        else closeWebSocket(conn, this.code, this.waitMs);
      }
      for (const conn of this.conns()) endEventStream(conn);
      this.due = true;
    });
    this.sweep = setInterval(() => {
      for (const conn of this.conns()) {
        endEventStream(conn);
        if (this.due && conn.websocket && !conn.appCloses) closeWebSocket(conn, this.code, this.waitMs);
      }
    }, SWEEP_MS);
    this.sweep.unref();
  }

  /** A WebSocket upgraded during the drain: closed as soon as its 101 is out (or by the sweep). */
  upgraded(conn: Connection): void {
    setImmediate(() => closeWebSocket(conn, this.code, this.waitMs));
  }

  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
  }
}
