#!/usr/bin/env node
// pnpm bench:soak (issue 6): supervise + the SDK example, a rolling restart every SOAK_RELOAD_EVERY seconds under
// a light keep-alive undici load, for SOAK_DURATION seconds. Prints lost requests (target 0), and the master's RSS
// and open fds at start and end (targets: flat), plus a line per reload.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { readConfigOrExit } from './lib/config.mjs';
import { BENCH_DIR, EXAMPLE_SDK, superviseContender } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { cleanupAll, fdCount, freePort, installCleanup, now, rssKb, sleep } from './lib/procs.mjs';
import { round, table } from './lib/stats.mjs';

const DEFAULTS = {
  SOAK_DURATION: 600, // seconds
  SOAK_RELOAD_EVERY: 10, // seconds between reloads (from the end of one to the start of the next at the latest)
  SOAK_WORKERS: 4,
  SOAK_CONNECTIONS: 8, // light load: a few keep-alive connections...
  SOAK_PAUSE_MS: 20, // ...each pausing between requests
  SOAK_TIMEOUT_MS: 10_000,
  SOAK_SCRIPT: EXAMPLE_SDK,
  SOAK_JSON: '',
  SOAK_GC_PROBE: 0, // 1: force a GC in the master every 2 s and report its heap after GC (lib/gc-probe.cjs)
};

const cfg = readConfigOrExit('SOAK', DEFAULTS);
if (cfg.help) {
  process.stdout.write(
    `pnpm bench:soak [-- --duration 600 --reload-every 10 ...]; flags are also SOAK_* variables:\n${Object.entries(
      DEFAULTS,
    )
      .map(([k, v]) => `  ${k}=${v}`)
      .join('\n')}\n`,
  );
  process.exit(0);
}

const say = (m) => process.stderr.write(`[soak] ${m}\n`);
const mb = (kb) => (kb === null ? null : round(kb / 1024, 1));
const logDir = mkdtempSync(join(os.tmpdir(), 'supervise-soak-logs-'));
const samples = [];
let load = null;
let master = null;
let loadResult = null;
const reloads = [];
let t0 = 0;

const probeFile = join(logDir, 'gc-probe.jsonl');

/** The master's heap after its last forced GC (SOAK_GC_PROBE=1), in kB. */
function heapAfterGc() {
  if (!cfg.SOAK_GC_PROBE || !existsSync(probeFile)) return null;
  const lines = readFileSync(probeFile, 'utf8').trim().split('\n');
  try {
    return JSON.parse(lines.at(-1)).heapUsedKb;
  } catch {
    return null;
  }
}

function sample(label) {
  const pid = master?.masterPid();
  const s = {
    label,
    t: Math.round((now() - t0) / 1000),
    rssKb: pid ? rssKb(pid) : null,
    fds: pid ? fdCount(pid) : null,
    workers: master ? master.workerPids().length : null,
    heapKb: heapAfterGc(),
  };
  samples.push(s);
  return s;
}

