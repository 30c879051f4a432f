import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

import type {
  DrainReason,
  DrainStats,
  MasterMessage,
  MessageBody,
  WorkerLoad,
  WorkerMessage,
} from '@supervise/worker-sdk/protocol';

import { listenUrl } from '../observe/text.js';
import { requireCjs } from '../require-cjs.js';
import { transition, WorkerFailure, type WorkerState } from './state.js';

const { isWorkerMessage, receiveMessages, sendMessage, PROTOCOL_VERSION } = requireCjs(
  '@supervise/worker-sdk/protocol',
) as typeof import('@supervise/worker-sdk/protocol');

type Address = Parameters<typeof listenUrl>[0];

export interface WorkerTimeouts {
  drainTimeoutMs: number;
  killTimeoutMs: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The master asked it to leave (drain, kill), as opposed to a crash. */
  intended: boolean;
  /** The master had to SIGKILL it. */
  killed: boolean;
  /** What the worker's drain reported in its ack, when it sent one. */
  stats: DrainStats | null;
  /** Why the master drained it (null: it was killed, or it left by itself). */
  reason: DrainReason | null;
  /** It had been ready (served), as opposed to failing or being stopped at boot. */
  served: boolean;
}

/** The worker's load from its last heartbeat, with the rates since the one before. */
export interface LoadView {
  rssBytes: number;
  heapUsedBytes: number;
  /** CPU use over the last interval, % of one core. */
  cpuPercent: number;
  requestsPerSecond: number;
  /** Event-loop utilization over the last interval, 0 to 1. */
  elu: number;
  lagMs: number;
}

export type OutputStream = 'stdout' | 'stderr';

const TAIL_LINES = 20;

/**
 * One worker process, master side: fork, readiness, drain, kill, and its state. Node's cluster forgets a
 * worker as soon as it is disconnected; this object is our own reference until the process has exited.
 *
 * Events: 'state' (from, to), 'line' (stream, line), 'heartbeat', 'self-drain' (the worker started a drain
 * the master did not ask for), 'closed' (its drain began: its servers no longer accept), 'listen-error' (message:
 * a server of it could not listen), 'exit' (ExitInfo).
 */
export class WorkerProcess extends EventEmitter {
  readonly worker: Worker;
  readonly pid: number;
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  readyAt: number | null = null;
  /** The preload or the SDK answered: the worker drains itself on a message and acks. */
  drainsItself = false;
  usesSdk = false;
  manualReady = false;
  requests = 0;
  inFlight = 0;
  /** Keep-alive HTTP/1 connections it holds that could move to another worker (its `connections` reports). */
  connections: number | null = null;
  /** Upgraded connections (WebSockets) it holds, which nothing can move (the same reports). */
  upgraded: number | null = null;
  lastHeartbeat: number | null = null;
  /** From the heartbeats; null until two have arrived (the rates need an interval). */
  load: LoadView | null = null;
  private lastBeat: { at: number; requests: number; cpuMicros: number } | null = null;
  private readonly metricsWaiters = new Map<number, (metrics: unknown[] | null) => void>();
  private nextMetricsId = 0;
  drainReason: DrainReason | null = null;
  exitInfo: ExitInfo | null = null;
  /** Where the worker's servers listen (`http://127.0.0.1:3000`), as node:cluster reports them. */
  readonly listeningOn: string[] = [];
  /** SIGKILLed because it outlived the kill timeout (rather than killed at once on purpose). */
  timedOut = false;
  readonly exited: Promise<ExitInfo>;

