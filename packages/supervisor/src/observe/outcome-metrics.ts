import type { Outcomes } from '@supervise/worker-sdk/protocol';
import { LATENCY_BOUNDS_MS, sumOutcomes } from '@supervise/worker-sdk/outcomes';
import { Counter, type Metric, type Registry } from 'prom-client';

import type { Supervisor } from '../master/supervisor.js';
import type { WorkerProcess } from '../worker/worker-process.js';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The histogram's bounds /metrics shows, in seconds: Prometheus' defaults and a few finer ones, all R10 bounds. */
const EXPOSED_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Generations whose workers have all gone are kept this long (in generations): a series does not vanish at once. */
const KEEP_GENERATIONS = 5;

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * What every generation's workers' requests came to, from the outcome counts their heartbeats carry: the live
 * workers' last readings plus what the exited ones of the same generation had reached (so a series only
 * grows, as a counter must). A worker that lives and dies between two heartbeats is not seen.
 */
class ByGeneration {
  private readonly retired = new Map<number, Outcomes>();
  private readonly known = new Map<number, WorkerProcess>();

  constructor(private readonly supervisor: Supervisor) {
    supervisor.on('worker:forked', (info) => {
      const w = supervisor.liveWorkers().find((x) => x.pid === info.pid);
      if (w) this.known.set(w.pid, w);
    });
    supervisor.on('worker:exit', (info) => {
      const w = this.known.get(info.pid);
      this.known.delete(info.pid);
      if (!w?.outcomes) return;
      const before = this.retired.get(w.generation);
      this.retired.set(w.generation, before ? sumOutcomes([before, w.outcomes]) : w.outcomes);
    });
  }

  read(): Map<number, Outcomes> {
    const live = new Map<number, Outcomes[]>();
    for (const w of this.supervisor.liveWorkers()) {
      this.known.set(w.pid, w);
      if (w.outcomes) live.set(w.generation, [...(live.get(w.generation) ?? []), w.outcomes]);
    }
    const generations = [...new Set([...live.keys(), ...this.retired.keys()])].sort((a, b) => b - a);
    for (const g of generations.slice(KEEP_GENERATIONS)) if (!live.has(g)) this.retired.delete(g);
    const out = new Map<number, Outcomes>();
    for (const g of generations) {
      const parts = [...(live.get(g) ?? []), ...(this.retired.has(g) ? [this.retired.get(g)!] : [])];
      if (parts.length > 0) out.set(g, sumOutcomes(parts));
    }
    return out;
  }
}

/** A metric whose samples are computed at each scrape (prom-client's own kinds cannot take bucket counts). */
function computed(name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[]): Metric {
  const get = async () => ({ name, help, type, aggregator: 'sum', values: values() });
  return { name, help, type, get, reset() {} } as unknown as Metric;
}

function histogramSamples(generation: string, o: Outcomes): Sample[] {
  const name = 'supervise_http_request_duration_seconds';
  const samples: Sample[] = [];
  let cumulative = 0;
  let next = 0;
  for (const seconds of EXPOSED_SECONDS) {
    const upto = LATENCY_BOUNDS_MS.indexOf(seconds * 1000);
    for (; next <= upto; next++) cumulative += o.latency[next] ?? 0;
    samples.push({ metricName: `${name}_bucket`, labels: { generation, le: String(seconds) }, value: cumulative });
  }
  const count = o.latency.reduce((a, b) => a + b, 0);
  samples.push({ metricName: `${name}_bucket`, labels: { generation, le: '+Inf' }, value: count });
  samples.push({ metricName: `${name}_sum`, labels: { generation }, value: o.latencySumMs / 1000 });
  samples.push({ metricName: `${name}_count`, labels: { generation }, value: count });
  return samples;
}

/**
 * The drain engine's outcome counts by generation (responses by status class, resets, latency), and the
 * canary verdicts: what a health-gated rollout decides on, for a dashboard to show beside it.
 */
export function registerOutcomeMetrics(registry: Registry, supervisor: Supervisor): void {
  const generations = new ByGeneration(supervisor);
  const each = (fn: (g: string, o: Outcomes) => Sample[]) => () =>
    [...generations.read()].flatMap(([g, o]) => fn(String(g), o));
  registry.registerMetric(
    computed(
      'supervise_http_responses_total',
      'HTTP/1 responses the workers finished, by generation and status class (the drain engine counts them).',
      'counter',
      each((generation, o) => CLASSES.map((code, i) => ({ labels: { generation, code }, value: o.status[i] ?? 0 }))),
    ),
  );
  registry.registerMetric(
    computed(
      'supervise_http_resets_total',
      'HTTP/1 requests whose connection closed before their response finished, by generation.',
      'counter',
      each((generation, o) => [{ labels: { generation }, value: o.reset }]),
    ),
  );
  registry.registerMetric(
    computed(
      'supervise_http_request_duration_seconds',
      'HTTP/1 request durations (request start to response finish), by generation.',
      'histogram',
      each(histogramSamples),
    ),
  );
  new Counter({
    name: 'supervise_canary_verdicts_total',
    help: 'Canary verdicts of health-gated rollouts: pass, fail (rolled back), insufficient (too little traffic).',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(supervisor.canaries.verdicts)) this.inc({ result }, n);
    },
  });
}
