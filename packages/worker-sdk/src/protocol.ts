/**
 * The IPC protocol between the supervise master and its workers. Both sides import this file; nothing else
 * defines a message. Every message carries the `$supervise` key (the protocol version), so it can never be
 * mistaken for an app's own `process.send()` traffic, and an app's messages are never mistaken for ours.
 */

import type { DrainKindCounts } from './drain-kinds.js';

export { DRAIN_KIND_NAMES, DRAIN_KINDS, type DrainKind, type DrainKindCounts } from './drain-kinds.js';

export const PROTOCOL_VERSION = 1;

/** How often a balanced worker looks at its keep-alive connections, to report a change (`connections`). */
export const CONNECTIONS_REPORT_MS = 100;

/** Environment variables the master sets on every worker. */
export const ENV = {
  /** Present (the protocol version) when the process is a worker of a supervise master. */
  worker: 'SUPERVISE_WORKER',
  slot: 'SUPERVISE_SLOT',
  generation: 'SUPERVISE_GENERATION',
  /** The worker's own drain deadline in ms (shorter than the master's kill timeout). */
  drainTimeout: 'SUPERVISE_DRAIN_TIMEOUT',
  /** The drain's idle rule: `keep-alive` (the app's keepAliveTimeout) or ms (see IdleRule). */
  idleGrace: 'SUPERVISE_IDLE_GRACE',
  /** Heartbeat interval in ms; 0 or absent disables the heartbeat. */
  heartbeat: 'SUPERVISE_HEARTBEAT',
  /** '0' when the master runs with --no-auto-drain: the preload then only guards against group signals. */
  autoDrain: 'SUPERVISE_AUTO_DRAIN',
  /**
   * Set with --sticky: the private port the app listens on (its PORT). The master accepts on the public port
   * and hands each connection to the worker over IPC, which emits it on the server listening here.
   */
  stickyPort: 'SUPERVISE_STICKY_PORT',
  /** '1' when the master balances keep-alive connections (--accept shared): the worker then reports them. */
  balance: 'SUPERVISE_BALANCE',
  /** '0' turns the engine's outcome counting off (see Outcomes); anything else, or absent, leaves it on. */
  outcomes: 'SUPERVISE_OUTCOMES',
} as const;

/**
 * What a worker's HTTP/1 requests came to since it started, counted by the drain engine (drain/outcomes.ts) and
 * sent with each heartbeat. Counters only grow: the master takes differences between two beats.
 */
export interface Outcomes {
  /** Responses finished, by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  status: number[];
  /** Requests whose connection closed (reset, destroyed) before their response finished. */
  reset: number;
  /** Finished responses by latency (request start to response finish): counts per LATENCY_BOUNDS_MS bucket, +Inf last. */
  latency: number[];
  /** The sum of those latencies, in ms. */
  latencySumMs: number;
}

export interface DrainStats {
  /** Connections that closed by themselves or after their last response, within the deadline. */
  finished: number;
  /** Idle keep-alive connections the drain closed. */
  closedIdle: number;
  /** WebSockets, event streams, other upgraded sockets and HTTP/2 sessions closed cleanly within the deadline. */
  closedLongLived: number;
  /** Connections destroyed at the deadline. */
  forced: number;
  /** Kinds of what was forced (drain-kinds.ts), for the master's log and /metrics. */
  forcedKinds: DrainKindCounts;
  /** Requests that completed during the drain. */
  requestsCompleted: number;
  /** Shutdown hooks that failed or timed out. */
  hookFailures: number;
  durationMs: number;
  /** True when the deadline was reached with something still open. */
  timedOut: boolean;
}

/** What a heartbeat says of the worker's process, for `supervise status`, `supervise top` and /metrics. */
export interface WorkerLoad {
  rssBytes: number;
  heapUsedBytes: number;
  /** CPU time used since the process started (user + system), in microseconds. */
  cpuMicros: number;
  /** Event-loop utilization over the last interval, 0 to 1. */
  elu: number;
  /** How late the heartbeat's own timer fired: the event-loop lag, sampled once per beat. */
  lagMs: number;
}

/**
 * What `supervise inspect|heap-snapshot|report` asks one worker to do, in the worker (debug.ts): open its
 * inspector on 127.0.0.1 (`port` 0: a free one), close it, write a heap snapshot or a diagnostic report into
 * `dir` (an absolute path the master chose).
 */
export type DebugRequest =
  | { action: 'inspect'; port: number }
  | { action: 'inspect-close' }
  | { action: 'heap-snapshot'; dir: string }
  | { action: 'report'; dir: string };

/** The worker's answer: the inspector's URL (null once closed), or the file it wrote; else why not. */
export type DebugAnswer = { ok: true; url?: string | null; path?: string } | { ok: false; error: string };

export type DrainReason = 'rollout' | 'stop' | 'scale' | 'recycle' | 'master-lost' | 'signal';

