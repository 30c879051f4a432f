#!/usr/bin/env node
// pnpm bench:metrics (also part of pnpm bench): what observability costs. The same app (examples/prom-client,
// which keeps its own prom-client counter) under supervise -w 4 with a keep-alive load and 3 SIGHUP rollouts, in
// three setups that rotate each round: heartbeat off (--heartbeat 0), the default heartbeat (1 s, which now
// carries memory, CPU and event-loop figures), and the default heartbeat with /metrics scraped every second.
// Measured per setup: the workers' CPU while idle (the heartbeat's own cost); then under the load, over a steady window: the master's CPU per second and RSS, the workers' CPU per
// worker-second; then 3 rollouts under the same load, for the requests lost (which none of it may change). Everything on 127.0.0.1, bounded in time.

import { join } from 'node:path';

import { ROOT, superviseContender } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { cpuNs, descendants, freePort, rssKb, sleep } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, round, table } from './lib/stats.mjs';

export const METRICS_DEFAULTS = {
  BENCH_METRICS_WORKERS: 4,
  BENCH_METRICS_SECONDS: 10, // the steady window of each run (CPU); 3 rollouts follow it
  BENCH_METRICS_ROUNDS: 3,
  BENCH_METRICS_CONNECTIONS: 20,
  BENCH_METRICS_IDLE_SECONDS: 5, // the idle window before the load (the workers' own cost)
};

const APP = join(ROOT, 'examples/prom-client/server.js');
const SETUPS = {
  'no-heartbeat': { label: 'heartbeat off (--heartbeat 0)', heartbeat: '0', scrape: false },
  heartbeat: { label: 'heartbeat 1 s (default)', heartbeat: '1000', scrape: false },
  scraped: { label: 'heartbeat 1 s + GET /metrics every 1 s', heartbeat: '1000', scrape: true },
};

async function runOnce(key, cfg, logDir) {
  const setup = SETUPS[key];
  const [port, health] = [await freePort(), await freePort()];
  const c = superviseContender({
    name: `metrics-${key}`,
    label: key,
    script: APP,
    workers: cfg.BENCH_METRICS_WORKERS,
    port,
    logDir,
    extraArgs: ['--heartbeat', setup.heartbeat, '--health-port', String(health)],
  });
  await c.start();
  try {
    await sleep(1000);
    // Idle first: with no traffic, what the heartbeat and the scrapes cost a worker is not lost in the noise.
    const idlePids = descendants(c.pid);
    const idleBefore = new Map(idlePids.map((pid) => [pid, cpuNs(pid)]));
    const idleScraper = setup.scrape
      ? setInterval(
          () =>
            void fetch(`http://127.0.0.1:${health}/metrics`)
              .then((r) => r.text())
              .catch(() => {}),
          1000,
        )
      : null;
    const idleStart = Date.now();
    await sleep(cfg.BENCH_METRICS_IDLE_SECONDS * 1000);
    if (idleScraper) clearInterval(idleScraper);
    const idleSeconds = (Date.now() - idleStart) / 1000;
    const idleUsed = idlePids
      .map((pid) => {
        const a = idleBefore.get(pid);
        const b = cpuNs(pid);
        return a === null || a === undefined || b === null ? null : (b - a) / 1e9;
      })
      .filter((v) => v !== null);
    const workerIdleCpu = idleUsed.length ? idleUsed.reduce((x, y) => x + y, 0) / idleUsed.length / idleSeconds : null;
    const load = startLoad('undici', {
      origin: `http://127.0.0.1:${port}`,
      connections: cfg.BENCH_METRICS_CONNECTIONS,
      hardMs: cfg.BENCH_METRICS_SECONDS * 1000 + 60_000,
      timeoutMs: 10_000,
    });
    const t0 = await load.started;
    let scrapes = 0;
    let scrapeFailures = 0;
    const scraper = setup.scrape
      ? setInterval(() => {
          fetch(`http://127.0.0.1:${health}/metrics`)
            .then(async (r) => {
              await r.text();
              if (r.ok) scrapes++;
              else scrapeFailures++;
            })
            .catch(() => scrapeFailures++);
        }, 1000)
      : null;
    // CPU over a steady window (the same processes at both ends), then the rollouts, for the lost requests.
    const pids = descendants(c.pid);
    const before = new Map([c.pid, ...pids].map((pid) => [pid, cpuNs(pid)]));
    const started = Date.now();
    await sleep(cfg.BENCH_METRICS_SECONDS * 1000);
    const seconds = (Date.now() - started) / 1000;
    const used = (pid) => {
      const a = before.get(pid);
      const b = cpuNs(pid);
      return a === null || a === undefined || b === null ? null : (b - a) / 1e9;
    };
    const masterCpu = used(c.pid) ?? 0;
    const perWorker = pids.map(used).filter((v) => v !== null);
    const workersCpu = perWorker.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 3; i++) {
      await c.reload();
      await sleep(1000);
    }
    const rss = rssKb(c.pid);
    if (scraper) clearInterval(scraper);
    const r = await load.stop([], t0 + 1000);
    return {
      masterCpuPerSec: masterCpu / seconds,
      workerIdleCpuPerSec: workerIdleCpu,
      workerCpuPerWorkerSec: perWorker.length ? workersCpu / seconds / perWorker.length : null,
      rssMb: rss ? rss / 1024 : null,
      lost: r.lost,
      requests: r.requests,
      scrapes,
      scrapeFailures,
    };
  } finally {
    await c.stop();
  }
}

