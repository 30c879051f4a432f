import { type Connection, closeFrame, isEventStream } from './connections.js';

const CLOSE_REASONS: Record<number, string> = { 1001: 'going away', 1012: 'service restart' };

/**
 * Writes a WebSocket's close frame whole, from its own callback: the app's library writes each frame in one
 * call, so this lands between two frames, never inside one. The peer answers with its close frame, the app's
 * library then ends the socket; a peer that does not answer within `waitMs` is cut.
 */
export function sendCloseFrame(conn: Connection, code: number, waitMs: number): void {
  const socket = conn.socket;
  if (conn.cause || socket.destroyed || !socket.writable) return;
  conn.cause = 'long-lived';
  socket.write(closeFrame(code, CLOSE_REASONS[code] ?? ''));
  const wait = setTimeout(() => socket.destroy(), waitMs);
  wait.unref();
}

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