export type MasterMessage =
  | { $supervise: number; type: 'drain'; deadlineMs: number; reason: DrainReason }
  | { $supervise: number; type: 'signal'; signal: NodeJS.Signals }
  /**
   * The answer to `drained`: the master has taken the worker out of round-robin, and every connection it
   * handed over before has reached the worker (the channel is ordered) and was turned away to another worker.
   * A worker that exited before this would drop those connections.
   */
  | { $supervise: number; type: 'exit' }
  /**
   * A connection the master accepted (--sticky), sent with its socket as the handle. `head` holds the bytes
   * the master had to read to route it (base64, '' when none). The worker answers `connection-ack`; until
   * then the master keeps its own copy of the socket, so a worker that dies or turns it away loses nothing.
   */
  | { $supervise: number; type: 'connection'; id: number; head: string }
  /** --accept shared: this worker holds more keep-alive connections than its share; move `count` of them. */
  | { $supervise: number; type: 'shed'; count: number }
  /** Asks for the app's own prom-client metrics (the master's /metrics); answered by `metrics`. */
  | { $supervise: number; type: 'metrics'; id: number }
  /** A debugging action on this one worker (the control socket's inspect, heap-snapshot, report); answered by `debug`. */
  | { $supervise: number; type: 'debug'; id: number; request: DebugRequest };

export type WorkerMessage =
  | {
      $supervise: number;
      type: 'hello';
      mode: 'preload' | 'sdk';
      manualReady: boolean;
      pid: number;
      /**
       * Optional (a worker of an older SDK leaves them out): the worker's `process.version`, since `--node` can
       * run workers on another Node than the master's, and the directory it runs in (a deploy's release, as the
       * kernel resolved the logical path at the fork).
       */
      node?: string;
      cwd?: string;
    }
  | { $supervise: number; type: 'ready' }
  /** `outcomes`: absent from an older SDK's beat, or when counting is off (SUPERVISE_OUTCOMES=0). */
  | {
      $supervise: number;
      type: 'heartbeat';
      requests: number;
      inFlight: number;
      load?: WorkerLoad;
      outcomes?: Outcomes;
    }
  /**
   * --accept shared (SUPERVISE_BALANCE=1): the keep-alive connections this worker holds that could move, and its
   * upgraded ones (WebSockets, which cannot), sent when a count changes, at most every CONNECTIONS_REPORT_MS: a
   * client pool's burst is seen within that.
   */
  | { $supervise: number; type: 'connections'; count: number; upgraded: number }
  /** The worker's drain began and its servers no longer accept (sent whoever asked for the drain). */
  | { $supervise: number; type: 'draining' }
  /** A server failed to listen and the app handled the error itself (so the worker lives on, serving nothing). */
  | { $supervise: number; type: 'listen-error'; code: string; message: string }
  | { $supervise: number; type: 'drained'; stats: DrainStats }
  /**
   * The answer to `connection`: accepted (emitted on the app's server) or turned away (no server serves).
   * `rest`: what this worker read from the socket before it turned it away (base64), which the master sends
   * on after `head`: a connection that waited here for a server that never came keeps every byte.
   */
  | { $supervise: number; type: 'connection-ack'; id: number; accepted: boolean; rest?: string }
  /** The app's metrics in prom-client's JSON form (getMetricsAsJSON()), or null when it has none (or failed). */
  | { $supervise: number; type: 'metrics'; id: number; metrics: unknown[] | null; error?: string }
  | { $supervise: number; type: 'debug'; id: number; answer: DebugAnswer };

/** A message without its version stamp (distributes over the union, unlike Omit). */
export type MessageBody<M> = M extends unknown ? Omit<M, '$supervise'> : never;

export function isSuperviseMessage(value: unknown): value is { $supervise: number; type: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { $supervise?: unknown }).$supervise === 'number' &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

// Every type of each side, checked against the unions above: a message added there and not here fails to compile,
// rather than being dropped at the other end as foreign traffic.
const MASTER_TYPES: Record<MasterMessage['type'], true> = {
  drain: true,
  signal: true,
  exit: true,
  connection: true,
  shed: true,
  metrics: true,
  debug: true,
};
const WORKER_TYPES: Record<WorkerMessage['type'], true> = {
  hello: true,
  ready: true,
  heartbeat: true,
  connections: true,
  draining: true,
  'listen-error': true,
  drained: true,
  'connection-ack': true,
  metrics: true,
  debug: true,
};

export function isMasterMessage(value: unknown): value is MasterMessage {
  return isSuperviseMessage(value) && Object.hasOwn(MASTER_TYPES, value.type);
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return isSuperviseMessage(value) && Object.hasOwn(WORKER_TYPES, value.type);
}