export async function runMetrics(cfg, { logDir, say }) {
  const keys = Object.keys(SETUPS);
  const res = Object.fromEntries(keys.map((k) => [k, []]));
  for (let round_ = 0; round_ < cfg.BENCH_METRICS_ROUNDS; round_++) {
    for (const key of keys.map((_, i) => keys[(i + round_) % keys.length])) {
      const r = await runOnce(key, cfg, logDir);
      res[key].push(r);
      say(
        `metrics round ${round_ + 1} ${key}: master ${round(r.masterCpuPerSec * 1000, 1)} ms CPU/s, RSS ${round(r.rssMb, 1)} MB, workers ${round(r.workerIdleCpuPerSec * 1000, 2)} ms CPU/s each idle, ${round(r.workerCpuPerWorkerSec * 1000, 1)} loaded, ${r.lost} lost of ${r.requests}${SETUPS[key].scrape ? `, ${r.scrapes} scrapes (${r.scrapeFailures} failed)` : ''}`,
      );
    }
  }
  const med = (k, f) => median(res[k].map((r) => r[f]).filter((v) => v !== null));
  const base = (f) => med('no-heartbeat', f);
  const delta = (k, f, scale, unit) =>
    k === 'no-heartbeat'
      ? '-'
      : `${med(k, f) - base(f) >= 0 ? '+' : ''}${round((med(k, f) - base(f)) * scale, 1)} ${unit}`;
  const body = keys.map((k) => [
    SETUPS[k].label,
    round(med(k, 'masterCpuPerSec') * 1000, 1),
    delta(k, 'masterCpuPerSec', 1000, 'ms/s'),
    round(med(k, 'rssMb'), 1),
    delta(k, 'rssMb', 1, 'MB'),
    round(med(k, 'workerIdleCpuPerSec') * 1000, 2),
    delta(k, 'workerIdleCpuPerSec', 1000, 'ms/s'),
    round(med(k, 'workerCpuPerWorkerSec') * 1000, 1),
    res[k].map((r) => r.lost).join(' '),
    SETUPS[k].scrape ? res[k].map((r) => `${r.scrapes}/${r.scrapes + r.scrapeFailures}`).join(' ') : '-',
  ]);
  const text = [
    `Observability cost (examples/prom-client, ${cfg.BENCH_METRICS_WORKERS} workers, undici keep-alive ${cfg.BENCH_METRICS_CONNECTIONS} connections; CPU over a steady ${cfg.BENCH_METRICS_SECONDS} s, then 3 rollouts for the losses; ${cfg.BENCH_METRICS_ROUNDS} rounds in rotating order; medians):`,
    table(
      [
        'setup',
        'master CPU ms/s',
        'vs off',
        'master RSS MB',
        'vs off',
        'worker CPU ms/s each, idle',
        'vs off',
        'worker CPU ms/s each, loaded',
        'lost per run',
        'scrapes ok',
      ],
      body,
    ),
  ].join('\n');
  return { res, text };
}

await runStandalone(import.meta.url, METRICS_DEFAULTS, 'metrics', runMetrics);