function report(partial = false) {
  const first = samples[0];
  const last = samples.at(-1);
  const out = [''];
  out.push(
    `supervise soak${partial ? ' (interrupted)' : ''}: ${new Date().toISOString()}, ${os.availableParallelism()} cores, node ${process.version}, ` +
      `${cfg.SOAK_WORKERS} workers of ${cfg.SOAK_SCRIPT}, a reload every ${cfg.SOAK_RELOAD_EVERY} s for ${cfg.SOAK_DURATION} s, ` +
      `undici ${cfg.SOAK_CONNECTIONS} keep-alive conns pausing ${cfg.SOAK_PAUSE_MS} ms`,
  );
  const outcomes = {};
  for (const r of reloads) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const walls = reloads.map((r) => r.wallMs).sort((a, b) => a - b);
  out.push(
    `reloads: ${reloads.length} (${
      Object.entries(outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }), ` + `wall ms min/median/max ${walls[0] ?? '-'}/${walls[walls.length >> 1] ?? '-'}/${walls.at(-1) ?? '-'}`,
  );
  if (loadResult) {
    const codes =
      Object.entries(loadResult.errorCodes)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || 'none';
    out.push(
      `requests: ${loadResult.requests}, lost: ${loadResult.lost} (errors ${loadResult.errors}, timeouts ${loadResult.timeouts}, non-2xx ${loadResult.non2xx}; codes ${codes}); ` +
        `p99 steady ${loadResult.steady.p99} ms, during reloads ${loadResult.reload.p99} ms`,
    );
  }
  if (first && last) {
    const delta = (a, b, f = (x) => x) =>
      a !== null && b !== null && a !== undefined && b !== undefined ? `${b - a >= 0 ? '+' : ''}${f(b - a)}` : null;
    const heap = cfg.SOAK_GC_PROBE ? [(s) => mb(s.heapKb)] : [];
    out.push(
      table(
        [
          '',
          'at s',
          'master RSS MB',
          'master open fds',
          'processes under the master',
          ...(heap.length ? ['master heap after GC MB'] : []),
        ],
        [
          ['start', first.t, mb(first.rssKb), first.fds, first.workers, ...heap.map((f) => f(first))],
          ['end', last.t, mb(last.rssKb), last.fds, last.workers, ...heap.map((f) => f(last))],
          [
            'change',
            last.t - first.t,
            delta(first.rssKb, last.rssKb, mb),
            delta(first.fds, last.fds),
            null,
            ...(heap.length ? [delta(first.heapKb, last.heapKb, mb)] : []),
          ],
        ],
      ),
    );
    const rss = samples.map((s) => s.rssKb).filter(Boolean);
    out.push(
      `master RSS over the run (MB): min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}; fds min ${Math.min(...samples.map((s) => s.fds ?? Infinity))}, max ${Math.max(...samples.map((s) => s.fds ?? -Infinity))}`,
    );
  }
  out.push(`master log: ${logDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (cfg.SOAK_JSON) writeFileSync(cfg.SOAK_JSON, JSON.stringify({ cfg, samples, reloads, load: loadResult }, null, 2));
}

installCleanup(async () => {
  if (load && !loadResult) {
    loadResult = await load
      .stop(
        reloads.map((r) => r.window),
        t0 + 1000,
      )
      .catch(() => null);
  }
  report(true);
});

async function main() {
  const port = await freePort();
  const probe = cfg.SOAK_GC_PROBE
    ? {
        nodeArgs: ['--expose-gc', '--require', join(BENCH_DIR, 'lib/gc-probe.cjs')],
        env: { SUPERVISE_BENCH_GC_PROBE: probeFile },
      }
    : {};
  master = superviseContender({
    name: 'soak',
    label: 'supervise soak',
    script: cfg.SOAK_SCRIPT,
    workers: cfg.SOAK_WORKERS,
    port,
    logDir,
    ...probe,
  });
  say(`starting ${cfg.SOAK_WORKERS} workers on port ${port}; logs in ${logDir}`);
  await master.start();
  await sleep(2000);
  t0 = now();
  // Idle before the load starts, like the end sample after it stops.
  const s0 = sample('start');
  say(`start: master RSS ${mb(s0.rssKb)} MB, ${s0.fds} open fds, ${s0.workers} processes under the master`);
  const D = cfg.SOAK_DURATION * 1000;
  const every = cfg.SOAK_RELOAD_EVERY * 1000;
  load = startLoad('undici', {
    origin: `http://127.0.0.1:${port}`,
    connections: cfg.SOAK_CONNECTIONS,
    pauseMs: cfg.SOAK_PAUSE_MS,
    hardMs: D + 120_000,
    maxRequests: 50_000_000,
    timeoutMs: cfg.SOAK_TIMEOUT_MS,
  });
  const lt0 = await load.started;
  if (lt0 === null) throw new Error('the load client did not start');
  let next = t0 + every;
  while (next + 1000 < t0 + D) {
    await sleep(Math.max(0, next - now()));
    const ws = now();
    let r;
    try {
      r = await master.reload();
    } catch (err) {
      r = { outcome: `error: ${err?.message ?? err}`, wallMs: now() - ws };
      say(r.outcome);
      reloads.push({ ...r, window: [ws, now()] });
      break;
    }
    reloads.push({ ...r, window: [ws, now()] });
    const s = sample(`reload ${reloads.length}`);
    say(
      `t=${s.t}s reload ${reloads.length}: ${r.outcome} in ${r.wallMs} ms; master RSS ${mb(s.rssKb)} MB, ${s.fds} fds, ${s.workers} processes` +
        (s.heapKb !== null ? `, heap after GC ${mb(s.heapKb)} MB` : ''),
    );
    next = Math.max(next + every, now() + 1000);
  }
  await sleep(Math.max(0, t0 + D - now()));
  loadResult = await load.stop(
    reloads.map((r) => r.window),
    lt0 + 1000,
  );
  await sleep(2000);
  sample('end');
  report();
  const failed = loadResult.lost > 0 || reloads.some((r) => r.outcome !== 'done');
  await master.stop();
  await cleanupAll('end of soak');
  process.exit(failed ? 1 : 0);
}

await main();
