import { type Connection, isEventStream } from './connections.js';

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
