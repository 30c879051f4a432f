#!/usr/bin/env node
// pnpm bench:canary (also part of pnpm bench, BENCH_ONLY=canary): what health-gated rollouts cost.
//   counting  the drain engine's outcome counts (status classes, resets, latency histogram) on and off in the
//             same run: two masters (-w 1, examples/http-basic, one with SUPERVISE_OUTCOMES=0 for its workers),
//             each under its own autocannon (keep-alive connections) at the same time, so that the neighbours'
//             load weighs on both alike; req/s and the worker's CPU per request (schedstat, as the overhead
//             section reads it), medians of several rounds and each round's on/off ratio;
//   one count the cost of one count in a tight loop (OutcomeCounter.finished and its performance.now()), in ns;
//   rollout   `supervise reload --json` of -w N examples/http-basic (a healthy release) under a keep-alive load,
//             alternately with --canary and --no-canary: the rollout's own duration and the bake's.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

import { EXAMPLE_BASIC, ROOT, SUPERVISE_CLI, superviseContender } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { cpuNs, freePort, runCmd, sleep } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, round, table } from './lib/stats.mjs';

export const CANARY_DEFAULTS = {
  BENCH_CANARY_ROUNDS: 5, // counting on/off rounds
  BENCH_CANARY_SECONDS: 5, // each round's load
  BENCH_CANARY_CONNECTIONS: 50,
  BENCH_CANARY_RELOADS: 3, // rollouts with and without a canary each
  BENCH_CANARY_WORKERS: 4,
  BENCH_CANARY_REQUESTS: 1000, // --canary-requests of the rollouts
  BENCH_CANARY_WARMUP: 2000, // --canary-warmup of the rollouts (the default)
};

const require = createRequire(import.meta.url);

/**
 * What counting adds per request: one performance.now() at the request's start (the finish already reads the
 * clock) and OutcomeCounter.finished(), each timed in a tight loop against an empty one, in ns.
 */
function countCostNs() {
  const { OutcomeCounter } = require(join(ROOT, 'packages/worker-sdk/dist/drain/outcomes.js'));
  const n = 5_000_000;
  const time = (fn) => {
    const t0 = performance.now();
    const sink = fn();
    return { ns: ((performance.now() - t0) * 1e6) / n, sink };
  };
  const latencies = Float64Array.from({ length: 1024 }, (_, i) => 0.05 * 1.01 ** i);
  const samples = [];
  for (let r = 0; r < 5; r++) {
    const c = new OutcomeCounter();
    const empty = time(() => {
      let x = 0;
      for (let i = 0; i < n; i++) x += latencies[i & 1023];
      return x;
    });
    const now = time(() => {
      let x = 0;
      for (let i = 0; i < n; i++) x += performance.now() + latencies[i & 1023];
      return x;
    });
    const count = time(() => {
      for (let i = 0; i < n; i++) c.finished(200 + (i & 1) * 300, latencies[i & 1023]);
      return c.read().status[1];
    });
    samples.push({ now: now.ns - empty.ns, finished: count.ns - empty.ns });
  }
  const now = round(median(samples.map((s) => s.now)), 1);
  const finished = round(median(samples.map((s) => s.finished)), 1);
  return { nowNs: now, finishedNs: finished, perCountNs: round(now + finished, 1) };
}

async function countingRounds(cfg, { logDir, say }) {
  const variants = [
    { key: 'off', label: 'counting off (SUPERVISE_OUTCOMES=0)', env: { SUPERVISE_OUTCOMES: '0' } },
    { key: 'on', label: 'counting on (the default)', env: {} },
  ];
  try {
    for (const v of variants) {
      const port = await freePort();
      v.master = superviseContender({
        name: `canary-count-${v.key}`,
        label: v.label,
        script: EXAMPLE_BASIC,
        workers: 1,
        port,
        logDir,
        env: v.env,
      });
      await v.master.start();
      v.origin = `http://127.0.0.1:${port}`;
    }
    const measure = async (seconds) => {
      const wpids = variants.map((v) => v.master.workerPids()[0]);
      const c0 = wpids.map((p) => cpuNs(p));
      const loads = variants.map((v) =>
        startLoad('autocannon', {
          origin: v.origin,
          connections: cfg.BENCH_CANARY_CONNECTIONS,
          hardMs: seconds * 1000 + 5000,
          timeoutMs: 10_000,
        }),
      );
      const t0s = await Promise.all(loads.map((l) => l.started));
      await sleep(seconds * 1000);
      const res = await Promise.all(loads.map((l, k) => l.stop([], t0s[k])));
      await sleep(100);
      return res.map((r, k) => {
        const c1 = cpuNs(wpids[k]);
        return {
          rps: r.rps,
          cpuUs: c0[k] !== null && c1 !== null && r.ok ? round((c1 - c0[k]) / 1000 / r.ok, 2) : null,
        };
      });
    };
    await measure(1); // warm-up (JIT)
    const rounds = [];
    for (let i = 0; i < cfg.BENCH_CANARY_ROUNDS; i++) {
      const [off, on] = await measure(cfg.BENCH_CANARY_SECONDS);
      const r = { off: off.rps, on: on.rps, offCpu: off.cpuUs, onCpu: on.cpuUs, ratio: round(on.rps / off.rps, 3) };
      r.cpuRatio = r.onCpu && r.offCpu ? round(r.onCpu / r.offCpu, 3) : null;
      rounds.push(r);
      say(`counting round ${i + 1}: off ${r.off} req/s ${r.offCpu} us/req, on ${r.on} req/s ${r.onCpu} us/req`);
    }
    return rounds;
  } finally {
    await Promise.all(variants.map((v) => v.master?.stop()));
  }
}

