import { DRAIN_KIND_NAMES } from '@supervise/worker-sdk/protocol';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { balancesSharedSocket } from '../accept/balance.js';
import type { Supervisor, WorkerInfo } from '../master/supervisor.js';
import type { ExitInfo } from '../worker/worker-process.js';
import type { WorkerState } from '../worker/state.js';
import { registerOutcomeMetrics } from './outcome-metrics.js';

const STATES: readonly WorkerState[] = ['starting', 'ready', 'draining', 'exited'];
/** How long a scrape waits for a worker's own metrics: a busy worker answers late, a hung one never. */
const APP_METRICS_TIMEOUT_MS = 1_000;

/**
 * Why a worker that served left, for supervise_worker_restarts_total; null when nothing replaces it (a stop,
 * a scale-down). A worker that never became ready counts as a boot failure, whatever ended it.
 */
export function restartReason(info: ExitInfo): string | null {
  if (info.reason === 'stop' || info.reason === 'scale' || info.reason === 'master-lost') return null;
  if (!info.served) return 'boot-failure';
  if (!info.intended) return 'crash';
  if (info.reason === null) return info.killed ? 'watchdog' : 'crash';
  return info.reason; // rollout, recycle, signal
}

/**
 * A rollout's trigger as a label: its kinds only (`watch: src/a.js` is `watch`), so that the series do not
 * grow with file names; requests merged into one rollout read `SIGHUP+watch`.
 */
export function triggerLabel(trigger: string): string {
  // A watch trigger names its files after a colon, with commas of its own: only the other kinds come before it.
  const watch = trigger.indexOf('watch:');
  const others = (watch === -1 ? trigger : trigger.slice(0, watch))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const kinds = new Set([...others, ...(watch === -1 ? [] : ['watch'])]);
  return [...kinds].sort().join('+') || 'api';
}

/** The worker that speaks for a slot in per-slot gauges: the ready one of the newest generation. */
function bySlot(workers: WorkerInfo[]): WorkerInfo[] {
  const best = new Map<number, WorkerInfo>();
  for (const w of workers) {
    if (w.state !== 'ready') continue;
    const seen = best.get(w.slot);
    if (!seen || w.generation > seen.generation) best.set(w.slot, w);
  }
  return [...best.values()].sort((a, b) => a.slot - b.slot);
}

/**
 * The master's /metrics (on the health port), in Prometheus' text format: the cluster as the master sees it
 * (workers by state, rollouts, restarts, drains, each slot's load from its heartbeats), the master's own
 * CPU and memory (supervise_master_*), and the app's own prom-client metrics summed over the
 * workers the way prom-client's AggregatorRegistry does (each metric's `aggregator` honoured).
 */
export class MasterMetrics {
  readonly registry = new Registry();
  private readonly requests = { total: 0, last: new Map<number, number>() };
  /** The workers as one scrape sees them: taken once per scrape, read by every metric's collect(). */
  private snapshot: WorkerInfo[] | null = null;

