import cluster from 'node:cluster';
import { constants } from 'node:os';

import { CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART, type IdleRule, parseIdleRule } from './drain/connections.js';
import { DEFAULT_IDLE_RULE, DrainEngine } from './drain/engine.js';
import { appMetrics } from './app-metrics.js';
import { connectionCounts, shed } from './drain/balance.js';
import { attachDebug } from './debug.js';
import { attachHandover } from './handover.js';
import {
  type DrainReason,
  type DrainStats,
  CONNECTIONS_REPORT_MS,
  ENV,
  isMasterMessage,
  PROTOCOL_VERSION,
  type MasterMessage,
  type MessageBody,
  receiveMessages,
  sendMessage,
  unhandled,
  type WorkerLoad,
  type WorkerMessage,
} from './protocol.js';

/** The drain settings of one process, read once from the master's environment or the SDK's init(). */
export interface RuntimeSettings {
  drainTimeoutMs: number;
  idleGraceMs: IdleRule;
  hookTimeoutMs: number;
}

export type SignalHandler = (signal: NodeJS.Signals) => void;

/** What the runtime uses of its process: its IPC channel, environment, signals and exit (a test's fake). */
export type RuntimeProcess = Pick<
  NodeJS.Process,
  'send' | 'connected' | 'env' | 'on' | 'exit' | 'pid' | 'version' | 'cwd' | 'stdout' | 'stderr'
>;

const DEFAULT_STANDALONE_DRAIN_MS = 25_000;
const DEFAULT_HOOK_TIMEOUT_MS = 5_000;

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * One per process, shared through a global symbol so that the preload the master injects and the SDK the app
 * imports (even a second copy of it) attach the same engine: the first to arrive wires the process, the SDK
 * then takes over what only it can do (manual readiness, HTTP/2 GOAWAY, hooks) and the preload stays passive.
 */
export class Runtime {
  readonly engine = new DrainEngine();
  /** True when this process is a worker of a supervise master (IPC present and the master's variable set). */
  readonly supervised: boolean;
  readonly settings: RuntimeSettings;

  private wired = false;
  private mode: 'preload' | 'sdk' | null = null;
  private manualReady = false;
  private readySent = false;
  private exiting = false;
  /** Set once the drain is acked: exits when the master says so (or the master is gone). */
  private exitNow: (() => void) | null = null;
  private readonly signalHandlers = new Map<NodeJS.Signals, Set<SignalHandler>>();

  constructor(private readonly proc: RuntimeProcess = process) {
    this.supervised = typeof proc.send === 'function' && proc.env[ENV.worker] !== undefined;
    this.settings = {
      drainTimeoutMs: envNumber(proc.env, ENV.drainTimeout) ?? DEFAULT_STANDALONE_DRAIN_MS,
      idleGraceMs: parseIdleRule(proc.env[ENV.idleGrace]) ?? DEFAULT_IDLE_RULE,
      hookTimeoutMs: DEFAULT_HOOK_TIMEOUT_MS,
    };
  }

  /** Called by the preload: only inside a supervised worker, and only when auto-drain is on. */
  attachPreload(): void {
    if (!this.supervised || this.mode) return;
    this.mode = 'preload';
    this.wire();
    this.send({ type: 'hello', mode: 'preload', manualReady: false, pid: this.proc.pid, ...whereAndWhat(this.proc) });
  }

  /** Called by the SDK on first use. Announces the SDK to the master (again, if the preload came first). */
  attachSdk(options: { manualReady?: boolean; handleSignals?: boolean }): void {
    if (options.manualReady !== undefined) this.manualReady = options.manualReady;
    const first = this.mode !== 'sdk';
    this.mode = 'sdk';
    if (!this.wired) this.wire(options.handleSignals !== false);
    if (first || options.manualReady !== undefined) {
      this.send({
        type: 'hello',
        mode: 'sdk',
        manualReady: this.manualReady,
        pid: this.proc.pid,
        ...whereAndWhat(this.proc),
      });
    }
  }

  ready(): void {
    if (this.readySent) return;
    this.readySent = true;
    this.send({ type: 'ready' });
  }

