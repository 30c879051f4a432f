#!/usr/bin/env node
// pnpm bench:scale: how every cost grows with the work, supervise and PM2 at the same points, on 127.0.0.1.
//  1. lost requests and client p99 at 1k, 2k, 4k, 8k keep-alive connections through 3 rollouts (an undici Pool,
//     each connection sending a request then pausing 500 ms), with the master's CPU and RSS at that load;
//  2. rollout wall time for 4, 8 and 16 workers, over the sum of the boots each rollout started;
//  3. the drain engine's memory per tracked connection (a server with and without it, 2k sockets);
//  4. the drain time of a worker holding 2k idle keep-alive sockets, under each idle rule.
// Every load loop is bounded in time and count; every process is killed by pid at the end.
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readConfigOrExit } from './lib/config.mjs';
import { EXAMPLE_BASIC, Pm2Contender, superviseContender } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { cleanupAll, cpuTicks, freePort, installCleanup, now, rssKb, sleep, spawnTracked } from './lib/procs.mjs';
import { median, round, table } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULTS = {
  BENCH_SCALE_POINTS: '1000,2000,4000,8000', // keep-alive connections
  BENCH_SCALE_REPEAT: 1, // runs per point and subject
  BENCH_SCALE_WORKERS: 4, // workers for the connection points
  BENCH_SCALE_DURATION: 24, // seconds of load per run (3 rollouts in it)
  BENCH_SCALE_PAUSE_MS: 500, // each connection: a request, then this pause
  BENCH_SCALE_ONLY: 'supervise,pm2',
  BENCH_SCALE_PARTS: 'connections,workers,memory,idle',
  BENCH_SCALE_WORKER_COUNTS: '4,8,16',
  BENCH_SCALE_IDLE_SOCKETS: 2000,
  BENCH_SCALE_IDLE_RULES: 'keep-alive,1s', // --idle-grace values for the idle drain part
  BENCH_SCALE_SUPERVISE_ARGS: '', // extra flags for supervise (e.g. "--idle-grace 1s")
};

const cfg = readConfigOrExit('BENCH', DEFAULTS);
if (cfg.help) {
  process.stdout.write(
    `pnpm bench:scale [-- --scale-points 4000 --scale-repeat 5 ...]; defaults:\n${Object.entries(DEFAULTS)
      .map(([k, v]) => `  ${k}=${v}`)
      .join('\n')}\n`,
  );
  process.exit(0);
}
const list = (s) =>
  String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const parts = new Set(list(cfg.BENCH_SCALE_PARTS));
const subjects = list(cfg.BENCH_SCALE_ONLY);
const say = (m) => process.stderr.write(`[scale] ${m}\n`);
const logDir = mkdtempSync(join(os.tmpdir(), 'supervise-bench-scale-'));
const extraArgs = cfg.BENCH_SCALE_SUPERVISE_ARGS.split(/\s+/).filter(Boolean);
const out = [];
installCleanup(async () => process.stdout.write(`${out.join('\n')}\n`));

function contender(key, workers, port, name, args = extraArgs) {
  if (key === 'pm2') return new Pm2Contender({ name, label: 'PM2 7', workers, port, logDir });
  return superviseContender({
    name,
    label: 'supervise',
    script: EXAMPLE_BASIC,
    workers,
    port,
    logDir,
    extraArgs: args,
  });
}

/** One run: C keep-alive connections for D seconds, 3 rollouts evenly spaced; the master's CPU and RSS. */
async function connectionsRun(key, connections, run) {
  const port = await freePort();
  const c = contender(key, cfg.BENCH_SCALE_WORKERS, port, `${key}-${connections}-${run}`);
  const D = cfg.BENCH_SCALE_DURATION * 1000;
  const row = { key, connections, run };
  try {
    await c.start();
    const master = c.masterPid();
    const load = startLoad('undici', {
      origin: `http://127.0.0.1:${port}`,
      connections,
      pauseMs: cfg.BENCH_SCALE_PAUSE_MS,
      hardMs: D + 120_000,
      timeoutMs: 10_000,
    });
    const t0 = await load.started;
    const cpu0 = cpuTicks(master);
    const windows = [];
    const walls = [];
    for (let i = 1; i <= 3; i++) {
      const at = t0 + (D * i) / 4;
      if (now() < at) await sleep(at - now());
      const ws = now();
      const r = await c.reload();
      windows.push([ws, now()]);
      walls.push(r.wallMs);
    }
    if (now() < t0 + D) await sleep(t0 + D - now());
    row.masterRssKb = rssKb(master);
    const cpu1 = cpuTicks(master);
    row.masterCpuPct =
      cpu0 !== null && cpu1 !== null ? round(((cpu1 - cpu0) / 100 / ((now() - t0) / 1000)) * 100, 1) : null;
    const res = await load.stop(windows, t0 + 2000);
    Object.assign(row, {
      requests: res.requests,
      lost: res.lost,
      codes: res.errorCodes,
      p99: res.steady.p99,
      p99Reload: res.reload.p99,
      walls,
    });
  } catch (err) {
    row.error = String(err?.message ?? err);
  } finally {
    row.leftover = await c.stop();
  }
  say(
    `${key} ${connections} conns run ${run}: lost ${row.lost ?? '?'} of ${row.requests ?? '?'}, p99 ${row.p99}/${row.p99Reload} ms, master ${row.masterCpuPct}% CPU ${round((row.masterRssKb ?? 0) / 1024, 1)} MB${row.error ? `, ERROR ${row.error}` : ''}`,
  );
  return row;
}

