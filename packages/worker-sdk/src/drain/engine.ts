import dc from 'node:diagnostics_channel';
import type http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';

import type { DrainStats } from '../protocol.js';
import { isTlsServer } from '../loaded-builtin.js';
import {
  CLOSE_GOING_AWAY,
  type Connection,
  type ConnectionKind,
  forcedKind,
  type IdleRule,
  isUpgraded,
  kindOf,
  lastUnsent,
  lookupConnection,
  newConnection,
} from './connections.js';
import { OutcomeCounter } from './outcomes.js';
import { closeSessionGracefully, SessionMatcher } from './http2.js';
import { IdleCloser } from './idle.js';
import { LongLivedCloser } from './long-lived.js';
import { lastIfMoving } from './balance.js';
import { keepFromApp, markLast, unanswerable, unmarkLast } from './marking.js';
import { observeBesideTheApp } from './observe.js';
import { countClosed, emptyStats } from './stats.js';
import { runBounded } from './bounded.js';

/** A hook run when the drain starts: close what only the app can close cleanly (WebSockets, SSE, raw protocols). */
export type DrainHook = () => void | Promise<void>;
/** A hook run after the connections are gone: close pools, flush logs. */
export type ShutdownHook = () => void | Promise<void>;

export interface DrainOptions {
  /** Overall deadline for the connections, in ms; what is left then is destroyed and counted as forced. */
  deadlineMs: number;
  /** The idle rule (see IdleRule): 'keep-alive' (the server's keepAliveTimeout, the default) or ms. */
  idleGraceMs?: IdleRule;
  /** How long a socket we half-closed may linger before it is destroyed (it reads, so no RST on late data). */
  lingerMs?: number;
  /** The close code every WebSocket gets: 1012 (service restart) for rollouts, 1001 (going away) for a stop. */
  closeCode?: number;
  /** How long a WebSocket that got our close frame may take to answer it before its socket is destroyed. */
  closeWaitMs?: number;
}

/** The server's own keep-alive timeout: a close the client expects, whatever its load (see IdleRule). */
export const DEFAULT_IDLE_RULE: IdleRule = 'keep-alive';
const DEFAULT_LINGER_MS = 1000;
const DEFAULT_CLOSE_WAIT_MS = 2000;

/**
 * The rule every path that closes a connection keeps (drain, idle rule, balancer, deadline): a request that
 * reaches the app gets its response on the wire, or it never reaches the app. A client can resend a request
 * that never ran; it cannot tell whether one ran whose answer never came (a retried POST runs twice).
 *
 * The one drain engine. It observes servers, connections and requests through node:diagnostics_channel (no
 * patching), costs a map lookup per request while nothing is draining, and on drain():
 * stops accepting -> answers every response from then on with `Connection: close` -> closes each connection
 * when its last response ends -> closes idle ones by the idle rule -> runs the app's drain hooks -> sends a
 * close frame to every WebSocket the app does not close itself -> ends server-sent event streams -> sends
 * GOAWAY to HTTP/2 sessions -> destroys what is left at the deadline -> runs the shutdown hooks. The SDK and
 * the preload attach the same instance (see runtime.ts).
 */
export class DrainEngine {
  requestsTotal = 0;
  inFlight = 0;
  /** What the requests came to (status classes, resets, latency); null when counting is off. */
  outcomes: OutcomeCounter | null = new OutcomeCounter();

  private readonly servers = new Set<net.Server>();
  private readonly conns = new Map<net.Socket, Connection>();
  private readonly drainHooks: DrainHook[] = [];
  private readonly shutdownHooks: { fn: ShutdownHook; timeoutMs: number }[] = [];
  private enabled = false;
  private drainPromise: Promise<DrainStats> | null = null;
  private isDraining = false;
  /** Set one turn after the drain began: from then on every response is the last of its connection. */
  private marking = false;
  private stats = emptyStats();
  private idle = new IdleCloser(DEFAULT_IDLE_RULE, Infinity, DEFAULT_LINGER_MS);
  private closeCode = CLOSE_GOING_AWAY;
  private closeWaitMs = DEFAULT_CLOSE_WAIT_MS;
  private longLived: LongLivedCloser | null = null;
  private onEmpty: (() => void) | null = null;
  private readonly sessions = new SessionMatcher();