  onSignal(signal: NodeJS.Signals, handler: SignalHandler): () => void {
    let set = this.signalHandlers.get(signal);
    if (!set) this.signalHandlers.set(signal, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Drains, acks to the master when there is one, and exits: 0 when nothing had to be forced, 1 otherwise. */
  async drainAndExit(reason: DrainReason, deadlineMs = this.settings.drainTimeoutMs): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    const drained = this.engine.drain({
      deadlineMs,
      idleGraceMs: this.settings.idleGraceMs,
      closeCode: this.closeCodeFor(reason),
    });
    // drain() closed the servers before its first wait: say so. When the master did not ask, this is its
    // cue to start a replacement; when it did, the moment no new connection can reach this worker.
    this.send({ type: 'draining' });
    const stats = await drained;
    const code = stats.forced > 0 || stats.hookFailures > 0 ? 1 : 0;
    if (!this.supervised) reportStandalone(this.proc, reason, stats);
    const exit = () => this.proc.exit(code);
    if (this.supervised && this.proc.connected) {
      // Exit when the master answers the ack (see the 'exit' message), not when the ack is written: a
      // connection the master handed over just before it saw this worker close its servers is still on
      // its way, and leaving now would drop it. The timer covers a master that never answers.
      this.exitNow = exit;
      sendMessage<WorkerMessage>(this.proc, { type: 'drained', stats }, { done: (err) => err && exit() });
      setTimeout(exit, 1000).unref();
    } else {
      exit();
    }
  }

  /**
   * 1012 (service restart) when the service goes on without this process, so clients reconnect at once to a
   * worker that serves; 1001 (going away) when the service itself stops.
   */
  private closeCodeFor(reason: DrainReason): number {
    if (!this.supervised || reason === 'stop' || reason === 'master-lost') return CLOSE_GOING_AWAY;
    return CLOSE_SERVICE_RESTART;
  }

  private send(body: MessageBody<WorkerMessage>): void {
    if (this.supervised) sendMessage<WorkerMessage>(this.proc, body);
  }

  private wire(handleSignals = true): void {
    this.wired = true;
    if (process.env[ENV.outcomes] === '0') this.engine.outcomes = null;
    this.engine.enable();
    if (this.supervised) this.wireSupervised();
    else if (handleSignals) this.wireStandalone();
  }

  private wireSupervised(): void {
    attachHandover(this.engine);
    attachDebug();
    this.engine.onListenError = (err) =>
      this.send({ type: 'listen-error', code: err.code ?? 'ERR', message: err.message });
    const masterVersion = Number(this.proc.env[ENV.worker]);
    if (masterVersion !== PROTOCOL_VERSION) {
      this.proc.stderr.write(
        `[supervise] this @supervise/worker-sdk speaks protocol ${PROTOCOL_VERSION}, its master ${this.proc.env[ENV.worker]}: ` +
          'use the worker SDK of the same release as @supervise/supervisor\n',
      );
    }
    // A master of another protocol version names the mismatch from our hello: nothing to do here.
    receiveMessages(this.proc, isMasterMessage, (msg) => this.onMasterMessage(msg));

    // Node's cluster child exits with code 0 the instant the IPC channel drops, killing every request in
    // flight. Marking the exit as intended disarms that; our own listener drains, then exits.
    if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
    this.proc.on('disconnect', () => {
      // The master held the other end of stdout/stderr: a log line written now would raise EPIPE and crash
      // the worker with its requests in flight.
      this.proc.stdout.on('error', () => {});
      this.proc.stderr.on('error', () => {});
      if (this.exitNow) this.exitNow();
      else void this.drainAndExit('master-lost');
    });

    // Ctrl+C and `kill -- -PGID` reach every process of the group at once: the master decides, not the worker.
    this.proc.on('SIGINT', () => {});
    this.proc.on('SIGHUP', () => {});
    // A SIGTERM aimed at this worker alone means "take it out": drain it like the master would.
    this.proc.on('SIGTERM', () => void this.drainAndExit('signal'));

    if (this.proc.env[ENV.balance] === '1') this.reportConnections();
    const heartbeatMs = envNumber(this.proc.env, ENV.heartbeat) ?? 0;
    if (heartbeatMs > 0) {
      let lastElu = performance.eventLoopUtilization();
      let dueAt = performance.now() + heartbeatMs;
      const beat = setInterval(() => {
        const now = performance.now();
        const elu = performance.eventLoopUtilization();
        const memory = process.memoryUsage();
        const cpu = process.cpuUsage();
        const load: WorkerLoad = {
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          cpuMicros: cpu.user + cpu.system,
          elu: performance.eventLoopUtilization(elu, lastElu).utilization,
          lagMs: Math.max(0, now - dueAt),
        };
        lastElu = elu;
        dueAt = now + heartbeatMs;
        this.send({
          type: 'heartbeat',
          requests: this.engine.requestsTotal,
          inFlight: this.engine.inFlight,
          load,
          ...(this.engine.outcomes ? { outcomes: this.engine.outcomes.read() } : {}),
        });
      }, heartbeatMs);
      beat.unref();
    }
  }

  /**
   * For the master's balancer (--accept shared): the counts of movable keep-alive and upgraded connections, when
   * they changed.
   * A walk over the connections every CONNECTIONS_REPORT_MS, not a hook on each: the hot path stays untouched,
   * and a burst of 50 connections is one message, not 50.
   */
  private reportConnections(): void {
    let last = '';
    const timer = setInterval(() => {
      const { movable, upgraded } = connectionCounts(this.engine.connections);
      const key = `${movable}/${upgraded}`;
      if (key === last) return;
      last = key;
      this.send({ type: 'connections', count: movable, upgraded });
    }, CONNECTIONS_REPORT_MS);
    timer.unref();
  }

  private wireStandalone(): void {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        // A second signal means "now": the conventional 128 + signal number.
        this.proc.exit(128 + constants.signals[signal]);
      }
      void this.drainAndExit('signal');
    };
    this.proc.on('SIGTERM', onSignal);
    this.proc.on('SIGINT', onSignal);
  }

  private onMasterMessage(msg: MasterMessage): void {
    switch (msg.type) {
      case 'drain':
        void this.drainAndExit(msg.reason, msg.deadlineMs);
        break;
      case 'signal':
        for (const handler of this.signalHandlers.get(msg.signal) ?? []) handler(msg.signal);
        break;
      case 'exit':
        this.exitNow?.();
        break;
      case 'shed':
        shed(this.engine.connections, msg.count);
        break;
      case 'metrics': {
        const { id } = msg;
        appMetrics().then(
          (metrics) => this.send({ type: 'metrics', id, metrics }),
          (err: unknown) => this.send({ type: 'metrics', id, metrics: null, error: String(err) }),
        );
        break;
      }
      case 'connection':
        // handover.ts receives handed-over connections (--sticky), with their socket.
        break;
      case 'debug':
        // debug.ts answers these (attached by the preload, and by wireSupervised for an SDK loaded alone).
        break;
      default:
        unhandled(msg);
    }
  }
}

function reportStandalone(proc: RuntimeProcess, reason: DrainReason, stats: DrainStats): void {
  const forced = stats.forced > 0 ? `, ${stats.forced} forced` : '';
  proc.stderr.write(
    `[supervise] drained on ${reason} in ${stats.durationMs} ms: ${stats.requestsCompleted} requests completed, ` +
      `${stats.finished} connections finished, ${stats.closedIdle} idle closed${forced}\n`,
  );
}

// Two copies of the SDK that speak the same protocol share one runtime; a copy that speaks another keeps its own.
/** What the hello tells the master besides the mode: this Node's version, and the directory the worker runs in. */
function whereAndWhat(proc: RuntimeProcess): { node: string; cwd?: string } {
  try {
    return { node: proc.version, cwd: proc.cwd() };
  } catch {
    // The directory was deleted under us: the version still helps.
    return { node: proc.version };
  }
}

const KEY = Symbol.for(`supervise.runtime.v${PROTOCOL_VERSION}`);

export function getRuntime(): Runtime {
  const holder = globalThis as unknown as Record<symbol, Runtime | undefined>;
  return (holder[KEY] ??= new Runtime());
}
