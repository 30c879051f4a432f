#!/usr/bin/env node
// pnpm bench:accept (also part of pnpm bench): the accept path. The same trivial app (examples/http-basic) under
// supervise --accept shared, supervise --accept round-robin, PM2 7 in cluster mode, a bare node:cluster master
// whose workers accept from one shared socket (the limit), and one bare process; each loaded by undici with one
// request per connection (Connection: close) and with keep-alive, in rounds whose order rotates. supervise --sticky
// (the master accepts and hands each connection over) is measured beside them, and on node >= 22.12 a bare
// cluster whose workers bind one SO_REUSEPORT socket each (what a reuseport strategy would reach). Balance:
// max/mean of the requests each worker answered, with 4 workers. Everything on 127.0.0.1, bounded in time.

import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

import { EXAMPLE_BASIC, Pm2Contender, naiveContender, superviseContender } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { freePort, killTree, sleep, spawnTracked, waitHttp } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, round, table } from './lib/stats.mjs';

const REUSEPORT_APP = fileURLToPath(new URL('./apps/reuseport-cluster.cjs', import.meta.url));
const WS_APP = fileURLToPath(new URL('./apps/longlived-app.cjs', import.meta.url));

/** Opens `n` WebSockets at once; resolves with how many each worker took (from the pid it sends first). */
async function wsBurst(port, n) {
  const sockets = [];
  const pids = {};
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          sockets.push(ws);
          const done = setTimeout(resolve, 10_000);
          ws.once('message', (data) => {
            pids[String(data)] = (pids[String(data)] ?? 0) + 1;
            clearTimeout(done);
            resolve();
          });
          ws.on('error', () => {});
        }),
    ),
  );
  for (const ws of sockets) ws.terminate();
  return Object.values(pids);
}

/**
 * WebSockets never move once open: how a burst of them (clients reconnecting after a rollout) is spread is the
 * accept path's alone. The long-lived bench's app, 4 workers, under supervise's two strategies and PM2.
 */
async function runWsBursts(cfg, { logDir, say }) {
  if (!cfg.BENCH_ACCEPT_WS_CLIENTS) return '';
  const workers = cfg.BENCH_ACCEPT_BALANCE_WORKERS;
  const subjects = [
    [
      'supervise --accept shared',
      (port) =>
        superviseContender({
          name: 'ws-shared',
          label: 'shared',
          script: WS_APP,
          workers,
          port,
          logDir,
          extraArgs: ['--accept', 'shared'],
        }),
    ],
    [
      'supervise --accept round-robin',
      (port) =>
        superviseContender({
          name: 'ws-rr',
          label: 'round-robin',
          script: WS_APP,
          workers,
          port,
          logDir,
          extraArgs: ['--accept', 'round-robin'],
        }),
    ],
    [
      'PM2 7 cluster (round-robin)',
      (port) =>
        new Pm2Contender({ name: 'ws-pm2', label: 'pm2', workers, port, logDir, script: WS_APP, env: { PM2: '1' } }),
    ],
  ];
  const rows = [];
  for (const [label, make] of subjects) {
    const port = await freePort();
    const subject = make(port);
    const runs = [];
    try {
      await subject.start();
      await sleep(500);
      for (let b = 0; b < cfg.BENCH_ACCEPT_WS_BURSTS; b++) {
        const counts = await wsBurst(port, cfg.BENCH_ACCEPT_WS_CLIENTS);
        runs.push(spread(counts, workers));
        say(`accept WebSocket burst ${b + 1} ${label}: ${[...counts].sort((x, y) => y - x).join('/')}`);
        await sleep(300);
      }
    } finally {
      await subject.stop();
    }
    rows.push([label, balanceCell(runs)]);
  }
  return [
    `WebSocket bursts (${cfg.BENCH_ACCEPT_WS_CLIENTS} opened at once, ${workers} workers, ${cfg.BENCH_ACCEPT_WS_BURSTS} bursts; max/mean and min/mean of the WebSockets each worker took, median and worst burst; they never move):`,
    table(['subject', 'WebSockets per worker'], rows),
  ].join('\n');
}

export const ACCEPT_DEFAULTS = {
  BENCH_ACCEPT_WORKERS: 2, // workers for the throughput figures (the table: 2)
  BENCH_ACCEPT_BALANCE_WORKERS: 4, // workers for the balance figures
  BENCH_ACCEPT_BALANCE_ROUNDS: 3, // runs per subject for the balance figures (the median and the worst are shown)
  BENCH_ACCEPT_SECONDS: 8, // per load run
  BENCH_ACCEPT_ROUNDS: 3,
  BENCH_ACCEPT_CONNECTIONS: 50,
  BENCH_ACCEPT_ONLY: 'shared,round-robin,sticky,pm2,bare-shared,bare-reuseport,single',
  BENCH_ACCEPT_WS_CLIENTS: 200, // WebSockets opened at once per burst (0: no WebSocket part)
  BENCH_ACCEPT_WS_BURSTS: 3,
};

