/**
 * The hung-worker watchdog. A worker's heartbeat is sent from its event loop (preload or SDK), so silence
 * means the loop is stuck: the worker can neither serve nor drain. It is taken out of round-robin at once,
 * replaced (the new worker first, so capacity comes back before the old one goes), then SIGKILLed.
 * Workers that never sent a heartbeat (no preload, --no-auto-drain) are not watched: silence means nothing there.
 */
import type { ReplaceHost } from '../rollout/replace-host.js';
import type { WorkerProcess } from '../worker/worker-process.js';

export interface Watched {
  state: string;
  lastHeartbeat: number | null;
}

/** Serving workers that have sent a heartbeat once and have been silent for `timeoutMs` or more. */
export function silentWorkers<W extends Watched>(workers: Iterable<W>, now: number, timeoutMs: number): W[] {
  const out: W[] = [];
  for (const w of workers) {
    if (w.state === 'ready' && w.lastHeartbeat !== null && now - w.lastHeartbeat >= timeoutMs) out.push(w);
  }
  return out;
}

/** How often to look: often enough that a hang is caught within about 1.25 x the timeout. */
export function watchdogInterval(timeoutMs: number): number {
  return Math.max(20, Math.min(1000, Math.floor(timeoutMs / 4)));
}

/** Starts the watchdog when --watchdog-timeout is set; it stops with the supervisor. Returns a stop function. */
export function startWatchdog(supervisor: ReplaceHost): () => void {
  const timeoutMs = supervisor.options.watchdogTimeoutMs;
  if (timeoutMs <= 0) return () => {};
  const interval = watchdogInterval(timeoutMs);
  const handling = new Set<WorkerProcess>();
  let last = Date.now();

  const check = () => {
    const now = Date.now();
    const lag = now - last - interval;
    last = now;
    // The master's own loop was stuck (a long GC, a suspended VM): heartbeats may sit unread in the pipes.
    // Judging the workers now would kill healthy ones; look again once the backlog is read.
    if (lag > timeoutMs / 2) return;
    for (const w of silentWorkers(supervisor.liveWorkers(), now, timeoutMs)) {
      if (handling.has(w)) continue;
      handling.add(w);
      const silentMs = now - (w.lastHeartbeat ?? now);
      supervisor.log.warn(
        { event: 'worker.hung', slot: w.slot, pid: w.pid, silentMs, timeoutMs },
        `worker ${w.pid} (slot ${w.slot}) sent no heartbeat for ${silentMs} ms: replacing it, then SIGKILL`,
      );
      w.leaveRoundRobin();
      void supervisor
        .replace(w, `watchdog: no heartbeat for ${silentMs} ms`, { kill: true })
        .then(() => {
          // Not a slot's serving worker (a rollout's, still waiting for its batch): nobody else will end it.
          if (w.state === 'ready') return w.kill();
        })
        .finally(() => handling.delete(w));
    }
  };
  const timer = setInterval(check, interval);
  timer.unref();
  const stop = () => clearInterval(timer);
  supervisor.once('stopping', stop);
  return stop;
}