  constructor(private readonly supervisor: Supervisor) {
    const registers = [this.registry];
    // The master's own figures, named apart from the process_* and nodejs_* the app's workers may report (summed
    // below); prom-client's default set would also start an event-loop monitor timer in the master.
    new Counter({
      name: 'supervise_master_cpu_seconds_total',
      help: 'CPU time of the master process (user + system).',
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        this.reset();
        this.inc((user + system) / 1e6);
      },
    });
    new Gauge({
      name: 'supervise_master_resident_memory_bytes',
      help: 'Resident memory of the master process.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'supervise_master_heap_used_bytes',
      help: 'V8 heap in use in the master process.',
      registers,
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
    const status = () => this.snapshot ?? supervisor.status();

    new Gauge({
      name: 'supervise_workers',
      help: 'Worker processes by state (starting, ready, draining).',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(STATES.filter((s) => s !== 'exited').map((s) => [s, 0]));
        for (const w of status()) if (counts.has(w.state)) counts.set(w.state, counts.get(w.state)! + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'supervise_workers_desired',
      help: 'Worker slots the master keeps filled.',
      registers,
      collect() {
        this.set(supervisor.options.workers);
      },
    });
    new Gauge({
      name: 'supervise_generation',
      help: 'The current generation (1 at the start, one more per rollout).',
      registers,
      collect() {
        this.set(supervisor.generation);
      },
    });

    const rollouts = new Counter({
      name: 'supervise_rollouts_total',
      help: 'Rollouts by trigger and outcome.',
      labelNames: ['trigger', 'outcome'],
      registers,
    });
    const rolloutSeconds = new Histogram({
      name: 'supervise_rollout_duration_seconds',
      help: 'From the start of a rollout until every slot has a new ready worker.',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    });
    const onRollout = (summary: { trigger: string; outcome: string; durationMs: number }) => {
      rollouts.inc({ trigger: triggerLabel(summary.trigger), outcome: summary.outcome });
      rolloutSeconds.observe(summary.durationMs / 1000);
    };
    supervisor.on('rollout:done', onRollout);
    supervisor.on('rollout:rolled-back', onRollout);

    const restarts = new Counter({
      name: 'supervise_worker_restarts_total',
      help: 'Workers that left and were replaced, by reason.',
      labelNames: ['reason'],
      registers,
    });
    const drainSeconds = new Histogram({
      name: 'supervise_drain_duration_seconds',
      help: 'How long a worker took to drain, as its drain reported it.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    const forced = new Counter({
      name: 'supervise_drain_forced_connections_total',
      help: 'Connections destroyed at a drain deadline, by kind.',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of DRAIN_KIND_NAMES) forced.inc({ kind }, 0);
    const killed = new Counter({
      name: 'supervise_workers_killed_total',
      help: 'Workers SIGKILLed (kill timeout, hung, failed boot).',
      registers,
    });
    supervisor.on('worker:exit', (w, info) => {
      const reason = restartReason(info);
      if (reason) restarts.inc({ reason });
      if (info.killed) killed.inc();
      if (info.stats) {
        drainSeconds.observe(info.stats.durationMs / 1000);
        for (const kind of DRAIN_KIND_NAMES)
          if (info.stats.forcedKinds[kind] > 0) forced.inc({ kind }, info.stats.forcedKinds[kind]);
      }
      this.countRequests(w);
      this.requests.last.delete(w.id);
    });

    registerOutcomeMetrics(this.registry, supervisor);
    const requests = this.requests;
    const self = this;
    new Counter({
      name: 'supervise_requests_total',
      help: 'HTTP requests the workers completed, as their heartbeats count them.',
      registers,
      collect() {
        for (const w of status()) self.countRequests(w);
        this.reset();
        this.inc(requests.total);
      },
    });

    if (balancesSharedSocket(supervisor.options)) {
      new Counter({
        name: 'supervise_balance_moved_connections_total',
        help: '--accept shared: keep-alive connections the balancer asked a worker to move.',
        registers,
        collect() {
          this.reset();
          this.inc(supervisor.balancer?.moved ?? 0);
        },
      });
    }

    const sticky = () => supervisor.stickyListener;
    if (supervisor.options.sticky) {
      new Counter({
        name: 'supervise_sticky_handovers_total',
        help: '--sticky: connections the master handed to a worker.',
        registers,
        collect() {
          this.reset();
          this.inc(sticky()?.handed ?? 0);
        },
      });
      new Counter({
        name: 'supervise_sticky_rerouted_total',
        help: '--sticky: connections a worker gave back (draining, gone) that went to another.',
        registers,
        collect() {
          this.reset();
          this.inc(sticky()?.rerouted ?? 0);
        },
      });
      new Counter({
        name: 'supervise_sticky_dropped_total',
        help: '--sticky: connections closed with no worker to take them in time.',
        registers,
        collect() {
          this.reset();
          this.inc(sticky()?.dropped ?? 0);
        },
      });
      new Gauge({
        name: 'supervise_sticky_waiting_connections',
        help: '--sticky: connections waiting for a serving worker.',
        registers,
        collect() {
          this.set(sticky()?.waitingCount ?? 0);
        },
      });
    }

    new Gauge({
      name: 'supervise_worker_info',
      help: 'Every live worker (value 1), with the Node version it runs on and the release directory it runs in.',
      labelNames: ['slot', 'pid', 'generation', 'state', 'node', 'release'],
      registers,
      collect() {
        this.reset();
        for (const w of status()) {
          const { slot, pid, generation, state } = w;
          const labels = { slot, pid, generation, state, node: w.node ?? '', release: w.release ?? '' };
          this.set(Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])), 1);
        }
      },
    });

    const perSlot = (name: string, help: string, value: (w: WorkerInfo) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['slot'],
        registers,
        collect() {
          this.reset();
          for (const w of bySlot(status())) {
            const v = value(w);
            if (v !== null) this.set({ slot: String(w.slot) }, v);
          }
        },
      });
    perSlot(
      'supervise_worker_resident_memory_bytes',
      "The slot's serving worker: resident memory.",
      (w) => w.load?.rssBytes ?? null,
    );
    perSlot(
      'supervise_worker_heap_used_bytes',
      "The slot's serving worker: V8 heap in use.",
      (w) => w.load?.heapUsedBytes ?? null,
    );
    perSlot(
      'supervise_worker_cpu_ratio',
      "The slot's serving worker: CPU use over the last heartbeat, 1 = one core.",
      (w) => (w.load ? w.load.cpuPercent / 100 : null),
    );
    perSlot(
      'supervise_worker_event_loop_lag_seconds',
      "The slot's serving worker: how late its heartbeat timer fired.",
      (w) => (w.load ? w.load.lagMs / 1000 : null),
    );
    perSlot(
      'supervise_worker_event_loop_utilization_ratio',
      "The slot's serving worker: event-loop utilization, 0 to 1.",
      (w) => w.load?.elu ?? null,
    );
    perSlot('supervise_worker_requests_in_flight', "The slot's serving worker: requests in flight.", (w) => w.inFlight);
    perSlot(
      'supervise_worker_uptime_seconds',
      "The slot's serving worker: seconds since it was forked.",
      (w) => w.uptimeMs / 1000,
    );
  }

  /** Adds what a worker completed since it was last counted: the cluster's total only grows. */
  private countRequests(w: WorkerInfo): void {
    const before = this.requests.last.get(w.id) ?? 0;
    if (w.requests > before) {
      this.requests.total += w.requests - before;
      this.requests.last.set(w.id, w.requests);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: the master's metrics, then the app's, summed over the ready workers. */
  async text(): Promise<string> {
    this.snapshot = this.supervisor.status();
    try {
      const [own, app] = await Promise.all([this.registry.metrics(), this.appText()]);
      return app ? `${own}\n${app}` : own;
    } finally {
      this.snapshot = null;
    }
  }

  private async appText(): Promise<string> {
    const workers = this.supervisor.liveWorkers().filter((w) => w.state === 'ready');
    const lists = await Promise.all(workers.map((w) => w.appMetrics(APP_METRICS_TIMEOUT_MS)));
    const present = lists.filter((l): l is unknown[] => Array.isArray(l) && l.length > 0);
    if (present.length === 0) return '';
    // The supervise_ names are the master's: an app metric by such a name would make the output ambiguous.
    const named = (m: unknown): m is { name: string } => typeof (m as { name?: unknown } | null)?.name === 'string';
    const own = present.map((list) => list.filter((m) => named(m) && !m.name.startsWith('supervise_')));
    try {
      return await AggregatorRegistry.aggregate(own as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
    } catch (err) {
      return `# supervise: the workers' metrics could not be aggregated: ${String(err).replace(/\s+/g, ' ')}\n`;
    }
  }
}
