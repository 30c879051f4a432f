#!/usr/bin/env node
// pnpm bench:upgrade: replacing the master itself under load, in one run on 127.0.0.1: `supervise upgrade`
// (the new master inherits the listening socket), a stop and start of supervise (what upgrading it meant
// before), and `pm2 update` (PM2's way to put a new PM2 in memory: save, kill the daemon, resurrect). Two undici
// loads run through every replacement, one with keep-alive and one with a request per connection; each counts
// refused connections (ECONNREFUSED) and lost requests (every request without a 2xx answer) itself.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

import { EXAMPLE_BASIC, Pm2Contender, SUPERVISE_CLI } from './lib/contenders.mjs';
import { startLoad } from './lib/loadrun.mjs';
import { freePort, learnPid, now, onLines, runCmd, sleep, spawnTracked, waitGone } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { table } from './lib/stats.mjs';

export const UPGRADE_DEFAULTS = {
  BENCH_UPGRADE_WORKERS: 4,
  BENCH_UPGRADE_TIMES: 3, // replacements of the master per contender
  BENCH_UPGRADE_CONNECTIONS: 20, // undici keep-alive connections
  BENCH_UPGRADE_RESET_CONNECTIONS: 10, // undici, one request per connection
  BENCH_UPGRADE_GAP_MS: 3000, // load between two replacements, and before the first and after the last
  BENCH_UPGRADE_ONLY: 'upgrade,restart,pm2',
};

const CONTENDERS = [
  { key: 'upgrade', label: 'supervise upgrade' },
  { key: 'restart', label: 'supervise stop, then start' },
  { key: 'pm2', label: 'PM2 7, pm2 update' },
];

/** A supervise master on `port` with its control socket at `sock`; resolves once every worker is ready. */
async function startSupervise({ port, sock, workers, log }) {
  const child = spawnTracked(
    'supervise',
    process.execPath,
    [SUPERVISE_CLI, EXAMPLE_BASIC, '-w', String(workers), '--log-format', 'json', '--control', sock],
    { env: { ...process.env, PORT: String(port) } },
  );
  let ready;
  const isReady = new Promise((resolve) => (ready = resolve));
  // The masters an upgrade starts inherit these pipes: their lines arrive here too.
  for (const stream of [child.stdout, child.stderr])
    onLines(stream, (line) => {
      log.write(`${line}\n`);
      if (line.includes('"event":"master.ready"')) ready(true);
      if (line.includes('"event":"worker.fork"'))
        learnPid(Number(/"pid":(\d+),"worker"/.exec(line)?.[1]), EXAMPLE_BASIC);
    });
  child.once('exit', () => ready(false));
  const bound = sleep(60_000).then(() => false);
  if (!(await Promise.race([isReady, bound]))) throw new Error(`supervise on port ${port} was not ready within 60 s`);
  return child.pid;
}

const ctl = (args, sock) =>
  runCmd(`supervise ${args[0]}`, process.execPath, [SUPERVISE_CLI, ...args, '--control', sock]);