  private intended = false;
  private killed = false;
  private stats: DrainStats | null = null;
  private readonly tail: string[] = [];
  /** Lines held back while `holdOutput` is set (see holdOutput). */
  private held: [OutputStream, string][] | null = null;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly slot: number,
    readonly generation: number,
    env: Record<string, string>,
    private readonly timeouts: WorkerTimeouts,
  ) {
    super();
    this.worker = cluster.fork(env);
    this.pid = this.worker.process.pid ?? -1;
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code: number | null, signal: string | null) => {
        // The last lines a crashing worker printed may still be in the pipe when 'exit' fires: wait for
        // the pipes to close (briefly: a grandchild may hold them) so that a crash report shows them.
        const child = this.worker.process;
        const timer = setTimeout(finish, 200);
        child.once('close', finish);
        let done = false;
        function finish() {
          if (done) return;
          done = true;
          clearTimeout(timer);
          settle(code, signal);
        }
      });
      const settle = (code: number | null, signal: string | null) => {
        for (const t of this.timers) clearTimeout(t);
        const info: ExitInfo = {
          code,
          signal,
          intended: this.intended,
          killed: this.killed,
          stats: this.stats,
          reason: this.drainReason,
          served: this.readyAt !== null,
        };
        this.exitInfo = info;
        this.setState('exited');
        this.emit('exit', info);
        resolve(info);
      };
    });
    // Sending to a worker whose channel just closed reports an error here instead of crashing the master.
    this.worker.on('error', () => {});
    this.worker.on('listening', (address: Address) => {
      const url = listenUrl(address);
      if (!this.listeningOn.includes(url)) this.listeningOn.push(url);
      if (!this.manualReady) this.markReady();
    });
    receiveMessages(
      this.worker,
      isWorkerMessage,
      (msg) => this.onMessage(msg),
      (version) => this.onForeignVersion(version),
    );
    this.pipeLines(this.worker.process.stdout, 'stdout');
    this.pipeLines(this.worker.process.stderr, 'stderr');
  }

  get id(): number {
    return this.worker.id;
  }

  /**
   * Holds the worker's output back instead of passing it on: for a worker started after a boot failure, whose
   * output is the same stack again if it fails the same way. releaseOutput() or discardOutput() ends the hold.
   */
  holdOutput(): void {
    this.held ??= [];
  }

  releaseOutput(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [stream, line] of held) this.emit('line', stream, line);
  }

  discardOutput(): void {
    this.held = null;
  }

  /** The last lines the worker printed (both streams): what a crash report shows. */
  get lastLines(): string[] {
    return [...this.tail];
  }

  /** A worker whose SDK speaks another protocol cannot be drained or told anything: it never counts as ready. */
  private onForeignVersion(version: number): void {
    if (this.protocolError) return;
    this.protocolError =
      `worker ${this.pid} speaks supervise protocol ${version}, this master ${PROTOCOL_VERSION}: ` +
      "the app loads another release of @supervise/worker-sdk than the master's; install the same release of both";
    this.emit('protocol-mismatch', this.protocolError);
  }

  /** Set when the worker's SDK speaks another protocol version (see onForeignVersion). */
  protocolError: string | null = null;

  /** Resolves once ready; rejects with a WorkerFailure when it exits first or misses the deadline. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('state', onState);
        this.off('listen-error', onListenError);
        this.off('protocol-mismatch', onMismatch);
      };
      const onMismatch = (text: string) => {
        cleanup();
        reject(new WorkerFailure('protocol', text, this.lastLines));
      };
      // The app swallowed its server's listen error: this worker would never serve.
      const onListenError = (message: string) => {
        cleanup();
        reject(new WorkerFailure('listen-error', `worker ${this.pid} could not listen: ${message}`, this.lastLines));
      };
      const onState = (_from: WorkerState, to: WorkerState) => {
        if (to === 'ready') {
          cleanup();
          resolve();
        } else if (to === 'exited' || to === 'draining') {
          cleanup();
          const info = this.exitInfo;
          const how = info?.signal ? `was killed by ${info.signal}` : `exited with code ${info?.code ?? '?'}`;
          reject(
            new WorkerFailure(
              info && info.code === 0 && !info.signal ? 'exited' : 'crashed',
              `worker ${this.pid} ${to === 'draining' ? 'began to drain' : how} before it was ready`,
              this.lastLines,
              info?.code ?? null,
              info?.signal ?? null,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new WorkerFailure('ready-timeout', `worker ${this.pid} was not ready within ${timeoutMs} ms`, this.lastLines),
        );
      }, timeoutMs);
      this.on('state', onState);
      this.on('listen-error', onListenError);
      this.on('protocol-mismatch', onMismatch);
      if (this.protocolError) onMismatch(this.protocolError);
    });
  }

  /**
   * Takes the worker out: it leaves round-robin at once (it closes its servers, or is disconnected), finishes
   * what is in flight, and exits. SIGKILL at the kill timeout whatever happens.
   */
  drain(reason: DrainReason): Promise<ExitInfo> {
    if (this.state === 'exited') return this.exited;
    this.intended = true;
    if (this.state === 'draining') return this.exited;
    this.drainReason = reason;
    this.setState('draining');
    const { drainTimeoutMs, killTimeoutMs } = this.timeouts;
    if (this.drainsItself) {
      this.send({ type: 'drain', deadlineMs: drainTimeoutMs, reason });
    } else {
      // No engine inside: node's own disconnect closes the servers, then SIGTERM, then SIGKILL.
      if (this.worker.isConnected()) this.worker.disconnect();
      this.after(drainTimeoutMs, () => this.signal('SIGTERM'));
    }
    this.after(killTimeoutMs, () => this.killLate());
    return this.exited;
  }

  /**
   * Ends a worker that failed to become ready or is no longer wanted. One already draining (a stop began while
   * it booted) may hold a connection: its drain finishes, bounded by the kill timeout. Anything else is killed.
   */
  end(): Promise<ExitInfo> {
    return this.state === 'draining' ? this.exited : this.kill();
  }

  /** SIGKILL now: for a worker that cannot drain (hung, failed to become ready) or ran out of time. */
  kill(): Promise<ExitInfo> {
    if (this.state !== 'exited') {
      this.intended = true;
      this.killed = true;
      this.signal('SIGKILL');
    }
    return this.exited;
  }

  /**
   * Stops new connections reaching a worker that cannot serve them (hung): Node's disconnect() takes it out of
   * round-robin in the master at once, without needing the worker's cooperation.
   */
  leaveRoundRobin(): void {
    if (this.worker.isConnected()) this.worker.disconnect();
  }

  /** The kill timeout ran out: the log must tell that apart from a kill the master chose (hung, failed boot). */
  private killLate(): void {
    if (this.state !== 'exited') this.timedOut = true;
    void this.kill();
  }

  /** Asks the worker to move `count` of its keep-alive connections to other workers (accept/balance.ts). */
  shed(count: number): void {
    if (this.drainsItself && this.state === 'ready') this.send({ type: 'shed', count });
  }

  /** Relays a signal the master does not own; the SDK turns it into an onSignal() event. */
  forwardSignal(signal: NodeJS.Signals): void {
    if (this.drainsItself) this.send({ type: 'signal', signal });
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.worker.process.kill(sig);
    } catch {
      // Already gone: the exit event follows.
    }
  }

  private send(body: MessageBody<MasterMessage>): void {
    sendMessage<MasterMessage>(this.worker, body);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    this.timers.push(t);
  }

  private markReady(): void {
    if (this.state !== 'starting' || this.protocolError) return;
    this.readyAt = Date.now();
    this.setState('ready');
  }

  private onMessage(msg: WorkerMessage): void {
    // Every message comes from the worker's event loop: a sign of life for the watchdog, from the first
    // hello on (a worker may hang before its first heartbeat is due).
    this.lastHeartbeat = Date.now();
    switch (msg.type) {
      case 'hello':
        this.drainsItself = true;
        if (msg.mode === 'sdk') this.usesSdk = true;
        this.manualReady = msg.manualReady;
        break;
      case 'ready':
        this.markReady();
        break;
      case 'heartbeat':
        this.requests = msg.requests;
        this.inFlight = msg.inFlight;
        if (msg.load) this.onLoad(msg.requests, msg.load);
        this.emit('heartbeat');
        break;
      case 'connections':
        this.connections = msg.count;
        this.upgraded = msg.upgraded;
        break;
      case 'metrics': {
        const settle = this.metricsWaiters.get(msg.id);
        this.metricsWaiters.delete(msg.id);
        settle?.(msg.metrics);
        break;
      }
      case 'draining':
        if (this.state === 'starting' || this.state === 'ready') {
          this.drainReason = 'signal';
          this.setState('draining');
          this.after(this.timeouts.killTimeoutMs, () => this.killLate());
          this.emit('self-drain');
        }
        this.emit('closed');
        break;
      case 'listen-error':
        this.emit('listen-error', msg.message);
        break;
      case 'connection-ack':
        this.emit('connection-ack', msg.id, msg.accepted);
        break;
      case 'drained':
        this.stats = msg.stats;
        // By now node:cluster here has handled the worker's server close (it was sent before the ack), so no
        // connection goes to it any more: let it exit (see the 'exit' message in the protocol).
        this.send({ type: 'exit' });
        break;
    }
  }

  /** The app's own prom-client metrics (JSON), null when it has none, cannot answer, or misses the deadline. */
  appMetrics(timeoutMs: number): Promise<unknown[] | null> {
    if (!this.drainsItself || !this.worker.isConnected()) return Promise.resolve(null);
    const id = ++this.nextMetricsId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (metrics: unknown[] | null) => {
        clearTimeout(timer);
        this.metricsWaiters.delete(id);
        resolve(metrics);
      };
      this.metricsWaiters.set(id, settle);
      this.send({ type: 'metrics', id });
    });
  }

  private onLoad(requests: number, load: WorkerLoad): void {
    const at = Date.now();
    const last = this.lastBeat;
    this.lastBeat = { at, requests, cpuMicros: load.cpuMicros };
    if (!last || at <= last.at) return;
    const seconds = (at - last.at) / 1000;
    this.load = {
      rssBytes: load.rssBytes,
      heapUsedBytes: load.heapUsedBytes,
      cpuPercent: Math.max(0, (load.cpuMicros - last.cpuMicros) / 1e6 / seconds) * 100,
      requestsPerSecond: Math.max(0, requests - last.requests) / seconds,
      elu: load.elu,
      lagMs: load.lagMs,
    };
  }

  private setState(to: WorkerState): void {
    const next = transition(this.state, to);
    if (!next) return;
    const from = this.state;
    this.state = next;
    this.emit('state', from, next);
  }

  private pipeLines(stream: Readable | null | undefined, name: OutputStream): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(name, line);
    });
    stream.on('end', () => {
      if (partial) this.line(name, partial);
      partial = '';
    });
  }

  private line(stream: OutputStream, line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (this.held) this.held.push([stream, line]);
    else this.emit('line', stream, line);
  }
}
