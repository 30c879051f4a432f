import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';

import {
  type DebugAnswer,
  type DebugRequest,
  type DrainReason,
  type DrainStats,
  isWorkerMessage,
  type MasterMessage,
  type MessageBody,
  type Outcomes,
  receiveMessages,
  Requests,
  sendMessage,
  PROTOCOL_VERSION,
  unhandled,
  type WorkerMessage,
} from '@supervise/worker-sdk/protocol';

import { listenUrl } from '../observe/text.js';
import { type LoadView, LoadRates } from './load.js';
import { OutputLines } from './output-lines.js';
import type { ExitInfo, WorkerProcessEvents, WorkerTimeouts } from './worker-events.js';
import { type ListenedAddress, lostSinceReady, type ReadyRule, ruleMet, waitReady } from './readiness.js';
import { transition, type WorkerFailure, type WorkerState } from './state.js';

type Address = Parameters<typeof listenUrl>[0];

export type { LoadView } from './load.js';
export type { OutputStream } from './output-lines.js';

export type { ExitInfo, WorkerProcessEvents, WorkerTimeouts } from './worker-events.js';

/**
 * One worker process, master side: fork, readiness, drain, kill, and its state (events: WorkerProcessEvents).
 * Node's cluster forgets a worker once it is disconnected; this is our own reference until the process exits.
 */
export class WorkerProcess extends EventEmitter<WorkerProcessEvents> {
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
  /** What its requests came to, from its last heartbeat (null: none yet, or its engine does not count). */
  outcomes: Outcomes | null = null;
  /** From the heartbeats; null until two have arrived (the rates need an interval). */
  private readonly rates = new LoadRates();
  private readonly metricsRequests = new Requests<unknown[] | null>(null);
  private readonly debugRequests = new Requests<DebugAnswer>({ ok: false, error: 'the worker did not answer' });
  /**
   * The directory the worker runs in (a release, where the logical cwd led at the fork): the master's resolution
   * at the fork, replaced by the worker's own answer in its hello.
   */
  release: string | null = null;
  /** The worker's Node version (its hello; null without the SDK or the preload). */
  nodeVersion: string | null = null;
  drainReason: DrainReason | null = null;
  exitInfo: ExitInfo | null = null;
  /** Where the worker's servers listen (`http://127.0.0.1:3000`), as node:cluster reports them. */
  readonly listeningOn: string[] = [];
  /** SIGKILLed because it outlived the kill timeout (rather than killed at once on purpose). */
  timedOut = false;
  readonly exited: Promise<ExitInfo>;

  private intended = false;
  /** What the master sent it: an exit by one of these is not one it died of by itself. */
  private readonly signalsSent = new Set<string>();
  private killed = false;
  private stats: DrainStats | null = null;
  private readonly output = new OutputLines((stream, line) => this.emit('line', stream, line));
  private readonly timers: NodeJS.Timeout[] = [];

