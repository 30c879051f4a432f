import http, { type ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import type { ConnectionKind, DrainKind } from '../drain-kinds.js';
import { loadedBuiltin } from '../loaded-builtin.js';

/** The kinds (what one accepted connection is, as far as a drain cares) are the table in drain-kinds.ts. */
export type { ConnectionKind } from '../drain-kinds.js';

export type CloseCause = 'finished' | 'idle' | 'long-lived' | 'forced';

export interface Connection {
  /** The socket HTTP reads from: the TLS socket for https, the TCP socket otherwise. */
  socket: Socket;
  server: Server;
  kind: ConnectionKind;
  /** Responses started on this connection and not yet finished, in order (HTTP/1.1 pipelining). */
  pending: ServerResponse[];
  /** performance.now() at each pending response's request start, in the same order (0 when not counting). */
  starts: number[];
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
  /** Upgraded with `Upgrade: websocket`: the engine can close it with a close frame of its own. */
  websocket: boolean;
  /** The app's own code closes this WebSocket (the SDK's closeWebSockets, a drain hook): the engine does not. */
  appCloses: boolean;
  /** socket.bytesWritten when the upgrade request came: more since means its handshake has been answered. */
  writtenAtUpgrade: number;
  /** A streaming response (server-sent events) the drain ended: the socket closes once it is flushed. */
  closeAfterFinish: boolean;
  /** The balancer asked this connection to move: its next response says `Connection: close` (see balance.ts). */
  shed: boolean;
}

/** A connection just accepted (or handed over) by a tracked server. */
export function newConnection(socket: Socket, server: Server): Connection {
  return {
    socket,
    server,
    kind: kindOf(server),
    pending: [],
    starts: [],
    lastActive: performance.now(),
    bytesRead: 0,
    session: null,
    cause: null,
    idleTimer: null,
    upgraded: false,
    websocket: false,
    appCloses: false,
    writtenAtUpgrade: 0,
    closeAfterFinish: false,
    shed: false,
  };
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
 * How long a keep-alive socket with nothing in flight must have been quiet before the drain closes it:
 * - `'keep-alive'` (the default): the server's own keepAliveTimeout, the `Keep-Alive: timeout=N` it advertises.
 *   A conforming client stops reusing a socket before then (undici one second before, node's agent at it), so
 *   the close is one the client already expects, however long the client's event loop stalls; node's own
 *   keep-alive timer would close the socket at that moment anyway. A server without a timeout (0) gets 5 s.
 * - a number of ms: a shorter, fixed grace, for faster exits; a client that stalls longer than it may write its
 *   next request on a socket whose FIN is already on its way (losses under thousands of connections:
 *   bench/RESULTS.md#scale; test/e2e/rollout/scale.test.ts makes the race deterministic).
 */
export type IdleRule = number | 'keep-alive';

export const KEEP_ALIVE_FALLBACK_MS = 5_000;

export function idleGraceFor(rule: IdleRule, server: { keepAliveTimeout?: number }): number {
  if (rule !== 'keep-alive') return rule;
  const hint = server.keepAliveTimeout;
  return typeof hint === 'number' && hint > 0 ? hint : KEEP_ALIVE_FALLBACK_MS;
}

/** Reads an idle rule from the master's environment or an option: `keep-alive`, or ms. */
export function parseIdleRule(value: unknown): IdleRule | undefined {
  if (value === 'keep-alive') return 'keep-alive';
  const n = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The idle rule's clock. A keep-alive socket with nothing in flight is closed only once it has been quiet for
 * `graceMs` (see IdleRule): a socket of a busy client is idle for microseconds between two requests, and
 * closing it then races the client's next request (ECONNRESET). Within the window that next request is
 * answered with `Connection: close` instead, which every conforming client handles without an error.
 * Returns the delay in ms before the connection may be closed (0 = now).
 */
export function idleCloseDelay(lastActive: number, now: number, graceMs: number): number {
  const due = lastActive + graceMs - now;
  return due > 0 ? Math.ceil(due) : 0;
}

/** How a drain reports a connection it had to destroy. */
export function forcedKind(conn: Connection): DrainKind {
  if (conn.websocket) return 'websocket';
  if (isUpgraded(conn)) return 'upgraded';
  return conn.kind;
}

/**
 * A server's WebSocket close frame (RFC 6455 5.5.1): FIN + opcode 8, unmasked, the code and a short reason.
 * Control frames are never compressed and may stand between the frames of a message, so one written whole
 * between two of the app's library's writes is a valid frame on the wire.
 */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/** WebSocket close codes: 1001 when the service goes away, 1012 when it restarts (clients come back at once). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_SERVICE_RESTART = 1012;

/** A response that streams server-sent events (its Content-Type, set or already written). */
export function isEventStream(response: {
  getHeader(name: string): unknown;
  headersSent: boolean;
  _header?: string | null;
}): boolean {
  const type = response.getHeader('content-type');
  if (typeof type === 'string') return /^\s*text\/event-stream/i.test(type);
  // writeHead(status, headers) with no setHeader before it writes the headers without keeping them.
  const sent = response.headersSent ? response._header : null;
  return typeof sent === 'string' && /\r\ncontent-type:\s*text\/event-stream/i.test(sent);
}

/** What kind of connections a server accepts. */
export function kindOf(server: Server): ConnectionKind {
  if (server instanceof http.Server) return 'http';
  const https = loadedBuiltin('https');
  if (https && server instanceof https.Server) return 'http';
  const name = server.constructor?.name;
  if (name === 'Http2Server' || name === 'Http2SecureServer') return 'http2';
  return 'raw';
}

type SocketWithParent = Socket & { _parent?: Socket | null };

/** Finds the connection of a socket, moving a TLS connection from its TCP socket to the TLS socket. */
export function lookupConnection(conns: Map<Socket, Connection>, socket: Socket): Connection | undefined {
  const direct = conns.get(socket);
  if (direct) return direct;
  const parent = (socket as SocketWithParent)._parent;
  const conn = parent ? conns.get(parent) : undefined;
  if (!conn) return undefined;
  conns.delete(parent as Socket);
  conn.socket = socket;
  conns.set(socket, conn);
  return conn;
}
