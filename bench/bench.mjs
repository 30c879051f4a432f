#!/usr/bin/env node
// pnpm bench: supervise against PM2 and a naive node:cluster master, side by side in one run on 127.0.0.1.
// For each contender: N workers, keep-alive load, several reloads evenly spaced with a long request in flight at
// each, counted by undici (honours Connection: close) and by autocannon; then the drain engine's per-request
// overhead. See README.md for the columns and the caveats.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { readConfig } from './lib/config.mjs';
import {
  EXAMPLE_BASIC,
  EXAMPLE_SDK,
  Pm2Contender,
  ROOT,
  SUPERVISE_CLI,
  naiveContender,
  superviseContender,
} from './lib/contenders.mjs';
import { slowRequest, startLoad } from './lib/loadrun.mjs';
import { ACCEPT_DEFAULTS, runAccept } from './accept.mjs';
import { COST_DEFAULTS, runCost } from './cost.mjs';
import { CANARY_DEFAULTS, runCanary } from './canary.mjs';
import { LONGLIVED_DEFAULTS, runLongLived } from './longlived.mjs';
import { METRICS_DEFAULTS, runMetrics } from './metrics.mjs';
import {
  cleanupAll,
  cpuNs,
  freePort,
  installCleanup,
  killTree,
  now,
  rssKb,
  sleep,
  spawnTracked,
} from './lib/procs.mjs';
import { median, round, table } from './lib/stats.mjs';

const DEFAULTS = {
  BENCH_DURATION: 20, // seconds of load per client and contender (longer when reloads overrun it)
  BENCH_RELOADS: 3,
  BENCH_CONNECTIONS: 50, // undici keep-alive connections
  BENCH_AC_CONNECTIONS: 50, // autocannon connections
  BENCH_WORKERS: 4,
  BENCH_SLOW_MS: 3000, // the long request in flight at each reload
  BENCH_LONG_MS: 10_000, // a further undici run with this long a request in flight at each reload (0: skip)
  BENCH_TIMEOUT_MS: 10_000, // a request unanswered after this counts as lost (timeout)
  BENCH_MAX_REQUESTS: 5_000_000, // per load run, a bound
  BENCH_ONLY: 'sdk,plain,plain-noauto,pm2,naive,overhead,longlived,accept,metrics,cost,canary',
  BENCH_CLIENTS: 'undici,autocannon',
  BENCH_OVERHEAD_ROUNDS: 6,
  BENCH_OVERHEAD_SECONDS: 3,
  BENCH_OVERHEAD_CONNECTIONS: 10,
  BENCH_OVERHEAD_RATE: 2000, // req/s per variant (autocannon overallRate); 0: as fast as it can
  BENCH_OVERHEAD_MODE: 'concurrent', // or 'alternate'
  BENCH_SETTLE_MS: 2000, // idle time before the RSS is read
  BENCH_JSON: '', // write every figure to this file too
  BENCH_LOG_DIR: '', // master logs (default: a new temp dir)
  ...LONGLIVED_DEFAULTS, // BENCH_LL_*: the long-lived clients' run (longlived.mjs)
  ...ACCEPT_DEFAULTS, // BENCH_ACCEPT_*: the accept path's run (accept.mjs)
  ...METRICS_DEFAULTS, // BENCH_METRICS_*: what the heartbeat and /metrics cost (metrics.mjs)
  ...COST_DEFAULTS, // BENCH_COST_*: the master's memory, start-up and command latency against bare node and PM2 (cost.mjs)
  ...CANARY_DEFAULTS, // BENCH_CANARY_*: outcome counting on/off and rollouts with a canary (canary.mjs)
};

const HELP = `pnpm bench [-- --duration 20 --reloads 3 --connections 50 --only pm2,sdk ...]
Every flag --foo-bar is also the environment variable BENCH_FOO_BAR. Defaults:
${Object.entries(DEFAULTS)
  .map(([k, v]) => `  ${k}=${v}`)
  .join('\n')}
Contenders for BENCH_ONLY: sdk, plain, plain-noauto, pm2, naive; overhead (the drain engine's cost); longlived
(WebSocket and SSE clients through rollouts, supervise and PM2: see longlived.mjs); accept (one request per
connection and keep-alive throughput, and balance, per accept strategy, --sticky, PM2 and the shared-socket limit:
accept.mjs); metrics (the heartbeat's and /metrics' cost to the master and the workers: metrics.mjs); cost (the
master's RSS, -w 4 start-up, status, --version and CPU per request against bare node and PM2: cost.mjs); canary (outcome counting
on and off, rollout time with and without a canary: canary.mjs).`;

