/**
 * GET /metrics on the health port (issue 18): the master's view of the cluster and the app's own prom-client
 * metrics summed over the workers, with no code in the app; promtool (where installed) finds nothing to say
 * about any supervise_ metric.
 */
import { execFile } from 'node:child_process';

import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { until } from '../../helpers/http.js';
import { example, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

async function scrape(port: number): Promise<{ type: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return { type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The value of one sample (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtool(text: string): Promise<{ missing: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 10_000 }, (err, stdout, stderr) => {
      const missing = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      resolve({ missing, output: `${stdout}${stderr}` });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(text);
  });
}

describe('/metrics', () => {
  it("sums the app's own counter over 2 workers, counts workers, rollouts and restarts; promtool is silent about supervise_", async () => {
    const [port, health] = [await freePort(), await freePort()];
    const s = supervise(
      [example('prom-client/server.js'), '-w', '2', '--health-port', String(health), '--heartbeat', '100'],
      {
        env: { PORT: String(port) },
      },
    );
    await s.ready();
    // 200 requests, one per connection: both workers answer some.
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
    const pids = new Set<string>();
    try {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 50; i++) {
            const res = await pool.request({ path: '/', method: 'GET', reset: true });
            expect(res.statusCode).toBe(200);
            pids.add((await res.body.text()).trim());
          }
        }),
      );
    } finally {
      await pool.close();
    }
    expect(pids.size).toBe(2);

    const first = await scrape(health);
    expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sample(first.text, 'app_requests_total{route="/"}')).toBe(200);
    expect(sample(first.text, 'supervise_workers{state="ready"}')).toBe(2);
    expect(sample(first.text, 'supervise_workers{state="draining"}')).toBe(0);
    // The app's default metrics are summed too (prom-client's aggregators: one value for the cluster).
    expect(first.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    // The heartbeat carries each slot's load (after two beats).
    await until(
      async () => sample((await scrape(health)).text, 'supervise_worker_resident_memory_bytes{slot="1"}'),
      5000,
      'per-slot memory',
    );

    const lint = await promtool(first.text);
    if (lint.missing) {
      console.warn('promtool is not installed (Debian package "prometheus"): the exposition is not linted');
    } else {
      expect(lint.output.split('\n').filter((l) => l.includes('supervise_'))).toEqual([]);
    }

    const old = s.forkedPids();
    const hup = s.lines.length;
    s.signal('SIGHUP');
    await s.waitEvent('rollout.end', (l) => l.outcome === 'done', 15_000, hup);
    await waitGone(old);
    const after = (await scrape(health)).text;
    expect(sample(after, 'supervise_rollouts_total{trigger="SIGHUP",outcome="done"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'supervise_worker_restarts_total{reason="rollout"}')).toBe(2);
    expect(sample(after, 'supervise_rollout_duration_seconds_count')).toBe(1);
    expect(sample(after, 'supervise_drain_duration_seconds_count')).toBe(2);
    expect(sample(after, 'supervise_drain_forced_connections_total{kind="http"}')).toBe(0);
    expect(sample(after, 'supervise_generation')).toBe(2);
    // The old workers' requests stay counted in the master's total.
    expect(sample(after, 'supervise_requests_total')).toBeGreaterThanOrEqual(200);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