/** Rollouts with no load: wall time over the sum of the boots each started. */
async function workersRun(key, workers) {
  const port = await freePort();
  const c = contender(key, workers, port, `${key}-w${workers}`);
  const row = { key, workers, walls: [], ratios: [] };
  try {
    await c.start();
    await sleep(1000);
    for (let i = 0; i < 3; i++) {
      const r = await c.reload();
      row.walls.push(r.wallMs);
      if (r.bootSumMs > 0) row.ratios.push(round(r.wallMs / r.bootSumMs, 2));
      await sleep(500);
    }
  } catch (err) {
    row.error = String(err?.message ?? err);
  } finally {
    row.leftover = await c.stop();
  }
  say(`${key} -w ${workers}: rollouts ${row.walls.join(' ')} ms, wall/boots ${row.ratios.join(' ')}`);
  return row;
}

/** Opens n keep-alive sockets that each send one request and then stay idle; resolves once all are answered. */
async function idleSockets(port, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      Array.from(
        { length: Math.min(200, n - i) },
        () =>
          new Promise((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            sockets.push(s);
            s.on('error', () => {});
            s.once('data', () => resolve());
            s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
            setTimeout(resolve, 10_000).unref();
          }),
      ),
    );
  }
  return sockets;
}

/** The engine's memory per tracked connection: heap after GC of a server with and without it, n sockets open. */
async function memoryPart(n) {
  const measure = async (engine) => {
    const port = await freePort();
    const child = spawnTracked(
      `mem-${engine}`,
      process.execPath,
      ['--expose-gc', join(here, 'lib/engine-memory.cjs')],
      {
        env: { ...process.env, PORT: String(port), ENGINE: engine ? '1' : '0' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const ask = () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send('measure');
      });
    await new Promise((resolve) => child.once('message', resolve)); // listening
    const before = await ask();
    const sockets = await idleSockets(port, n);
    const after = await ask();
    for (const s of sockets) s.destroy();
    child.kill('SIGKILL');
    return { heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss };
  };
  const [without, withEngine] = [await measure(false), await measure(true)];
  return {
    n,
    heapPerConnWithout: round(without.heap / n, 0),
    heapPerConnWith: round(withEngine.heap / n, 0),
    enginePerConn: round((withEngine.heap - without.heap) / n, 0),
  };
}

/** Drain time of one worker holding n idle keep-alive sockets, under each --idle-grace rule. */
async function idlePart(n) {
  const rows = [];
  for (const rule of list(cfg.BENCH_SCALE_IDLE_RULES)) {
    const port = await freePort();
    const c = superviseContender({
      name: `idle-${rule}`,
      label: 'supervise',
      script: EXAMPLE_BASIC,
      workers: 1,
      port,
      logDir,
      extraArgs: ['--idle-grace', rule],
    });
    const row = { rule, n };
    let sockets = [];
    try {
      await c.start();
      sockets = await idleSockets(port, n);
      await sleep(500);
      const mark = c.events.length;
      await c.reload();
      const exit = await c.waitEvent(
        (e) => e.event === 'worker.exit' && c.events.indexOf(e) >= mark,
        60_000,
        'the old worker exit',
      );
      Object.assign(row, {
        drainMs: exit.drain?.durationMs,
        closedIdle: exit.drain?.closedIdle,
        forced: exit.drain?.forced,
      });
      const closedByClient = sockets.filter((s) => s.destroyed || s.readableEnded).length;
      row.closedSeen = closedByClient;
    } catch (err) {
      row.error = String(err?.message ?? err);
    } finally {
      for (const s of sockets) s.destroy();
      row.leftover = await c.stop();
    }
    say(
      `idle drain, ${n} sockets, --idle-grace ${rule}: ${row.drainMs} ms (${row.closedIdle} closed idle, ${row.forced} forced)`,
    );
    rows.push(row);
  }
  return rows;
}

async function main() {
  say(`logs in ${logDir}`);
  const t0 = now();
  out.push(
    `supervise bench:scale, ${new Date().toISOString()}, ${os.availableParallelism()} cores, node ${process.version}; load average ${os
      .loadavg()
      .map((x) => round(x, 2))
      .join(' ')}`,
  );
  if (parts.has('connections')) {
    const rows = [];
    for (const connections of list(cfg.BENCH_SCALE_POINTS).map(Number)) {
      for (const key of subjects)
        for (let run = 1; run <= cfg.BENCH_SCALE_REPEAT; run++) rows.push(await connectionsRun(key, connections, run));
    }
    out.push('');
    out.push(
      `Keep-alive connections through 3 rollouts (${cfg.BENCH_SCALE_WORKERS} workers, undici, each connection: a request then ${cfg.BENCH_SCALE_PAUSE_MS} ms pause, ${cfg.BENCH_SCALE_DURATION} s; client and server share the machine):`,
    );
    out.push(
      table(
        [
          'subject',
          'conns',
          'run',
          'requests',
          'lost',
          'error codes',
          'p99 steady/reload ms',
          'rollout walls ms',
          'master CPU %',
          'master RSS MB',
        ],
        rows.map((r) => [
          r.key,
          r.connections,
          r.run,
          r.requests,
          r.lost,
          Object.entries(r.codes ?? {})
            .map(([k, v]) => `${k}:${v}`)
            .join(' ') || '-',
          `${r.p99}/${r.p99Reload}`,
          (r.walls ?? []).join(' '),
          r.masterCpuPct,
          r.masterRssKb ? round(r.masterRssKb / 1024, 1) : null,
        ]),
      ),
    );
    for (const r of rows) if (r.error) out.push(`  ${r.key} ${r.connections}: ERROR ${r.error}`);
  }
  if (parts.has('workers')) {
    const rows = [];
    for (const w of list(cfg.BENCH_SCALE_WORKER_COUNTS).map(Number))
      for (const key of subjects) rows.push(await workersRun(key, w));
    out.push('');
    out.push(
      'Rollout wall time by number of workers (no load; wall / the sum of the boots that rollout started: 1.0 = the boots alone):',
    );
    out.push(
      table(
        ['subject', 'workers', 'rollout walls ms', 'median ms', 'ms per worker', 'wall / boots'],
        rows.map((r) => {
          const m = median(r.walls);
          return [
            r.key,
            r.workers,
            r.walls.join(' '),
            m,
            m ? round(m / r.workers, 0) : null,
            r.ratios.length ? median(r.ratios) : '-',
          ];
        }),
      ),
    );
    for (const r of rows) if (r.error) out.push(`  ${r.key} -w ${r.workers}: ERROR ${r.error}`);
  }
  if (parts.has('memory')) {
    const m = await memoryPart(cfg.BENCH_SCALE_IDLE_SOCKETS);
    out.push('');
    out.push(
      `Drain engine memory per tracked connection (${m.n} keep-alive sockets, heap after GC): ${m.enginePerConn} bytes (server heap per connection: ${m.heapPerConnWith} with the engine, ${m.heapPerConnWithout} without)`,
    );
  }
  if (parts.has('idle')) {
    const rows = await idlePart(cfg.BENCH_SCALE_IDLE_SOCKETS);
    out.push('');
    out.push(
      `Drain of one worker holding ${cfg.BENCH_SCALE_IDLE_SOCKETS} idle keep-alive sockets (examples/http-basic, node's default keepAliveTimeout 5 s):`,
    );
    out.push(
      table(
        ['--idle-grace', 'drain ms', 'closed idle', 'forced', 'sockets the client saw closed'],
        rows.map((r) => [r.rule, r.drainMs, r.closedIdle, r.forced, r.closedSeen]),
      ),
    );
  }
  out.push('');
  out.push(`total ${Math.round((now() - t0) / 1000)} s; logs: ${logDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
  const left = await cleanupAll('end of run');
  if (left.length) process.exitCode = 1;
}

await main();