/**
 * The version a supervise message speaks when it is not this side's (a worker's SDK and its master from
 * different releases), else null. Both sides check it before anything else: a mismatch is named, never guessed at.
 */
export function foreignVersion(value: unknown): number | null {
  return isSuperviseMessage(value) && value.$supervise !== PROTOCOL_VERSION ? value.$supervise : null;
}

// ---- the wire: one owner for both sides (as node:cluster's utils.js is for its primary and workers) ----

/** The master's end (a cluster Worker) or the worker's (process): what carries the messages. */
export interface Channel {
  send?(message: unknown, handle?: unknown, options?: object, callback?: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown, handle?: unknown) => void): unknown;
  /** process.connected; a cluster Worker has isConnected() instead. */
  connected?: boolean;
  isConnected?(): boolean;
}

function open(channel: Channel): boolean {
  return (
    typeof channel.send === 'function' && (channel.isConnected ? channel.isConnected() : channel.connected !== false)
  );
}

/**
 * Sends one message, stamped with the protocol version, with a handle (a socket) when there is one. Returns
 * false when it was not sent: the channel is closed (the other side is gone: its exit or disconnect follows).
 * node's own `false` (a backlog, the message still goes) is not that. A later failure reaches `done`, never an
 * exception.
 */
export function sendMessage<M extends MasterMessage | WorkerMessage>(
  channel: Channel,
  body: MessageBody<M>,
  extra: { handle?: unknown; options?: object; done?: (err: Error | null) => void } = {},
): boolean {
  const done = extra.done ?? (() => {});
  if (!open(channel)) {
    done(new Error('the channel is closed'));
    return false;
  }
  try {
    channel.send!(message<M>(body), extra.handle, extra.options ?? {}, done);
    return true;
  } catch (err) {
    done(err as Error);
    return false;
  }
}

/**
 * Receives the other side's messages: `onMessage` for each one `is` accepts (with its handle), `onForeign` for
 * one stamped with another protocol version (named, never guessed at), nothing for the app's own traffic.
 */
export function receiveMessages<M>(
  channel: Channel,
  is: (value: unknown) => value is M,
  onMessage: (msg: M, handle: unknown) => void,
  onForeign: (version: number) => void = () => {},
): void {
  channel.on('message', (value: unknown, handle?: unknown) => {
    const version = foreignVersion(value);
    if (version !== null) onForeign(version);
    else if (is(value)) onMessage(value, handle);
  });
}

/** Builds a message stamped with the protocol version. */
export function message<M extends MasterMessage | WorkerMessage>(body: MessageBody<M>): M {
  return { $supervise: PROTOCOL_VERSION, ...body } as M;
}

/**
 * A message type no case handles: call it in a switch's default, and a type added to MasterMessage or
 * WorkerMessage that its receiver does not handle fails to compile there (`value` is not `never`). At run time
 * it does nothing: the guards above let only known types through.
 */
export function unhandled(_value: never): void {}

// ---- requests and their answers: one correlation by id, for both sides (node:cluster's sendHelper and callbacks) ----

/** The messages of `M` that ask for an answer (they carry an `id`), without their stamp and their id. */
export type RequestBody<M> = M extends { id: number } ? Omit<M, '$supervise' | 'id'> : never;

/**
 * Requests sent to the other side and answered with the same `id`: each gets a fresh id, waits for its answer,
 * and settles with `fallback` when the answer cannot come (not sent, the send failed, `timeoutMs` passed, or
 * cancelAll(): the other side is gone). One instance per kind of answer on a channel; an answer whose id is not
 * pending (late, or never asked) is ignored.
 */
export class Requests<A> {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { settle: (answer: A) => void; timer: ReturnType<typeof setTimeout> | null }
  >();

  constructor(private readonly fallback: A) {}

  /** Requests waiting for their answer. */
  get size(): number {
    return this.pending.size;
  }

  send<M extends MasterMessage | WorkerMessage>(
    channel: Channel,
    body: RequestBody<M>,
    extra: { handle?: unknown; options?: object; timeoutMs?: number } = {},
  ): Promise<A> {
    const id = ++this.nextId;
    return new Promise<A>((resolve) => {
      const timer =
        extra.timeoutMs === undefined ? null : setTimeout(() => this.answer(id, this.fallback), extra.timeoutMs);
      this.pending.set(id, { settle: resolve, timer });
      const sent = sendMessage<M>(channel, { ...body, id } as unknown as MessageBody<M>, {
        handle: extra.handle,
        options: extra.options,
        done: (err) => {
          if (err) this.answer(id, this.fallback);
        },
      });
      if (!sent) this.answer(id, this.fallback);
    });
  }

  /** The answer to request `id` arrived. */
  answer(id: number, value: A): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    if (request.timer) clearTimeout(request.timer);
    request.settle(value);
  }

  /** The other side is gone: every pending request settles with the fallback. */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.answer(id, this.fallback);
  }
}