const CONTENDERS = [
  { key: 'sdk', label: 'supervise + SDK example' },
  { key: 'plain', label: 'supervise + plain app, auto drain' },
  { key: 'plain-noauto', label: 'supervise + plain app, --no-auto-drain' },
  { key: 'pm2', label: 'PM2 7 cluster, pm2 reload' },
  { key: 'naive', label: 'naive node:cluster master' },
];

const say = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const mb = (kb) => (kb === null || kb === undefined ? null : round(kb / 1024, 1));

let cfg;
try {
  cfg = readConfig('BENCH', DEFAULTS);
} catch (err) {
  process.stderr.write(`${err.message}\n\n${HELP}\n`);
  process.exit(2);
}
if (cfg.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const only = new Set(
  cfg.BENCH_ONLY.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const clients = cfg.BENCH_CLIENTS.split(',')
  .map((s) => s.trim())
  .filter((c) => c === 'undici' || c === 'autocannon');
const logDir = cfg.BENCH_LOG_DIR || mkdtempSync(join(os.tmpdir(), 'supervise-bench-logs-'));
mkdirSync(logDir, { recursive: true });

const results = {
  date: new Date().toISOString(),
  machine: {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    memGb: round(os.totalmem() / 2 ** 30, 1),
  },
  config: { ...cfg, help: undefined },
  command: `${process.argv0} ${process.argv.slice(1).join(' ')}`,
  bareNodeRssKb: null,
  contenders: [],
  overhead: null,
};

installCleanup(async () => {
  // On Ctrl+C, print what was measured so far.
  if (results.contenders.length) report();
});

async function bareNodeRss() {
  const child = spawnTracked('bare-node', process.execPath, ['-e', 'setInterval(()=>{},1000)']);
  await sleep(cfg.BENCH_SETTLE_MS);
  const kb = rssKb(child.pid);
  await killTree(child.pid, { graceMs: 2000 });
  return kb;
}

function makeContender(key, label, port) {
  const common = { workers: cfg.BENCH_WORKERS, port, logDir };
  switch (key) {
    case 'sdk':
      return superviseContender({ name: key, label, script: EXAMPLE_SDK, ...common });
    case 'plain':
      return superviseContender({ name: key, label, script: EXAMPLE_BASIC, ...common });
    case 'plain-noauto':
      return superviseContender({ name: key, label, script: EXAMPLE_BASIC, autoDrain: false, ...common });
    case 'pm2':
      return new Pm2Contender({ name: key, label, ...common });
    case 'naive':
      return naiveContender({ name: key, label, ...common });
  }
  throw new Error(`unknown contender ${key}`);
}

/** One load run with reloads: load starts, reloads evenly spaced (each after the previous ended), load stops. */
async function phase(c, kind, origin, slowMs = cfg.BENCH_SLOW_MS) {
  const D = cfg.BENCH_DURATION * 1000;
  const R = cfg.BENCH_RELOADS;
  const reloadBound = 130_000;
  const load = startLoad(kind, {
    origin,
    connections: kind === 'autocannon' ? cfg.BENCH_AC_CONNECTIONS : cfg.BENCH_CONNECTIONS,
    hardMs: D + R * reloadBound + 10_000,
    maxRequests: cfg.BENCH_MAX_REQUESTS,
    timeoutMs: cfg.BENCH_TIMEOUT_MS,
  });
  const t0 = await load.started;
  if (t0 === null) throw new Error(`load client ${kind} did not start`);
  const windows = [];
  const reloads = [];
  const slows = [];
  let error = null;
  for (let i = 1; i <= R; i++) {
    const at = t0 + (D * i) / (R + 1);
    if (now() < at) await sleep(at - now());
    // The long request goes out first, so that it is in flight when the reload begins.
    slows.push(slowRequest(origin, slowMs));
    await sleep(300);
    const ws = now();
    try {
      reloads.push(await c.reload());
    } catch (err) {
      error = String(err?.message ?? err);
      say(`${c.label}: reload ${i} failed: ${error}`);
      windows.push([ws, now()]);
      break;
    }
    windows.push([ws, now()]);
    say(`${c.label} [${kind}]: reload ${i}/${R} took ${reloads.at(-1).wallMs} ms (${reloads.at(-1).outcome})`);
  }
  const end = Math.max(t0 + D, (windows.at(-1)?.[1] ?? 0) + 1500);
  if (now() < end) await sleep(end - now());
  const res = await load.stop(windows, t0 + 1000);
  const slow = await Promise.all(slows);
  const slowFailed = slow.filter((s) => !s.ok).length;
  return {
    ...res,
    lostTotal: res.lost + slowFailed,
    slow,
    slowFailed,
    reloads,
    windowsMs: windows.map(([a, b]) => [Math.round(a - t0), Math.round(b - t0)]),
    error,
  };
}

async function runContender({ key, label }) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const c = makeContender(key, label, port);
  const r = { key, label, port };
  results.contenders.push(r);
  say(`${label}: starting on port ${port}`);
  try {
    await c.start();
    await sleep(cfg.BENCH_SETTLE_MS);
    r.masterPid = c.masterPid();
    r.rssKb = rssKb(r.masterPid);
    r.workersAtStart = c.workerPids().length;
    for (const kind of clients) {
      say(`${label}: ${kind} load, ${cfg.BENCH_RELOADS} reloads`);
      r[kind] = await phase(c, kind, origin);
      say(`${label} [${kind}]: ${r[kind].requests} requests, lost ${r[kind].lostTotal}`);
      await sleep(500);
    }
    if (cfg.BENCH_LONG_MS > 0) {
      say(`${label}: undici load, ${cfg.BENCH_RELOADS} reloads, a ${cfg.BENCH_LONG_MS} ms request in flight at each`);
      r.long = await phase(c, 'undici', origin, cfg.BENCH_LONG_MS);
      say(`${label} [undici, ${cfg.BENCH_LONG_MS} ms requests]: ${r.long.requests} requests, lost ${r.long.lostTotal}`);
    }
    await sleep(cfg.BENCH_SETTLE_MS);
    r.rssAfterKb = rssKb(r.masterPid);
  } catch (err) {
    r.error = String(err?.message ?? err);
    say(`${label}: ${r.error}`);
  } finally {
    r.bootMs = c.bootMs ? [...c.bootMs] : [];
    r.bootMedianMs = c.bootMedian();
    r.firstBootMedianMs = c.firstBootMedian();
    const left = await c.stop();
    if (left.length) r.leftover = left;
  }
  return r;
}

/** The drain engine's per-request cost: supervise -w 1 with --no-auto-drain, with auto drain, and the SDK app. */
async function overhead() {
  const variants = [
    { key: 'noauto', label: 'plain app, --no-auto-drain', script: EXAMPLE_BASIC, autoDrain: false },
    { key: 'auto', label: 'plain app, auto drain (preload)', script: EXAMPLE_BASIC, autoDrain: true },
    { key: 'sdk', label: 'SDK example', script: EXAMPLE_SDK, autoDrain: true },
  ];
  const masters = [];
  try {
    for (const v of variants) {
      const port = await freePort();
      const c = superviseContender({
        name: `overhead-${v.key}`,
        label: v.label,
        script: v.script,
        autoDrain: v.autoDrain,
        workers: 1,
        port,
        logDir,
      });
      masters.push(c);
      await c.start();
      v.origin = `http://127.0.0.1:${port}`;
      v.rps = [];
      v.p99 = [];
      v.cpuUs = [];
      v.master = c;
    }
    // Throughput on a shared machine swings with the neighbours' load, so the figure is the worker's own CPU
    // time per request: the sum over its threads of /proc/<pid>/task/*/schedstat (ns), read before the load
    // starts and after it stopped, so that every request it served is in the window. The load has a fixed rate
    // (BENCH_OVERHEAD_RATE), so that each worker does the same work however the CPUs are shared; with rate 0 it
    // is as fast as autocannon goes and req/s is the figure. In 'concurrent' mode (default) the three variants
    // are loaded at the same time, each by its own autocannon, so that whatever else runs on the machine weighs
    // on all three alike; in 'alternate' mode one after the other, in a rotating order.
    const measure = async (group, seconds) => {
      const before = group.map((v) => ({ wpid: v.master.workerPids()[0] })).map((x) => ({ ...x, c0: cpuNs(x.wpid) }));
      const loads = group.map((v) =>
        startLoad('autocannon', {
          origin: v.origin,
          connections: cfg.BENCH_OVERHEAD_CONNECTIONS,
          overallRate: cfg.BENCH_OVERHEAD_RATE || undefined,
          hardMs: seconds * 1000 + 5000,
          timeoutMs: cfg.BENCH_TIMEOUT_MS,
        }),
      );
      const t0s = await Promise.all(loads.map((l) => l.started));
      await sleep(seconds * 1000);
      const results_ = await Promise.all(loads.map((l, k) => l.stop([], t0s[k])));
      await sleep(100);
      return results_.map((res, k) => {
        const c1 = cpuNs(before[k].wpid);
        const c0 = before[k].c0;
        res.cpuUsPerReq = c0 !== null && c1 !== null && res.requests ? round((c1 - c0) / 1000 / res.requests, 2) : null;
        return res;
      });
    };
    const concurrent = cfg.BENCH_OVERHEAD_MODE !== 'alternate';
    await measure(variants, 1); // warm-up (JIT)
    const rounds = [];
    for (let i = 0; i < cfg.BENCH_OVERHEAD_ROUNDS; i++) {
      const round_ = {};
      const record = (v, res) => {
        v.rps.push(res.rps);
        v.p99.push(res.steady.p99);
        v.cpuUs.push(res.cpuUsPerReq);
        round_[v.key] = res.rps;
        round_[`${v.key}Cpu`] = res.cpuUsPerReq;
        if (res.lost) say(`overhead ${v.label}: ${res.lost} failed requests without any reload`);
      };
      if (concurrent) {
        const res = await measure(variants, cfg.BENCH_OVERHEAD_SECONDS);
        variants.forEach((v, k) => record(v, res[k]));
      } else {
        const order = variants.map((_, k) => variants[(k + i) % variants.length]);
        for (const v of order) record(v, (await measure([v], cfg.BENCH_OVERHEAD_SECONDS))[0]);
      }
      rounds.push(round_);
      say(
        `overhead round ${i + 1}/${cfg.BENCH_OVERHEAD_ROUNDS}: ${variants.map((v) => `${v.key} ${round_[v.key]} req/s ${round_[`${v.key}Cpu`]} us/req`).join(', ')}`,
      );
    }
    const ratio = (k) => rounds.map((r) => round(r[k] / r.noauto, 3));
    const cpuRatio = (k) =>
      rounds.map((r) => (r[`${k}Cpu`] && r.noautoCpu ? round(r[`${k}Cpu`] / r.noautoCpu, 3) : null));
    return {
      seconds: cfg.BENCH_OVERHEAD_SECONDS,
      mode: concurrent ? 'concurrent' : 'alternate',
      rounds,
      variants: variants.map((v) => ({
        key: v.key,
        label: v.label,
        rps: v.rps,
        cpuUsPerReq: v.cpuUs,
        medianRps: round(median(v.rps), 0),
        medianP99: round(median(v.p99)),
        medianCpuUs: round(median(v.cpuUs), 2),
        rpsRatios: v.key === 'noauto' ? null : ratio(v.key),
        cpuRatios: v.key === 'noauto' ? null : cpuRatio(v.key),
        medianRpsRatio: v.key === 'noauto' ? 1 : median(ratio(v.key)),
        medianCpuRatio: v.key === 'noauto' ? 1 : median(cpuRatio(v.key)),
      })),
    };
  } finally {
    for (const c of masters) await c.stop();
  }
}

function fmtRatio(x, digits = 2) {
  return x === null || x === undefined || !Number.isFinite(x) ? null : `${x.toFixed(digits)}x`;
}

/**
 * Median over the reloads of (the reload's wall time / the sum of the boot times of the workers it started):
 * 1.0 means the rollout cost exactly its boots, whatever the machine's load made each boot take.
 */
function bootRatio(reloads) {
  return median(reloads.filter((z) => z.bootSumMs > 0).map((z) => z.wallMs / z.bootSumMs));
}

/** The run with a long request at each reload: median wall, its ratio to its boots, requests lost. */
function longColumn(x) {
  if (!x) return null;
  const wall = median(x.reloads.map((z) => z.wallMs));
  return wall == null ? '-' : `${Math.round(wall)}, ${fmtRatio(bootRatio(x.reloads)) ?? '-'}, ${x.lostTotal}`;
}

function report() {
  const rows = results.contenders;
  const pm2 = rows.find((r) => r.key === 'pm2');
  const pm2Rps = pm2?.undici?.rps;
  const pm2Rss = pm2?.rssKb;
  const bare = results.bareNodeRssKb;
  const W = cfg.BENCH_WORKERS;
  const out = [];
  out.push('');
  out.push(
    `supervise bench: ${results.date}, ${results.machine.nproc} cores, node ${results.machine.node}, ${W} workers, ` +
      `${cfg.BENCH_RELOADS} reloads per client, a ${cfg.BENCH_SLOW_MS} ms request in flight at each, ` +
      `${cfg.BENCH_DURATION} s of load per client (undici ${cfg.BENCH_CONNECTIONS} conns, autocannon ${cfg.BENCH_AC_CONNECTIONS} conns); ` +
      `load average at start ${results.loadavgStart?.join(' ')}${results.loadavgEnd ? `, at end ${results.loadavgEnd.join(' ')}` : ''}`,
  );
  out.push('');
  const longS = round(cfg.BENCH_LONG_MS / 1000, 1);
  const header = [
    'contender',
    'requests',
    'lost (undici)',
    'lost (autocannon)',
    'p99 reload/steady',
    'reload wall ms',
    'boot ms idle/load',
    `reload / its ${W} boots`,
    `with ${longS} s req: wall ms, / its boots, lost`,
    'req/s',
    'req/s vs PM2',
    'master RSS MB',
    'vs PM2 daemon',
    'vs bare node',
  ];
  const body = rows.map((r) => {
    const u = r.undici;
    const a = r.autocannon;
    const wall = median([...(u?.reloads ?? []), ...(a?.reloads ?? [])].map((x) => x.wallMs));
    const boot = r.bootMedianMs;
    return [
      r.label + (r.error ? ' (ERROR)' : ''),
      u?.requests,
      u ? `${u.lostTotal}` : null,
      a ? `${a.lostTotal}` : null,
      u?.p99Ratio != null ? `${u.p99Ratio} (${u.reload.p99}/${u.steady.p99} ms)` : null,
      wall != null ? Math.round(wall) : null,
      boot != null
        ? `${r.firstBootMedianMs != null ? Math.round(r.firstBootMedianMs) : '-'}/${Math.round(boot)}`
        : null,
      fmtRatio(bootRatio([...(u?.reloads ?? []), ...(a?.reloads ?? [])])),
      longColumn(r.long),
      u?.rps,
      pm2Rps && u?.rps ? fmtRatio(u.rps / pm2Rps) : null,
      mb(r.rssKb),
      pm2Rss && r.rssKb ? fmtRatio(r.rssKb / pm2Rss) : null,
      bare && r.rssKb ? `${r.rssKb - bare >= 0 ? '+' : ''}${mb(r.rssKb - bare)} MB` : null,
    ];
  });
  out.push(table(header, body));
  out.push(
    `bare node -e 'setInterval(()=>{},1000)': ${mb(bare)} MB RSS. PM2's "master" is its daemon (God); boot for PM2 is the app's process.uptime() at listen.`,
  );
  out.push(
    'lost = errors + timeouts + non-2xx + failed long requests; the undici client honours Connection: close, autocannon re-sends (see README).',
  );
  out.push('');
  out.push('Where the losses came from:');
  const lrows = [];
  for (const r of rows) {
    for (const kind of clients) {
      const x = r[kind];
      if (!x) continue;
      const codes =
        Object.entries(x.errorCodes ?? {})
          .map(([k, v]) => `${k}:${v}`)
          .join(' ') || '-';
      const per = (x.failuresPerReload ?? []).map((w) => (w.n ? `${w.n}@${w.firstMs}..${w.lastMs}ms` : '0')).join(', ');
      lrows.push([
        `${r.key} [${kind}]`,
        x.requests,
        x.errors,
        x.timeouts,
        x.non2xx,
        `${x.slow.length - x.slowFailed}/${x.slow.length}`,
        codes,
        per || '-',
        x.failuresOutsideReloads,
        `${x.steady.p99}/${x.reload.p99}`,
        x.steadyRps,
        x.reloads.map((z) => (z.outcome === 'done' ? z.wallMs : `${z.wallMs}(${z.outcome})`)).join(' ') +
          (x.error ? ` ERROR: ${x.error}` : ''),
      ]);
    }
  }
  out.push(
    table(
      [
        'run',
        'requests',
        'errors',
        'timeouts',
        'non-2xx',
        'long req ok',
        'error codes',
        'failures per reload (n@first..last after signal)',
        'outside',
        'p99 steady/reload ms',
        'steady req/s',
        'reload walls ms',
      ],
      lrows,
    ),
  );
  for (const r of rows) {
    if (r.error) out.push(`  ${r.label}: ERROR ${r.error}`);
    if (r.leftover?.length) out.push(`  ${r.label}: processes left after stop: ${r.leftover.join(' ')}`);
  }
  const o = results.overhead;
  if (o) {
    out.push('');
    out.push(
      `Drain engine per-request overhead (supervise -w 1, autocannon ${cfg.BENCH_OVERHEAD_CONNECTIONS} conns per variant at ${cfg.BENCH_OVERHEAD_RATE ? `${cfg.BENCH_OVERHEAD_RATE} req/s` : 'full speed'}, ${o.seconds} s per run, ${o.rounds.length} rounds, ${o.mode === 'concurrent' ? 'the three variants loaded at the same time' : 'variants one after the other in a rotating order'}; ratios are per round, against --no-auto-drain in the same round):`,
    );
    out.push(
      table(
        [
          'variant',
          'median req/s',
          'req/s ratio (median)',
          'per-round req/s ratios',
          'worker CPU us/req (median)',
          'CPU/req ratio (median)',
          'per-round CPU ratios',
          'cost per request',
        ],
        o.variants.map((v) => [
          v.label,
          v.medianRps,
          v.key === 'noauto' ? '1 (baseline)' : v.medianRpsRatio?.toFixed(3),
          v.rpsRatios ? v.rpsRatios.join(' ') : `${v.rps.join(' ')} req/s`,
          v.medianCpuUs,
          v.key === 'noauto' ? '1 (baseline)' : v.medianCpuRatio?.toFixed(3),
          v.cpuRatios ? v.cpuRatios.join(' ') : `${v.cpuUsPerReq.join(' ')} us`,
          v.key === 'noauto' || v.medianCpuRatio === null
            ? '-'
            : `${v.medianCpuRatio >= 1 ? '+' : ''}${round((v.medianCpuRatio - 1) * 100, 1)}% CPU`,
        ]),
      ),
    );
  }
  for (const part of [results.accept, results.longlived, results.metrics, results.cost, results.canary]) {
    if (!part) continue;
    out.push('');
    out.push(part.text);
  }
  out.push('');
  out.push(`logs of the masters: ${logDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main() {
  if (!existsSync(SUPERVISE_CLI)) {
    say(`${SUPERVISE_CLI} is missing: run \`pnpm build\` (or \`node scripts/setup.mjs\`) at ${ROOT}`);
    process.exit(2);
  }
  const t0 = now();
  results.loadavgStart = os.loadavg().map((x) => round(x, 2));
  say(`logs in ${logDir}`);
  results.bareNodeRssKb = await bareNodeRss();
  for (const c of CONTENDERS) {
    if (only.has(c.key)) await runContender(c);
  }
  if (only.has('overhead') && cfg.BENCH_OVERHEAD_ROUNDS > 0) {
    say('drain engine overhead');
    try {
      results.overhead = await overhead();
    } catch (err) {
      say(`overhead: ${err?.message ?? err}`);
    }
  }
  if (only.has('accept')) {
    try {
      results.accept = await runAccept(cfg, { logDir, say });
    } catch (err) {
      say(`accept: ${err?.message ?? err}`);
    }
  }
  if (only.has('longlived')) {
    try {
      results.longlived = await runLongLived(cfg, { logDir, say });
    } catch (err) {
      say(`longlived: ${err?.message ?? err}`);
    }
  }
  if (only.has('metrics')) {
    try {
      results.metrics = await runMetrics(cfg, { logDir, say });
    } catch (err) {
      say(`metrics: ${err?.message ?? err}`);
    }
  }
  if (only.has('cost')) {
    try {
      results.cost = await runCost(cfg, { logDir, say });
    } catch (err) {
      say(`cost: ${err?.message ?? err}`);
    }
  }
  if (only.has('canary')) {
    try {
      results.canary = await runCanary(cfg, { logDir, say });
    } catch (err) {
      say(`canary: ${err?.message ?? err}`);
    }
  }
  results.totalSeconds = Math.round((now() - t0) / 1000);
  results.loadavgEnd = os.loadavg().map((x) => round(x, 2));
  report();
  process.stdout.write(`total ${results.totalSeconds} s\n`);
  if (cfg.BENCH_JSON) writeFileSync(cfg.BENCH_JSON, JSON.stringify(results, null, 2));
  const left = await cleanupAll('end of run');
  if (left.length) process.exitCode = 1;
}

await main();