async function rolloutRounds(cfg, { logDir, say }) {
  const port = await freePort();
  const sock = join(logDir, 'canary-control.sock');
  const master = superviseContender({
    name: 'canary-rollout',
    label: 'rollouts',
    script: EXAMPLE_BASIC,
    workers: cfg.BENCH_CANARY_WORKERS,
    port,
    logDir,
    extraArgs: [
      '--control',
      sock,
      '--canary-requests',
      String(cfg.BENCH_CANARY_REQUESTS),
      '--canary-warmup',
      String(cfg.BENCH_CANARY_WARMUP),
    ],
  });
  const runs = [];
  try {
    await master.start();
    const load = startLoad('autocannon', {
      origin: `http://127.0.0.1:${port}`,
      connections: cfg.BENCH_CANARY_CONNECTIONS,
      hardMs: 600_000,
      timeoutMs: 10_000,
    });
    const t0 = await load.started;
    await sleep(1000);
    for (let i = 0; i < cfg.BENCH_CANARY_RELOADS * 2; i++) {
      const canary = i % 2 === 1;
      const r = await runCmd(
        'reload',
        process.execPath,
        [SUPERVISE_CLI, 'reload', '--json', '--control', sock, canary ? '--canary' : '--no-canary'],
        {
          timeoutMs: 180_000,
        },
      );
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1));
      const run = {
        canary,
        outcome: summary.outcome,
        durationMs: summary.durationMs,
        bakeMs: summary.canary?.durationMs ?? null,
        verdict: summary.canary?.result ?? null,
        canaryRequests: summary.canary?.verdict?.canary?.requests ?? null,
        line: summary.canary?.line ?? null,
      };
      runs.push(run);
      say(
        `rollout ${i + 1}: ${canary ? 'canary' : 'no canary'} ${run.outcome} in ${run.durationMs} ms${canary ? ` (bake ${run.bakeMs} ms, ${run.verdict})` : ''}`,
      );
    }
    const res = await load.stop([], t0);
    return { runs, failed: res.non2xx + (res.errors ?? 0) };
  } finally {
    await master.stop();
  }
}

export async function runCanary(cfg, ctx) {
  const one = countCostNs();
  ctx.say(`one count: ${one.perCountNs} ns (performance.now() ${one.nowNs} ns + finished() ${one.finishedNs} ns)`);
  const rounds = cfg.BENCH_CANARY_ROUNDS > 0 ? await countingRounds(cfg, ctx) : [];
  const rollouts = await rolloutRounds(cfg, ctx);
  const med = (k) => median(rounds.map((r) => r[k]).filter((x) => x !== null));
  const withC = rollouts.runs.filter((r) => r.canary);
  const without = rollouts.runs.filter((r) => !r.canary);
  const text = [
    `Outcome counting (examples/http-basic, -w 1, autocannon ${cfg.BENCH_CANARY_CONNECTIONS} keep-alive connections, ` +
      `${cfg.BENCH_CANARY_ROUNDS} rounds of ${cfg.BENCH_CANARY_SECONDS} s, both masters loaded at the same time):`,
    table(
      ['counting', 'median req/s', 'median worker CPU us/req'],
      [
        ['off (SUPERVISE_OUTCOMES=0)', round(med('off'), 0), med('offCpu')],
        ['on (default)', round(med('on'), 0), med('onCpu')],
        ['on / off', med('ratio'), med('cpuRatio')],
      ],
    ),
    `per round on/off req/s: ${rounds.map((r) => r.ratio).join(' ')}; CPU/req: ${rounds.map((r) => r.cpuRatio).join(' ')}`,
    `what counting adds per request, timed in a tight loop: ${one.perCountNs} ns (one performance.now() ${one.nowNs} ns + OutcomeCounter.finished() ${one.finishedNs} ns)`,
    '',
    `Rollouts of -w ${cfg.BENCH_CANARY_WORKERS} examples/http-basic (a healthy release) under autocannon ` +
      `${cfg.BENCH_CANARY_CONNECTIONS} keep-alive connections, --canary-requests ${cfg.BENCH_CANARY_REQUESTS} ` +
      `(warm-up ${cfg.BENCH_CANARY_WARMUP}), alternately --no-canary and --canary; ${rollouts.failed} failed requests in the whole load:`,
    table(
      ['rollout', 'median ms', 'each ms', 'bake ms', 'verdicts'],
      [
        ['--no-canary', median(without.map((r) => r.durationMs)), without.map((r) => r.durationMs).join(' '), '-', '-'],
        [
          '--canary',
          median(withC.map((r) => r.durationMs)),
          withC.map((r) => r.durationMs).join(' '),
          withC.map((r) => r.bakeMs).join(' '),
          withC.map((r) => r.verdict).join(' '),
        ],
      ],
    ),
    ...withC.map((r) => `verdict: ${r.line}`),
  ].join('\n');
  return { rounds, one, rollouts, text };
}

await runStandalone(import.meta.url, CANARY_DEFAULTS, 'canary', runCanary);
