/**
 * @supervise/worker-sdk: what an app imports to be supervised well, or to drain losslessly on its own.
 *
 *   import { track, ready, onShutdown } from '@supervise/worker-sdk';
 *
 * Under a supervise master it announces itself, tells the master when the worker is ready, and drains on the
 * master's request. Without a master (a single process, a container) SIGTERM and SIGINT run the same drain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:net';

import type { DrainStats } from './protocol.js';
import { getRuntime, type SignalHandler } from './runtime.js';

export type { DrainStats } from './protocol.js';
export type { DrainHook, ShutdownHook } from './drain/engine.js';

export interface InitOptions {
  /** The app calls ready() itself; until then the master does not count the worker as serving. */
  manualReady?: boolean;
  /** Standalone only: the drain deadline on SIGTERM/SIGINT (under a master, the master's timeout rules). */
  drainTimeoutMs?: number;
  /**
   * The idle rule (see docs/drain.md): how long an idle keep-alive connection stays open once the drain began.
   * 'keep-alive' (the default): the server's keepAliveTimeout, which it advertises to its clients; a number of
   * ms for a shorter fixed grace.
   */
  idleGraceMs?: number | 'keep-alive';
  /** Default bound for each shutdown hook. */
  hookTimeoutMs?: number;
  /** Standalone only: set false to call drain() yourself instead of on SIGTERM/SIGINT. */
  handleSignals?: boolean;
}

export interface WebSocketLike {
  close(code?: number, reason?: string): void;
  /** The socket under it (`ws` keeps it here): the drain engine then sends no close frame of its own. */
  _socket?: unknown;
}

export interface WebSocketServerLike {
  clients: Iterable<WebSocketLike>;
}

const runtime = getRuntime();
let initialised = false;

/** Configures the SDK. Optional: every other call initialises it with defaults. Call it before listen(). */
export function init(options: InitOptions = {}): void {
  const s = runtime.settings;
  if (options.drainTimeoutMs !== undefined && !runtime.supervised) s.drainTimeoutMs = options.drainTimeoutMs;
  if (options.idleGraceMs !== undefined) s.idleGraceMs = options.idleGraceMs;
  if (options.hookTimeoutMs !== undefined) s.hookTimeoutMs = options.hookTimeoutMs;
  initialised = true;
  runtime.attachSdk({ manualReady: options.manualReady, handleSignals: options.handleSignals });
}

function ensure(): void {
  if (!initialised) init();
}

/**
 * Drains this server on shutdown. Servers that call listen() after the SDK is loaded are tracked anyway;
 * pass the ones that were listening before. Works for http, https, http2 (secure or not) and net servers.
 */
export function track<S extends Server>(server: S): S {
  ensure();
  runtime.engine.track(server);
  return server;
}

/** Tells the master this worker is ready to serve (with `manualReady`; harmless otherwise). */
export function ready(): void {
  ensure();
  runtime.ready();
}

/**
 * Runs when the drain starts, beside it: close what only the app can close cleanly (WebSockets with 1001,
 * server-sent event streams, a raw protocol's sessions). The drain waits for those sockets until its deadline.
 */
export function onDrain(hook: () => void | Promise<void>): void {
  ensure();
  runtime.engine.onDrain(hook);
}

/** Runs after every connection is gone, in registration order, each bounded by `timeoutMs`. */
export function onShutdown(hook: () => void | Promise<void>, options: { timeoutMs?: number } = {}): void {
  ensure();
  runtime.engine.onShutdown(hook, options.timeoutMs ?? runtime.settings.hookTimeoutMs);
}

/**
 * Closes every client of a `ws` WebSocketServer (or anything shaped like one) through its own library, with
 * 1001 "going away" unless told otherwise. Without this call the drain engine still closes every WebSocket
 * (1012 on a restart, 1001 on a stop); use it to choose the code and reason.
 */
export function closeWebSockets(wss: WebSocketServerLike, options: { code?: number; reason?: string } = {}): void {
  const code = options.code ?? 1001;
  const reason = options.reason ?? 'going away';
  onDrain(() => {
    const clients = [...wss.clients];
    runtime.engine.appClosesWebSockets(clients.map((client) => client._socket));
    for (const client of clients) client.close(code, reason);
  });
}

/** A signal relayed by `supervise signal <name>` over IPC: the master owns the process signals it gets. */
export function onSignal(signal: NodeJS.Signals, handler: SignalHandler): () => void {
  ensure();
  return runtime.onSignal(signal, handler);
}

export function isDraining(): boolean {
  return runtime.engine.draining;
}

/** A request handler for a load balancer's readiness probe: 200 while serving, 503 once draining. */
export function readinessHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  ensure();
  return (_req, res) => {
    const draining = runtime.engine.draining;
    res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(draining ? 'draining\n' : 'ready\n');
  };
}

/** Drains now and exits; for standalone apps that set `handleSignals: false`. */
export function drainAndExit(): Promise<void> {
  ensure();
  return runtime.drainAndExit('signal');
}

/** Drains without exiting (tests, custom lifecycles). */
export function drain(options: { deadlineMs?: number } = {}): Promise<DrainStats> {
  ensure();
  return runtime.engine.drain({
    deadlineMs: options.deadlineMs ?? runtime.settings.drainTimeoutMs,
    idleGraceMs: runtime.settings.idleGraceMs,
  });
}

export function stats(): { requests: number; inFlight: number; connections: number; draining: boolean } {
  const e = runtime.engine;
  return { requests: e.requestsTotal, inFlight: e.inFlight, connections: e.connectionCount, draining: e.draining };
}

/** True when this process is a worker of a supervise master. */
export const supervised: boolean = runtime.supervised;