const SUBJECTS = {
  shared: { label: 'supervise --accept shared' },
  'round-robin': { label: 'supervise --accept round-robin' },
  sticky: { label: 'supervise --sticky (the master hands over)' },
  pm2: { label: 'PM2 7 cluster (round-robin)' },
  'bare-shared': { label: 'bare node:cluster, shared socket (the limit)' },
  'bare-reuseport': { label: 'bare node:cluster, SO_REUSEPORT per worker', needs: reusePortMissing },
  single: { label: 'one bare process, no cluster' },
};

/** Why `listen({ reusePort })` cannot run here (node < 22.12), or null. */
function reusePortMissing() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12)
    ? null
    : `node ${process.versions.node} has no listen({ reusePort }) (22.12+)`;
}

/** A process that serves the app and can say its worker pids; stop() kills it. */
function startSubject(key, workers, port, logDir) {
  switch (key) {
    case 'shared':
    case 'round-robin':
      return superviseContender({
        name: `accept-${key}-${workers}`,
        label: key,
        script: EXAMPLE_BASIC,
        workers,
        port,
        logDir,
        extraArgs: ['--accept', key],
      });
    case 'sticky':
      return superviseContender({
        name: `accept-sticky-${workers}`,
        label: key,
        script: EXAMPLE_BASIC,
        workers,
        port,
        logDir,
        extraArgs: ['--sticky'],
      });
    case 'pm2':
      return new Pm2Contender({ name: `accept-pm2-${workers}`, label: 'pm2', workers, port, logDir });
    case 'bare-shared': {
      const c = naiveContender({ name: `accept-bare-${workers}`, label: 'bare shared', workers, port, logDir });
      c.extraEnv = { NODE_CLUSTER_SCHED_POLICY: 'none' };
      return c;
    }
    case 'bare-reuseport':
      return {
        async start() {
          this.child = spawnTracked('accept-reuseport', process.execPath, [REUSEPORT_APP, '-w', String(workers)], {
            env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
          });
          const ready = new Promise((resolve) =>
            this.child.stdout.on('data', (d) => String(d).includes('ready') && resolve(true)),
          );
          const bound = sleep(20_000).then(() => false);
          if (!(await Promise.race([ready, bound]))) throw new Error('bare-reuseport: its workers did not all listen');
        },
        stop() {
          return killTree(this.child.pid, { graceMs: 2000 });
        },
      };
    case 'single':
      return {
        async start() {
          this.child = spawnTracked('accept-single', process.execPath, [EXAMPLE_BASIC], {
            env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
          });
          if (!(await waitHttp(port))) throw new Error('single: no answer');
        },
        stop() {
          return killTree(this.child.pid, { graceMs: 2000 });
        },
      };
  }
  throw new Error(`unknown subject ${key}`);
}

async function measure(port, { reset, seconds, connections, workers }) {
  const load = startLoad('undici', {
    origin: `http://127.0.0.1:${port}`,
    connections,
    reset,
    countPids: true,
    // One loopback address per connection: --sticky routes by client address, the others ignore it.
    fromAddresses: connections,
    hardMs: seconds * 1000 + 5000,
    timeoutMs: 10_000,
  });
  const t0 = await load.started;
  await sleep(seconds * 1000);
  const r = await load.stop([], t0 + 1000);
  const answers = spread(Object.values(r.pids ?? {}), workers);
  // Each virtual user has its own connection here: the last pid of each is where that connection ended up.
  const held = {};
  for (const pid of r.lastPids ?? []) if (pid) held[pid] = (held[pid] ?? 0) + 1;
  const conns = spread(Object.values(held), workers);
  return { rps: r.rps, lost: r.lost, ...answers, connBalance: conns.balance, connMin: conns.minOverMean };
}

/** max/mean and min/mean of per-worker counts; a worker that never appears counts 0. */
function spread(counts, workers) {
  const all = [...counts, ...new Array(Math.max(0, workers - counts.length)).fill(0)];
  const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
  return {
    balance: mean ? round(Math.max(...all) / mean, 2) : null,
    minOverMean: mean ? round(Math.min(...all) / mean, 2) : null,
  };
}

/** `max / min (worst max / min)` over the runs, of per-worker counts against their mean; '-' without runs. */
function balanceCell(runs, [hiKey, loKey] = ['balance', 'minOverMean']) {
  const ok = runs.filter((r) => r[hiKey] !== null && r[hiKey] !== undefined);
  if (!ok.length) return '-';
  const hi = ok.map((r) => r[hiKey]);
  const lo = ok.map((r) => r[loKey]);
  return `${round(median(hi), 2)} / ${round(median(lo), 2)} (worst ${Math.max(...hi)} / ${Math.min(...lo)})`;
}

