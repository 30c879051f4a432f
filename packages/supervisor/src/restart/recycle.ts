/**
 * Recycling: a worker past --max-memory (RSS), --max-requests or --max-age is replaced through the
 * zero-downtime path (a new worker first, then a drain of the old one), one worker at a time. The request
 * and age limits get a per-worker jitter of up to +10%, so that workers started together do not all come due
 * in the same minute.
 */
import { rssBytes } from '../observe/memory.js';
import type { ReplaceHost } from '../rollout/replace-host.js';
import type { WorkerProcess } from '../worker/worker-process.js';

export interface RecycleLimits {
  /** Bytes; 0 = off. */
  maxMemoryBytes: number;
  /** 0 = off. */
  maxRequests: number;
  /** 0 = off. */
  maxAgeMs: number;
}

export interface RecycleCandidate {
  requests: number;
  /** Since when the worker has been serving. */
  readyAt: number | null;
}

export type RecycleReason = 'max-memory' | 'max-requests' | 'max-age';

export interface RecycleVerdict {
  reason: RecycleReason;
  /** The measured value and the (jittered) limit it passed, in the reason's unit (MB, requests, ms). */
  value: number;
  limit: number;
}

const JITTER = 0.1;

/** A limit plus up to 10% more, drawn once per worker. */
export function jittered(limit: number, random: () => number = Math.random): number {
  return limit + Math.floor(random() * limit * JITTER);
}

/** Which limit a worker passed, if any: memory first (the most urgent), then requests, then age. */
export function recycleVerdict(
  w: RecycleCandidate,
  limits: RecycleLimits,
  rss: number | null,
  now: number,
  jitter: { requests: number; ageMs: number },
): RecycleVerdict | null {
  if (limits.maxMemoryBytes > 0 && rss !== null && rss > limits.maxMemoryBytes) {
    return { reason: 'max-memory', value: toMb(rss), limit: toMb(limits.maxMemoryBytes) };
  }
  if (limits.maxRequests > 0 && w.requests >= jitter.requests) {
    return { reason: 'max-requests', value: w.requests, limit: jitter.requests };
  }
  if (limits.maxAgeMs > 0 && w.readyAt !== null && now - w.readyAt >= jitter.ageMs) {
    return { reason: 'max-age', value: now - w.readyAt, limit: jitter.ageMs };
  }
  return null;
}

function toMb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** Sampling period: the heartbeat's (request counts arrive with it), within 50 ms .. 5 s. */
export function recycleInterval(heartbeatMs: number): number {
  return Math.max(50, Math.min(5000, heartbeatMs > 0 ? heartbeatMs : 1000));
}

/** Starts the recycler when any limit is set; it stops with the supervisor. Returns a stop function. */
export function startRecycler(supervisor: ReplaceHost): () => void {
  const o = supervisor.options;
  const limits: RecycleLimits = {
    maxMemoryBytes: o.maxMemoryMb * 1024 * 1024,
    maxRequests: o.maxRequests,
    maxAgeMs: o.maxAgeMs,
  };
  if (!limits.maxMemoryBytes && !limits.maxRequests && !limits.maxAgeMs) return () => {};
  const jitters = new WeakMap<WorkerProcess, { requests: number; ageMs: number }>();
  const jitterOf = (w: WorkerProcess) => {
    let j = jitters.get(w);
    if (!j) jitters.set(w, (j = { requests: jittered(limits.maxRequests), ageMs: jittered(limits.maxAgeMs) }));
    return j;
  };
  const interval = recycleInterval(o.heartbeatMs);
  // A worker whose replacement failed (the app on disk no longer boots) is not retried at every tick.
  const retryAt = new WeakMap<WorkerProcess, number>();
  const retryAfterMs = Math.max(5000, o.readyTimeoutMs);
  let busy = false;
  let stopped = false;
  let warnedNoCounts = false;

  const tick = async () => {
    // One at a time: the next candidate waits until the previous replacement is serving.
    if (busy || stopped || supervisor.phase !== 'running') return;
    busy = true;
    try {
      const serving = supervisor.liveWorkers().filter((w) => w.state === 'ready');
      const silent = serving.find(
        (w) => w.lastHeartbeat === null && Date.now() - (w.readyAt ?? Date.now()) > 3 * interval,
      );
      if (limits.maxRequests > 0 && silent && !warnedNoCounts) {
        warnedNoCounts = true;
        supervisor.log.warn(
          { event: 'recycle.no-counts', pid: silent.pid },
          `--max-requests: worker ${silent.pid} reports no request counts (no SDK and --no-auto-drain), so it is never recycled by count`,
        );
      }
      for (const w of serving) {
        const rss = limits.maxMemoryBytes > 0 ? await rssBytes(w.pid) : null;
        const verdict = recycleVerdict(w, limits, rss, Date.now(), jitterOf(w));
        if (!verdict || w.state !== 'ready' || stopped || (retryAt.get(w) ?? 0) > Date.now()) continue;
        const unit = verdict.reason === 'max-memory' ? ' MB' : verdict.reason === 'max-age' ? ' ms' : ' requests';
        const why = `${verdict.reason}: ${verdict.value}${unit} >= ${verdict.limit}${unit}`;
        supervisor.log.info(
          {
            event: 'worker.recycle',
            slot: w.slot,
            pid: w.pid,
            reason: verdict.reason,
            value: verdict.value,
            limit: verdict.limit,
          },
          `recycling worker ${w.pid} (slot ${w.slot}): ${why}`,
        );
        if (!(await supervisor.replace(w, `recycle (${why})`))) retryAt.set(w, Date.now() + retryAfterMs);
        break;
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), interval);
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  supervisor.once('stopping', stop);
  return stop;
}