/** The contender's start, its replacement of the master, and its stop. */
function contender(key, { port, workers, logDir }) {
  const sock = join(logDir, `${key}.sock`);
  const log = createWriteStream(join(logDir, `${key}.log`));
  if (key === 'pm2') {
    const pm2 = new Pm2Contender({ name: 'pm2-update', workers, port, logDir });
    return {
      start: () => pm2.start(),
      replace: async () => {
        const r = await pm2.pm2(['update'], 120_000);
        pm2.daemonPid = pm2.readDaemonPid();
        if (pm2.daemonPid) learnPid(pm2.daemonPid, 'PM2');
        pm2.learnWorkers();
        if (r.code !== 0) throw new Error(`pm2 update failed (exit ${r.code}): ${r.stderr.slice(-300)}`);
      },
      stop: () => pm2.stop(),
    };
  }
  let master = null;
  return {
    start: async () => {
      master = await startSupervise({ port, sock, workers, log });
    },
    replace: async () => {
      if (key === 'restart') {
        const r = await ctl(['stop'], sock);
        if (r.code !== 0) throw new Error(`supervise stop: ${r.stderr.trim()}`);
        master = await startSupervise({ port, sock, workers, log });
        return;
      }
      const r = await ctl(['upgrade'], sock);
      if (r.code !== 0) throw new Error(`supervise upgrade: ${r.stderr.trim()}`);
      const next = Number(/master (\d+) \(node/.exec(r.stdout)?.[1]);
      learnPid(next, SUPERVISE_CLI);
      // The old master drains and exits before the next replacement, as an operator would wait for.
      await waitGone([master], 60_000);
      master = next;
    },
    stop: async () => {
      await ctl(['stop'], sock);
      await waitGone([master], 30_000);
    },
  };
}

export async function runUpgrade(cfg, { logDir, say }) {
  const only = new Set(cfg.BENCH_UPGRADE_ONLY.split(',').map((s) => s.trim()));
  const rows = [];
  const figures = [];
  for (const { key, label } of CONTENDERS.filter((c) => only.has(c.key))) {
    const port = await freePort();
    const c = contender(key, { port, workers: cfg.BENCH_UPGRADE_WORKERS, logDir });
    say(`${label}: starting ${cfg.BENCH_UPGRADE_WORKERS} workers on port ${port}`);
    await c.start();
    const origin = `http://127.0.0.1:${port}`;
    const common = { origin, hardMs: 300_000, maxRequests: 5_000_000, timeoutMs: 10_000 };
    const loads = [
      startLoad('undici', { ...common, connections: cfg.BENCH_UPGRADE_CONNECTIONS }),
      startLoad('undici', { ...common, connections: cfg.BENCH_UPGRADE_RESET_CONNECTIONS, reset: true }),
    ];
    await Promise.all(loads.map((l) => l.started));
    await sleep(cfg.BENCH_UPGRADE_GAP_MS);
    const walls = [];
    let failure = null;
    for (let i = 0; i < cfg.BENCH_UPGRADE_TIMES && !failure; i++) {
      const t0 = now();
      try {
        await c.replace();
      } catch (err) {
        failure = err.message;
        say(`${label}: ${failure}`);
      }
      walls.push(now() - t0);
      say(`${label}: replacement ${i + 1} took ${walls.at(-1)} ms`);
      await sleep(cfg.BENCH_UPGRADE_GAP_MS);
    }
    const [keepAlive, perConnection] = await Promise.all(loads.map((l) => l.stop([], 0)));
    await c.stop();
    const refused = (r) => r.errorCodes?.ECONNREFUSED ?? 0;
    const row = {
      label,
      replacements: walls.length,
      wallMs: walls,
      keepAlive: { requests: keepAlive.requests, refused: refused(keepAlive), lost: keepAlive.lost },
      perConnection: { requests: perConnection.requests, refused: refused(perConnection), lost: perConnection.lost },
      errorCodes: { keepAlive: keepAlive.errorCodes, perConnection: perConnection.errorCodes },
      failure,
    };
    figures.push(row);
    rows.push([
      label,
      String(walls.length),
      walls.join(' / '),
      String(keepAlive.requests),
      String(row.keepAlive.refused),
      String(row.keepAlive.lost),
      String(perConnection.requests),
      String(row.perConnection.refused),
      String(row.perConnection.lost),
    ]);
  }
  const text = [
    `supervise bench:upgrade: ${new Date().toISOString()}, node ${process.version}, ${cfg.BENCH_UPGRADE_WORKERS} workers, ${cfg.BENCH_UPGRADE_TIMES} replacements of the master each, ${cfg.BENCH_UPGRADE_GAP_MS} ms of load around each; undici ${cfg.BENCH_UPGRADE_CONNECTIONS} keep-alive + ${cfg.BENCH_UPGRADE_RESET_CONNECTIONS} one-per-connection`,
    '',
    table(
      [
        'contender',
        'replacements',
        'wall ms each',
        'keep-alive reqs',
        'refused',
        'lost',
        'per-conn reqs',
        'refused',
        'lost',
      ],
      rows,
    ),
    'refused = connections refused (ECONNREFUSED); lost = every request without a 2xx answer, refused ones included.',
    ...figures.filter((f) => f.failure).map((f) => `${f.label}: ${f.failure}`),
  ].join('\n');
  return { text, figures };
}

await runStandalone(import.meta.url, UPGRADE_DEFAULTS, 'upgrade', runUpgrade);
