import { writeSync } from 'node:fs';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

import { loadedBuiltin } from '../loaded-builtin.js';

/**
 * A GOAWAY frame (RFC 9113 6.8) with the highest stream id and NO_ERROR: a shutdown notice. It refuses no
 * stream; it tells the client to open no new one. The 9-byte frame header (length 8, type 7, no flags,
 * stream 0), then the last stream id and the error code.
 */
const SHUTDOWN_NOTICE = Buffer.from('000008070000000000' + '7fffffff' + '00000000', 'hex');

/** What a plain TCP socket's libuv handle tells: its descriptor, and the bytes libuv still has to write. */
type TcpHandle = { fd?: number; writeQueueSize?: number };

/**
 * Writes the shutdown notice straight to the connection's descriptor, beneath node and nghttp2, when that is
 * safe: a plain TCP socket (h2c) whose libuv write queue is empty, so every frame nghttp2 produced so far is
 * whole in the kernel and these 17 bytes follow the last one. Not through the socket's stream: node's http2
 * session consumes it, and the completion of a write it did not make aborts the process (an assertion in
 * Http2Session::OnStreamAfterWrite, seen on a TLS socket). Over TLS the record layer is node's: no notice.
 * Returns whether the whole notice was written.
 */
function writeShutdownNotice(socket: Socket): boolean {
  const tls = loadedBuiltin('tls');
  if ((tls && socket instanceof tls.TLSSocket) || socket.destroyed || !socket.writable) return false;
  const handle = (socket as Socket & { _handle?: TcpHandle | null })._handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || handle.writeQueueSize !== 0) return false;
  try {
    return writeSync(handle.fd, SHUTDOWN_NOTICE) === SHUTDOWN_NOTICE.length;
  } catch {
    return false; // EAGAIN: the kernel's buffer is full; nothing was written
  }
}

/**
 * Closes an HTTP/2 session without refusing a stream the client already sent, as nghttp2's own server, Envoy
 * and Apache httpd do (RFC 9113 6.8): a shutdown notice first (a GOAWAY with the highest stream id: the client
 * opens no new stream), a PING round trip (its answer comes after every frame the client sent before it saw
 * the notice), then the real GOAWAY with the last stream id processed, and the open streams finish.
 *
 * Node's JS API has no shutdown notice: `session.close()` sends the last GOAWAY at once, and a stream on the
 * wire is refused (nodejs/node#34265); `session.goaway(NO_ERROR, 2 ** 31 - 1)` marks the session "GOAWAY
 * sent" in nghttp2, which from then on ignores every new stream whatever the id said (nghttp2's
 * session_allow_incoming_new_stream), so it refuses the same streams one round trip later.
 * nghttp2_submit_shutdown_notice, which does not, is not reachable from JS. So the notice is written beneath
 * nghttp2 (see writeShutdownNotice); where it cannot be (TLS, a full socket buffer), the session gets node's
 * single GOAWAY, as before.
 *
 * A peer that does not answer the PING within `waitMs` gets the real GOAWAY then (nghttp2's client, for one,
 * does not answer a PING once it has a GOAWAY and no stream open: it has nothing on the wire either).
 */
export function closeSessionGracefully(session: Http2Session, socket: Socket, waitMs: number): void {
  if (session.closed || session.destroyed) return;
  if (session.pendingSettingsAck) {
    // A session that has just begun: the server's SETTINGS must be the first frame on the wire, and the
    // client's acknowledgement says it was. (node's own GOAWAY waits for the same, nghttp2 queues it after.)
    const start = (): void => {
      clearTimeout(timer);
      closeSessionGracefully(session, socket, waitMs);
    };
    const timer = setTimeout(() => {
      session.off('localSettings', start);
      if (!session.closed && !session.destroyed) session.close();
    }, waitMs);
    timer.unref();
    session.once('localSettings', start);
    return;
  }
  if (!writeShutdownNotice(socket)) {
    session.close();
    return;
  }
  let done = false;
  const close = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (!session.closed && !session.destroyed) session.close();
  };
  const timer = setTimeout(close, waitMs);
  timer.unref();
  try {
    // false: too many PINGs already unanswered; the peer is not listening, close now.
    if (!session.ping(close)) close();
  } catch {
    close();
  }
}

/**
 * Pairs each new HTTP/2 session with its connection. `session.socket` is a proxy that is neither a map key
 * nor destroyable. Node creates the session inside its own 'connection' (h2c) or 'secureConnection' (h2)
 * listener, and the next thing that runs in the same tick is the engine's view of that socket (the
 * net.server.socket channel, or its 'secureConnection' listener, registered after node's).
 */
export class SessionMatcher {
  private latest: Http2Session | null = null;

  /** The server's 'session' listener. */
  readonly onSession = (session: Http2Session): void => {
    this.latest = session;
  };

  /** The session just created for this socket, if it is that one. */
  take(socket: Socket): Http2Session | null {
    const session = this.latest;
    this.latest = null;
    return session && session.socket?.remotePort === socket.remotePort ? session : null;
  }
}
