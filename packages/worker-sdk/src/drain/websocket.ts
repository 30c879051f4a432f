import type { Socket } from 'node:net';

import { type Connection, closeFrame } from './connections.js';

const CLOSE_REASONS: Record<number, string> = { 1001: 'going away', 1012: 'service restart' };
/** WebSocket.OPEN in `ws` and in the browser API. */
const OPEN = 1;

/** What the drain needs of the app's WebSocket object. */
interface LibraryWebSocket {
  readyState: number;
  close(code?: number, reason?: string): void;
}

/**
 * The `ws` library's WebSocket for a socket: ws (7 and 8, and socket.io, engine.io, which run on it) keeps
 * it on the socket under a symbol named 'websocket', set once its handshake's 101 has been written.
 */
export function libraryWebSocket(socket: Socket): LibraryWebSocket | null {
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description !== 'websocket') continue;
    const ws = (socket as unknown as Record<symbol, Partial<LibraryWebSocket> | undefined>)[key];
    if (ws && typeof ws.close === 'function' && typeof ws.readyState === 'number') return ws as LibraryWebSocket;
  }
  return null;
}

/**
 * Closes a WebSocket the app does not close itself; false when its handshake has not been answered yet (try
 * again later: nothing may precede the 101 on the wire).
 *
 * With `ws`, through its own close(): it writes the close frame after the frames it already queued, knows
 * the connection is closing, and fails every later send() (an error in its callback, readyState CLOSING):
 * no message the app believes sent is dropped silently. Another library gets the close frame written whole
 * beneath it, once the 101 has gone out (the library writes each frame in one call, so the frame lands between
 * two); that library does not know, and a message it sends in the next round trip goes out after the close
 * frame, where the client drops it.
 *
 * A peer that does not answer the close within `waitMs` is cut.
 */
export function closeWebSocket(conn: Connection, code: number, waitMs: number): boolean {
  const socket = conn.socket;
  if (conn.cause || socket.destroyed || !socket.writable) return true;
  const ws = libraryWebSocket(socket);
  if (ws) {
    conn.cause = 'long-lived';
    if (ws.readyState === OPEN) ws.close(code, CLOSE_REASONS[code] ?? '');
  } else {
    if (socket.bytesWritten <= conn.writtenAtUpgrade) return false;
    conn.cause = 'long-lived';
    socket.write(closeFrame(code, CLOSE_REASONS[code] ?? ''));
  }
  const wait = setTimeout(() => socket.destroy(), waitMs);
  wait.unref();
  return true;
}

/**
 * Whether the app began to close this WebSocket itself in its drain hooks' first turn. With `ws`, its state
 * says so exactly. With another library, anything written in that turn is taken as its close frame (a second
 * one would be wrong): a socket the app was busy writing to at that instant is then left to the app's own
 * close, or to the deadline.
 */
export function closedByApp(conn: Connection, writtenBeforeHooks: number | undefined): boolean {
  const ws = libraryWebSocket(conn.socket);
  if (ws) return ws.readyState !== OPEN;
  return writtenBeforeHooks !== undefined && conn.socket.bytesWritten !== writtenBeforeHooks;
}
