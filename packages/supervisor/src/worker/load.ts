import type { WorkerLoad } from '@supervise/worker-sdk/protocol';

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

/** The rates between two heartbeats: CPU and requests per second, from the counters each beat carries. */
export class LoadRates {
  view: LoadView | null = null;
  private last: { at: number; requests: number; cpuMicros: number } | null = null;

  beat(requests: number, load: WorkerLoad): void {
    const at = Date.now();
    const last = this.last;
    this.last = { at, requests, cpuMicros: load.cpuMicros };
    if (!last || at <= last.at) return;
    const seconds = (at - last.at) / 1000;
    this.view = {
      rssBytes: load.rssBytes,
      heapUsedBytes: load.heapUsedBytes,
      cpuPercent: Math.max(0, (load.cpuMicros - last.cpuMicros) / 1e6 / seconds) * 100,
      requestsPerSecond: Math.max(0, requests - last.requests) / seconds,
      elu: load.elu,
      lagMs: load.lagMs,
    };
  }
}
