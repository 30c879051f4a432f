import type { ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';

/**
 * What one accepted connection is, as far as a drain cares:
 * - `http`: HTTP/1.x, closed when its last response ends (or by the idle rule);
 * - `http2`: an HTTP/2 session, closed with GOAWAY when the SDK is in charge;
 * - `raw`: a plain `net` server's socket, whose protocol only the app knows.
 * An `http` connection whose parser is gone has been upgraded (WebSocket): only the app can close it cleanly.
 */
export type ConnectionKind = 'http' | 'http2' | 'raw';

export type CloseCause = 'finished' | 'idle' | 'long-lived' | 'forced';

export interface Connection {
  /** The socket HTTP reads from: the TLS socket for https, the TCP socket otherwise. */
  socket: Socket;
  server: Server;
  kind: ConnectionKind;
  /** Responses started on this connection and not yet finished, in order (HTTP/1.1 pipelining). */
  pending: ServerResponse[];
  /** performance.now() of the last accept or finished response. */
  lastActive: number;
  /** socket.bytesRead when the idle timer was set: more since means a request is arriving. */
  bytesRead: number;
  session: Http2Session | null;
  /** Set when the drain itself closes the connection, to report why it closed. */
  cause: CloseCause | null;
  idleTimer: NodeJS.Timeout | null;
  /** Seen upgraded once: by the time it closes its parser is gone either way, so remember it. */
  upgraded: boolean;
}

/** `socket.parser` is set by node:http for the life of an HTTP/1 connection and cleared when it is upgraded. */
export function isUpgraded(conn: Connection): boolean {
  if (conn.upgraded) return true;
  if (conn.kind !== 'http') return false;
  const socket = conn.socket as Socket & { parser?: unknown };
  conn.upgraded = 'parser' in socket && socket.parser == null && !socket.destroyed;
  return conn.upgraded;
}

/**
 * Which responses of a connection get `Connection: close` once the drain began: only the last one whose
 * headers have not left. Marking an earlier pipelined response would close the socket under the ones
 * queued behind it, and the client would have to guess which requests were lost.
 */
export function lastUnsent<R extends { headersSent: boolean }>(pending: readonly R[]): R | undefined {
  const last = pending[pending.length - 1];
  return last && !last.headersSent ? last : undefined;
}

/**
 * The idle rule. A keep-alive socket with nothing in flight is closed only once it has been quiet for
 * `graceMs`: a socket of a busy client is idle for microseconds between two requests, and closing it then
 * races the client's next request (ECONNRESET). Within the grace window that next request is answered with
 * `Connection: close` instead, which every conforming client handles without an error.
 * Returns the delay in ms before the connection may be closed (0 = now).
 */
export function idleCloseDelay(lastActive: number, now: number, graceMs: number): number {
  const due = lastActive + graceMs - now;
  return due > 0 ? Math.ceil(due) : 0;
}