/** Runs every subject; returns { rows, text }. */
export async function runAccept(cfg, { logDir, say }) {
  const keys = cfg.BENCH_ACCEPT_ONLY.split(',')
    .map((s) => s.trim())
    .filter((k) => {
      const missing = SUBJECTS[k]?.needs?.();
      if (missing) say(`accept: ${SUBJECTS[k].label} skipped: ${missing}`);
      return SUBJECTS[k] && !missing;
    });
  const res = Object.fromEntries(keys.map((k) => [k, { cpr: [], ka: [], balanceCpr: [], balanceKa: [], lost: 0 }]));
  const run = async (key, workers, fn) => {
    const port = await freePort();
    const s = startSubject(key, workers, port, logDir);
    try {
      await s.start();
      await sleep(500);
      return await fn(port);
    } finally {
      await s.stop();
    }
  };
  const opts = (reset, workers) => ({
    reset,
    workers,
    seconds: cfg.BENCH_ACCEPT_SECONDS,
    connections: cfg.BENCH_ACCEPT_CONNECTIONS,
  });
  for (let round_ = 0; round_ < cfg.BENCH_ACCEPT_ROUNDS; round_++) {
    const order = keys.map((_, i) => keys[(i + round_) % keys.length]);
    for (const key of order) {
      await run(key, cfg.BENCH_ACCEPT_WORKERS, async (port) => {
        const cpr = await measure(port, opts(true, cfg.BENCH_ACCEPT_WORKERS));
        const ka = await measure(port, opts(false, cfg.BENCH_ACCEPT_WORKERS));
        res[key].cpr.push(cpr.rps);
        res[key].ka.push(ka.rps);
        res[key].lost += cpr.lost + ka.lost;
        say(`accept round ${round_ + 1} ${key}: ${cpr.rps} req/s one per connection, ${ka.rps} keep-alive`);
      });
    }
  }
  const balanced = keys.filter((k) => k !== 'single');
  for (let round_ = 0; round_ < cfg.BENCH_ACCEPT_BALANCE_ROUNDS; round_++) {
    for (const key of balanced.map((_, i) => balanced[(i + round_) % balanced.length])) {
      await run(key, cfg.BENCH_ACCEPT_BALANCE_WORKERS, async (port) => {
        const cpr = await measure(port, opts(true, cfg.BENCH_ACCEPT_BALANCE_WORKERS));
        const ka = await measure(port, opts(false, cfg.BENCH_ACCEPT_BALANCE_WORKERS));
        res[key].balanceCpr.push(cpr);
        res[key].balanceKa.push(ka);
        res[key].lost += cpr.lost + ka.lost;
        say(
          `accept balance round ${round_ + 1} ${key} (${cfg.BENCH_ACCEPT_BALANCE_WORKERS} workers): max/mean ${cpr.balance} min/mean ${cpr.minOverMean} one per connection, ${ka.balance} ${ka.minOverMean} keep-alive, connections ${ka.connBalance} ${ka.connMin}`,
        );
      });
    }
  }
  const med = (k, f) => median(res[k]?.[f] ?? []);
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
  const body = keys.map((k) => [
    SUBJECTS[k].label,
    Math.round(med(k, 'cpr')),
    res[k].cpr.join(' '),
    ratio(med(k, 'cpr'), med('pm2', 'cpr')),
    ratio(med(k, 'cpr'), med('bare-shared', 'cpr')),
    Math.round(med(k, 'ka')),
    ratio(med(k, 'ka'), med('pm2', 'ka')),
    balanceCell(res[k].balanceCpr),
    balanceCell(res[k].balanceKa),
    balanceCell(res[k].balanceKa, ['connBalance', 'connMin']),
    res[k].lost,
  ]);
  const wsText = await runWsBursts(cfg, { logDir, say });
  const text = [
    `Accept path (examples/http-basic, ${cfg.BENCH_ACCEPT_WORKERS} workers, undici ${cfg.BENCH_ACCEPT_CONNECTIONS} connections, ${cfg.BENCH_ACCEPT_SECONDS} s per run, ${cfg.BENCH_ACCEPT_ROUNDS} rounds in rotating order; balance with ${cfg.BENCH_ACCEPT_BALANCE_WORKERS} workers over ${cfg.BENCH_ACCEPT_BALANCE_ROUNDS} runs each: max/mean and min/mean of per-worker answers, median of the runs and the worst one; keep-alive connections: of where each of the ${cfg.BENCH_ACCEPT_CONNECTIONS} connections was at the end, what the accept path decides, the answers adding CPU scheduling):`,
    table(
      [
        'subject',
        'req/s, one per conn (median)',
        'each round',
        'vs PM2',
        'vs limit',
        'req/s keep-alive',
        'vs PM2',
        'balance, one per conn',
        'balance, keep-alive',
        'keep-alive connections',
        'failed',
      ],
      body,
    ),
    ...(wsText ? ['', wsText] : []),
  ].join('\n');
  return { res, text };
}

await runStandalone(import.meta.url, ACCEPT_DEFAULTS, 'accept', runAccept);
