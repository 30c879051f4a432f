import { WorkerFailure, type WorkerState } from './state.js';
import type { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';

import type { ExitInfo, WorkerProcessEvents } from './worker-events.js';

/** What readiness reads of a worker: a WorkerProcess, named by its shape so that this module does not import it. */
type WorkerProcess = EventEmitter<WorkerProcessEvents> & {
  readonly pid: number;
  readonly state: WorkerState;
  readonly lastLines: string[];
  readonly listened: readonly ListenedAddress[];
  readonly manualReady: boolean;
  readonly readyRule: ReadyRule | null;
  readonly protocolError: string | null;
  readonly exitInfo: ExitInfo | null;
  readonly worker: Worker;
};

/**
 * When a worker is ready: when the app says so (the SDK's ready()), or else when its main server listens. Node
 * starts handing a worker connections for a port as soon as it listens there, and a rollout retires the old
 * worker once the new one is ready: an app that opens a metrics server before its main one would be "ready"
 * with its main port still closed, and with one worker that port would refuse connections until it opens. So
 * readiness waits for the ports that matter, in this order of what the master knows:
 *
 *   1. --ready-on <port>: the user named it;
 *   2. every address the slot's previous worker listened on (a rollout, a restart): the new one serves the same;
 *   3. PORT in the worker's environment (the first start; not with --sticky, whose own check names an app that
 *      ignores PORT);
 *   4. none known: the first server that listens.
 */
export interface ReadyRule {
  /** TCP ports it must listen on. */
  ports: number[];
  /** Addresses (listenUrl) it must listen on. */
  urls: string[];
  /** Where the rule comes from, for the message of a worker that never meets it. */
  why: string;
}

export interface ListenedAddress {
  port: number;
  url: string;
}

export function ruleMet(rule: ReadyRule | null, listened: readonly ListenedAddress[]): boolean {
  if (!rule) return listened.length > 0;
  return (
    rule.ports.every((p) => listened.some((l) => l.port === p)) &&
    rule.urls.every((u) => listened.some((l) => l.url === u))
  );
}

/** `: it listens on http://127.0.0.1:9100 but not on port 3000 (PORT); ...`, or '' when nothing is missing. */
function unmet(w: WorkerProcess): string {
  const rule = w.readyRule;
  if (!rule || w.manualReady || w.listened.length === 0) return '';
  const missing = [
    ...rule.ports.filter((p) => !w.listened.some((l) => l.port === p)).map((p) => `port ${p}`),
    ...rule.urls.filter((u) => !w.listened.some((l) => l.url === u)),
  ];
  if (missing.length === 0) return '';
  return (
    `: it listens on ${w.listened.map((l) => l.url).join(', ')} but not on ${missing.join(', ')} (${rule.why}); ` +
    '--ready-on <port> names the port that makes a worker ready'
  );
}

/** Resolves once ready; rejects with a WorkerFailure when it exits first or misses the deadline. */
export function waitReady(w: WorkerProcess, timeoutMs: number): Promise<void> {
  if (w.state === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      w.off('state', onState);
      w.off('listen-error', onListenError);
      w.off('protocol-mismatch', onMismatch);
    };
    const onMismatch = (text: string) => {
      cleanup();
      reject(new WorkerFailure('protocol', text, w.lastLines));
    };
    // The app swallowed its server's listen error: this worker would never serve.
    const onListenError = (message: string) => {
      cleanup();
      reject(new WorkerFailure('listen-error', `worker ${w.pid} could not listen: ${message}`, w.lastLines));
    };
    const onState = (_from: WorkerState, to: WorkerState) => {
      if (to === 'ready') {
        cleanup();
        resolve();
      } else if (to === 'exited' || to === 'draining') {
        cleanup();
        const info = w.exitInfo;
        const how = info?.signal ? `was killed by ${info.signal}` : `exited with code ${info?.code ?? '?'}`;
        reject(
          new WorkerFailure(
            info && info.code === 0 && !info.signal ? 'exited' : 'crashed',
            `worker ${w.pid} ${to === 'draining' ? 'began to drain' : how} before it was ready`,
            w.lastLines,
            info?.code ?? null,
            info?.signal ?? null,
          ),
        );
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new WorkerFailure(
          'ready-timeout',
          `worker ${w.pid} was not ready within ${timeoutMs} ms${unmet(w)}`,
          w.lastLines,
        ),
      );
    }, timeoutMs);
    w.on('state', onState);
    w.on('listen-error', onListenError);
    w.on('protocol-mismatch', onMismatch);
    if (w.protocolError) onMismatch(w.protocolError);
  });
}

/**
 * Why a worker that was ready is no longer fit to take a slot (it exited, its process died and the exit is
 * still being reported, or it began to drain by itself); null while it is alive and ready.
 */
export function lostSinceReady(w: WorkerProcess): WorkerFailure | null {
  if (w.state === 'ready' && !w.worker.isDead()) return null;
  const proc = w.worker.process;
  const code = w.exitInfo?.code ?? proc.exitCode;
  const signal = w.exitInfo?.signal ?? proc.signalCode;
  const alive = w.state !== 'exited' && !w.worker.isDead();
  const how = alive ? 'began to drain' : signal ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`;
  return new WorkerFailure(
    !alive && code === 0 && !signal ? 'exited' : 'crashed',
    `worker ${w.pid} ${how} after it was ready, before it took its slot`,
    w.lastLines,
    code ?? null,
    signal ?? null,
  );
}