  get draining(): boolean {
    return this.isDraining;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** The open connections (balance.ts moves some of them). */
  get connections(): Iterable<Connection> {
    return this.conns.values();
  }

  /** Subscribes to the channels; every server that listens from now on is tracked. Idempotent. */
  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    dc.subscribe('tracing:net.server.listen:asyncStart', this.onListen);
    dc.subscribe('net.server.socket', this.onSocket);
    dc.subscribe('http.server.request.start', this.onRequestStart);
    dc.subscribe('http.server.response.finish', this.onResponseFinish);
  }

  /** Tracks a server explicitly (one that was already listening before the engine was enabled). */
  track(server: net.Server): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    // Observers only: each of these events already has node's own listener, adding ours changes nothing.
    const kind = kindOf(server);
    if (kind === 'http2') server.on('session', this.sessions.onSession);
    if (isTlsServer(server)) server.on('secureConnection', this.onSecureConnection);
    if (kind === 'http') observeBesideTheApp(server, 'upgrade', this.onUpgrade);
    // A listen error the app handles (Express 5 hands it to listen's callback) would leave a worker not serving.
    observeBesideTheApp(server, 'error', (err: NodeJS.ErrnoException) => {
      if (err.syscall === 'listen' || err.syscall === 'bind') this.onListenError?.(err);
    });
    if (this.isDraining) this.stopAccepting(server);
  }

  /**
   * A connection that reached a tracked server some other way than its own accept (the master handed it over
   * with --sticky, and the handover emitted it): tracked as if the server had accepted it. Call it after the
   * server's 'connection' event, where an HTTP/2 server creates the session.
   */
  adopt(socket: net.Socket, server: net.Server): void {
    if (this.servers.has(server) && !this.conns.has(socket)) this.accept(socket, server);
  }

  /** Called when a tracked server fails to listen (the runtime tells the master). */
  onListenError: ((err: NodeJS.ErrnoException) => void) | null = null;

  /** Learns which sockets became WebSockets: node publishes no channel for an upgrade. */
  private readonly onUpgrade = (req: http.IncomingMessage, socket: net.Socket): void => {
    const conn = this.lookup(socket);
    if (!conn) return;
    conn.upgraded = true;
    conn.websocket = /\bwebsocket\b/i.test(req.headers.upgrade ?? '');
    conn.writtenAtUpgrade = socket.bytesWritten;
    // Upgraded while draining (a request on a kept-alive socket): closed once its 101 is out (or by the sweep).
    if (conn.websocket && this.isDraining) this.longLived?.upgraded(conn);
  };

  /** The app's own code closes the WebSockets on these sockets (the SDK's closeWebSockets()). */
  appClosesWebSockets(sockets: Iterable<unknown>): void {
    for (const socket of sockets) {
      const conn = socket instanceof net.Socket ? this.lookup(socket) : undefined;
      if (conn) conn.appCloses = true;
    }
  }

  onDrain(hook: DrainHook): void {
    this.drainHooks.push(hook);
  }

  onShutdown(hook: ShutdownHook, timeoutMs: number): void {
    this.shutdownHooks.push({ fn: hook, timeoutMs });
  }

  /** Runs the drain once; later calls return the same promise. */
  drain(options: DrainOptions): Promise<DrainStats> {
    if (!this.drainPromise) this.drainPromise = this.runDrain(options);
    return this.drainPromise;
  }

  // ---- observation (the hot path while nothing drains) ----

  private readonly onListen = (message: unknown): void => {
    const { server } = message as { server: net.Server };
    if (server) this.track(server);
  };

  private readonly onSocket = (message: unknown): void => {
    const { socket } = message as { socket: net.Socket & { server?: net.Server } };
    const server = socket.server;
    if (server && this.servers.has(server)) this.accept(socket, server);
  };

  private readonly onSecureConnection = (socket: TLSSocket): void => {
    const conn = this.lookup(socket);
    if (!conn) return;
    // ALPN decides what the connection is: on an allowHTTP1 server, anything but h2 is served by node:http.
    if (conn.kind === 'http2' && socket.alpnProtocol !== 'h2') {
      conn.kind = 'http';
      if (this.isDraining) this.beginDrain[conn.kind](conn);
      return;
    }
    this.adoptSession(conn);
  };

  private adoptSession(conn: Connection): void {
    const session = this.sessions.take(conn.socket);
    if (!session || conn.kind !== 'http2') return;
    conn.session = session;
    if (this.isDraining) closeSessionGracefully(session, conn.socket, this.closeWaitMs);
  }

  private readonly onRequestStart = (message: unknown): void => {
    const { request, response, socket, server } = message as {
      request: http.IncomingMessage;
      response: http.ServerResponse;
      socket: net.Socket;
      server: net.Server;
    };
    let conn = this.conns.get(socket) ?? this.lookup(socket);
    if (!conn) {
      if (!this.servers.has(server)) return;
      conn = this.accept(socket, server);
    }
    // The rule (see above): a request whose answer can no longer be written never reaches the app.
    if (unanswerable(socket, conn.pending) && keepFromApp(request, server)) return;
    conn.pending.push(response);
    conn.starts.push(this.outcomes ? performance.now() : 0);
    this.inFlight++;
    if (!this.isDraining) lastIfMoving(conn, response);
    if (this.isDraining) {
      if (conn.idleTimer) {
        clearTimeout(conn.idleTimer);
        conn.idleTimer = null;
      }
      if (this.marking) {
        // A pipelined request behind others becomes the last one: the earlier responses keep the socket open.
        for (const earlier of conn.pending) if (earlier !== response) unmarkLast(earlier);
        markLast(response);
      }
    }
  };

  private readonly onResponseFinish = (message: unknown): void => {
    const { response, socket } = message as { response: http.ServerResponse; socket: net.Socket };
    const conn = this.conns.get(socket);
    if (!conn) return;
    let startedAt: number;
    if (conn.pending[0] === response) {
      conn.pending.shift();
      startedAt = conn.starts.shift() ?? 0;
    } else {
      const i = conn.pending.indexOf(response);
      if (i === -1) return;
      conn.pending.splice(i, 1);
      startedAt = conn.starts.splice(i, 1)[0] ?? 0;
    }
    this.inFlight--;
    this.requestsTotal++;
    conn.lastActive = performance.now();
    this.outcomes?.finished(response.statusCode, conn.lastActive - startedAt);
    if (this.isDraining) {
      this.stats.requestsCompleted++;
      if (conn.pending.length > 0) return;
      // An event stream the drain ended: its client reconnects at once, and must do so on a new connection.
      if (conn.closeAfterFinish) this.idle.end(conn, 'long-lived');
      // A response that went out with `Connection: close` makes node close the socket itself; one whose
      // headers left before the drain said keep-alive, so the client may send once more: the idle rule decides.
      else this.idle.schedule(conn);
    }
  };

  private lookup(socket: net.Socket): Connection | undefined {
    return lookupConnection(this.conns, socket);
  }

  private accept(socket: net.Socket, server: net.Server): Connection {
    const conn = newConnection(socket, server);
    this.conns.set(socket, conn);
    socket.once('close', () => this.forget(conn));
    if (conn.kind === 'http2') this.adoptSession(conn);
    if (this.isDraining) this.beginDrain[conn.kind](conn);
    return conn;
  }

  private forget(conn: Connection): void {
    if (this.conns.get(conn.socket) !== conn) return;
    this.conns.delete(conn.socket);
    this.inFlight -= conn.pending.length;
    // Requests that reached the app and whose answer never finished: a reset, as their clients saw it.
    if (conn.pending.length > 0) this.outcomes?.reset(conn.pending.length);
    conn.pending.length = 0;
    conn.starts.length = 0;
    // Closed while the idle rule waited for it: node's own keep-alive timer, or the client, closed it idle.
    const waitingIdle = conn.idleTimer !== null;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    if (!this.isDraining) return;
    countClosed(this.stats, conn, waitingIdle);
    if (this.conns.size === 0 && this.onEmpty) this.onEmpty();
  }

  // ---- the drain ----

  private async runDrain(options: DrainOptions): Promise<DrainStats> {
    const started = performance.now();
    this.closeCode = options.closeCode ?? CLOSE_GOING_AWAY;
    this.closeWaitMs = options.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS;
    this.isDraining = true;
    const deadlineAt = started + options.deadlineMs;
    this.idle = new IdleCloser(
      options.idleGraceMs ?? DEFAULT_IDLE_RULE,
      deadlineAt,
      options.lingerMs ?? DEFAULT_LINGER_MS,
    );

    for (const server of this.servers) this.stopAccepting(server);
    for (const conn of this.conns.values()) this.beginDrain[conn.kind](conn);
    // Idle sockets get their FIN (the idle rule's immediates, queued above) before any response says
    // `Connection: close`: a client moves the next request of a closing connection to one of its idle ones,
    // and that one must already be known closed, not closing in the same instant.
    setImmediate(() => {
      this.marking = true;
      for (const conn of this.conns.values()) {
        const last = conn.kind === 'http' ? lastUnsent(conn.pending) : undefined;
        if (last) markLast(last);
      }
    });

    // Drain hooks run beside the wait: they close long-lived connections, whose 'close' ends the wait.
    const hooks = this.drainHooks.map((hook) =>
      runBounded(hook, Math.max(0, deadlineAt - performance.now())).then((ok) => {
        if (!ok) this.stats.hookFailures++;
      }),
    );
    // What the app did not close itself in its hooks' first turn gets the engine's own close.
    this.longLived = new LongLivedCloser(() => this.conns.values(), this.closeCode, this.closeWaitMs);
    this.longLived.start(this.drainHooks.length > 0);

    const timedOut = !(await this.waitForConnections(deadlineAt));
    this.longLived.stop();
    if (timedOut) this.forceRemaining();
    await Promise.all(hooks);

    for (const { fn, timeoutMs } of this.shutdownHooks) {
      if (!(await runBounded(fn, timeoutMs))) this.stats.hookFailures++;
    }

    this.stats.timedOut = timedOut;
    this.stats.durationMs = Math.round(performance.now() - started);
    return { ...this.stats, forcedKinds: { ...this.stats.forcedKinds } };
  }

  private stopAccepting(server: net.Server): void {
    // net.Server's close, not http.Server's: it stops accepting (and in a cluster worker takes the worker out
    // of round-robin at once) without node's one-shot idle sweep, which would reset busy keep-alive clients.
    const close = (): void => void net.Server.prototype.close.call(server);
    if (server.listening) close();
    // A listen() under way (in a cluster worker it asks the primary first): closed the moment it completes.
    else server.once('listening', close);
  }

  /** The drain's first step for each kind a server accepts (drain-kinds.ts): a new kind does not compile without. */
  private readonly beginDrain: Record<ConnectionKind, (conn: Connection) => void> = {
    http: (conn) => {
      // A WebSocket gets its close frame once the drain hooks had their turn (runDrain); another upgraded
      // socket speaks a protocol only the app knows: its drain hooks close it, or the deadline does.
      if (isUpgraded(conn)) return;
      // Busy connections get `Connection: close` from the marking pass (runDrain) and onRequestStart.
      if (conn.pending.length === 0) this.idle.schedule(conn);
    },
    http2: (conn) => {
      if (conn.session) closeSessionGracefully(conn.session, conn.socket, this.closeWaitMs);
    },
    // Only the app knows the protocol: its drain hooks close the socket, or the deadline does.
    raw: () => {},
  };

  private waitForConnections(deadlineAt: number): Promise<boolean> {
    if (this.conns.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.onEmpty = null;
          resolve(this.conns.size === 0);
        },
        Math.max(0, deadlineAt - performance.now()),
      );
      this.onEmpty = () => {
        this.onEmpty = null;
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private forceRemaining(): void {
    for (const conn of [...this.conns.values()]) {
      const kind = forcedKind(conn);
      this.stats.forced++;
      this.stats.forcedKinds[kind]++;
      conn.cause = 'forced';
      conn.session?.destroy();
      conn.socket.destroy();
      this.forget(conn);
    }
  }
}