  /** `worker` was forked by forkWorker (spawn.ts): its process exists and has a pid. */
  constructor(
    readonly slot: number,
    readonly generation: number,
    worker: Worker,
    private readonly timeouts: WorkerTimeouts,
  ) {
    super();
    this.worker = worker;
    const pid = worker.process.pid;
    if (pid === undefined) throw new Error('WorkerProcess needs a started process');
    this.pid = pid;
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
        const byItself = (code !== null && code !== 0) || (signal !== null && !this.signalsSent.has(signal));
        const info: ExitInfo = {
          code,
          signal,
          intended: this.intended,
          killed: this.killed,
          stats: this.stats,
          reason: this.drainReason,
          served: this.readyAt !== null,
          died: this.intended && !this.killed && this.stats === null && byItself,
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
      this.listened.push({ port: address.port, url });
      // An app with several servers is ready once its main one listens (see readiness.ts), not at the first.
      if (!this.manualReady && ruleMet(this.readyRule, this.listened)) this.markReady();
    });
    receiveMessages(
      this.worker,
      isWorkerMessage,
      (msg) => this.onMessage(msg),
      (version) => this.onForeignVersion(version),
    );
    this.output.pipe(this.worker.process.stdout, 'stdout');
    this.output.pipe(this.worker.process.stderr, 'stderr');
  }

  /** From the heartbeats; null until two have arrived (the rates need an interval). */
  get load(): LoadView | null {
    return this.rates.view;
  }

  get id(): number {
    return this.worker.id;
  }

  /** See OutputLines.hold(): for a worker started after a boot failure. */
  holdOutput(): void {
    this.output.hold();
  }

  releaseOutput(): void {
    this.output.release();
  }

  discardOutput(): void {
    this.output.discard();
  }

  /** The last lines the worker printed (both streams): what a crash report shows. */
  get lastLines(): string[] {
    return this.output.last;
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
    return waitReady(this, timeoutMs);
  }

  /** Why a worker that was ready is no longer fit to take a slot; null while it is alive and ready. */
  lostSinceReady(): WorkerFailure | null {
    return lostSinceReady(this);
  }

  /**
   * What makes it ready when the app does not say so itself (the SDK's ready()): the ports it must listen on.
   * Set by the master right after the fork, before any listen can be reported.
   */
  readyRule: ReadyRule | null = null;
  /** Every address it listens on, as node:cluster reports them. */
  readonly listened: ListenedAddress[] = [];

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

  /** Relays a signal over IPC; the SDK turns it into an onSignal() event. False: no SDK engine here to hear it. */
  forwardSignal(signal: NodeJS.Signals): boolean {
    if (!this.drainsItself || this.state === 'exited') return false;
    this.send({ type: 'signal', signal });
    return true;
  }

  private signal(sig: NodeJS.Signals): void {
    this.signalsSent.add(sig);
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
        if (typeof msg.node === 'string') this.nodeVersion = msg.node;
        if (typeof msg.cwd === 'string') this.release = msg.cwd;
        break;
      case 'ready':
        this.markReady();
        break;
      case 'heartbeat':
        this.requests = msg.requests;
        this.inFlight = msg.inFlight;
        if (msg.outcomes) this.outcomes = msg.outcomes;
        if (msg.load) this.rates.beat(msg.requests, msg.load);
        this.emit('heartbeat');
        break;
      case 'connections':
        this.connections = msg.count;
        this.upgraded = msg.upgraded;
        break;
      case 'metrics':
        this.metricsRequests.answer(msg.id, msg.metrics);
        break;
      case 'debug':
        this.debugRequests.answer(msg.id, msg.answer);
        break;
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
        this.emit('connection-ack', msg.id, msg.accepted, msg.rest);
        break;
      case 'drained':
        this.stats = msg.stats;
        // By now node:cluster here has handled the worker's server close (it was sent before the ack), so no
        // connection goes to it any more: let it exit (see the 'exit' message in the protocol).
        this.send({ type: 'exit' });
        break;
      default:
        unhandled(msg);
    }
  }

  /** The app's own prom-client metrics (JSON), null when it has none, cannot answer, or misses the deadline. */
  appMetrics(timeoutMs: number): Promise<unknown[] | null> {
    if (!this.drainsItself || !this.worker.isConnected()) return Promise.resolve(null);
    return this.metricsRequests.send<MasterMessage>(this.worker, { type: 'metrics' }, { timeoutMs });
  }

  /** A debugging action in this worker (debug.ts of the SDK); a worker that cannot answer in time: not ok. */
  debug(request: DebugRequest, timeoutMs: number): Promise<DebugAnswer> {
    return this.debugRequests.send<MasterMessage>(this.worker, { type: 'debug', request }, { timeoutMs });
  }

  private setState(to: WorkerState): void {
    const next = transition(this.state, to);
    if (!next) return;
    const from = this.state;
    this.state = next;
    this.emit('state', from, next);
  }
}
