// The contenders of the bench: how to start one, reload it, read its master's pid and stop it.
// Every process goes through procs.mjs, so the final cleanup knows it.
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  descendants,
  killTree,
  learnPid,
  now,
  onCleanup,
  onLines,
  running,
  runCmd,
  sleep,
  spawnTracked,
  waitGone,
  waitHttp,
} from './procs.mjs';
import { median } from './stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const BENCH_DIR = join(here, '..');
export const ROOT = join(BENCH_DIR, '..');
export const SUPERVISE_CLI = join(ROOT, 'packages/supervisor/dist/cli.cjs');
export const EXAMPLE_SDK = join(ROOT, 'examples/http-sdk/server.js');
export const EXAMPLE_BASIC = join(ROOT, 'examples/http-basic/server.js');
const NAIVE_MASTER = join(BENCH_DIR, 'apps/naive-master.mjs');
const PM2_APP = join(BENCH_DIR, 'apps/pm2-server.cjs');
const PM2_BIN = join(BENCH_DIR, 'node_modules/pm2/bin/pm2');

/**
 * A master that logs JSON lines with an `event` field on stdout: supervise (--log-format json) or the naive
 * master. Keeps the events, learns worker pids, measures boot times (fork -> ready) from the log timestamps.
 */
class JsonLogMaster {
  constructor({ name, label, cmd, args, port, logDir, workerMarker, events, env = {} }) {
    Object.assign(this, { name, label, cmd, args, port, logDir, workerMarker, extraEnv: env });
    this.ev = events; // names of the events: { ready, fork, workerReady, reloadEnd }
    this.events = [];
    this.waiters = [];
    this.forkAt = new Map();
    this.bootMs = []; // every worker's fork -> ready
    this.firstBootMs = []; // the workers of the first start (idle machine)
    this.started = false;
    this.reloads = 0;
  }

  async start() {
    const env = { ...process.env, PORT: String(this.port), HOST: '127.0.0.1', ...this.extraEnv };
    this.logFile = join(this.logDir, `${this.name}.log`);
    const out = createWriteStream(this.logFile);
    this.child = spawnTracked(this.name, this.cmd, this.args, { env, cwd: ROOT });
    this.pid = this.child.pid;
    const handle = (line) => {
      out.write(`${line}\n`);
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (!e || typeof e.event !== 'string') return;
      e.at = now();
      if (e.event === this.ev.ready) this.started = true;
      this.events.push(e);
      const wpid = e.wpid ?? (e.pid !== this.pid ? e.pid : undefined);
      if (e.event === this.ev.fork && wpid) {
        learnPid(wpid, this.workerMarker);
        this.forkAt.set(wpid, Date.parse(e.time));
      }
      if (e.event === this.ev.workerReady?.name && this.ev.workerReady.match(e) && wpid && this.forkAt.has(wpid)) {
        const ms = Date.parse(e.time) - this.forkAt.get(wpid);
        this.bootMs.push(ms);
        if (!this.started) this.firstBootMs.push(ms);
      }
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    };
    onLines(this.child.stdout, handle);
    onLines(this.child.stderr, (line) => out.write(`[stderr] ${line}\n`));
    this.child.once('exit', (code, sig) => {
      this.exited = { code, sig };
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.label}: master exited (${code ?? sig})`));
    });
    await this.waitEvent((e) => e.event === this.ev.ready, 60_000, 'ready');
    if (!(await waitHttp(this.port))) throw new Error(`${this.label}: no answer on port ${this.port}`);
  }

  waitEvent(pred, ms, what) {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(`${this.label}: master has exited`));
      const w = { pred, resolve, reject };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`${this.label}: no ${what} within ${ms} ms (log: ${this.logFile})`));
        }
      }, ms).unref();
    });
  }

  /** The process whose idle RSS is compared: the master. */
  masterPid() {
    return this.pid;
  }

  /**
   * SIGHUP, then waits for the end-of-reload line. Returns { wallMs (from the log), outcome, bootSumMs: the sum
   * of the boot times (fork -> ready) of the workers this reload started }.
   */
  async reload() {
    const t0 = now();
    const before = this.bootMs.length;
    const ended = this.waitEvent((e) => e.event === this.ev.reloadEnd && e.at >= t0, 120_000, this.ev.reloadEnd);
    process.kill(this.pid, 'SIGHUP');
    const e = await ended;
    this.reloads++;
    const bootSumMs = this.bootMs.slice(before).reduce((a, b) => a + b, 0);
    return { wallMs: e.durationMs ?? now() - t0, outcome: e.outcome ?? 'done', observedMs: now() - t0, bootSumMs };
  }

  /** Median boot of the workers started after the first start (during rollouts, under load), else of all. */
  bootMedian() {
    const later = this.bootMs.slice(this.firstBootMs.length);
    return median(later.length ? later : this.bootMs);
  }

  firstBootMedian() {
    return median(this.firstBootMs);
  }

  workerPids() {
    return descendants(this.pid);
  }

  async stop() {
    if (!this.pid || !running(this.pid)) return [];
    return killTree(this.pid, { sig: 'SIGTERM', graceMs: 15_000 });
  }
}

/** nodeArgs: options for the master's own node (not its workers'); env: extra environment for the master. */
export function superviseContender({
  name,
  label,
  script,
  autoDrain = true,
  workers,
  port,
  logDir,
  nodeArgs = [],
  env = {},
  extraArgs = [],
}) {
  const args = [...nodeArgs, SUPERVISE_CLI, script, '-w', String(workers), '--log-format', 'json', ...extraArgs];
  if (!autoDrain) args.push('--no-auto-drain');
  return new JsonLogMaster({
    name,
    label,
    cmd: process.execPath,
    args,
    port,
    logDir,
    workerMarker: script,
    env,
    events: {
      ready: 'master.ready',
      fork: 'worker.fork',
      workerReady: { name: 'worker.state', match: (e) => e.to === 'ready' },
      reloadEnd: 'rollout.end',
    },
  });
}

export function naiveContender({ name = 'naive', label = 'naive cluster master', workers, port, logDir }) {
  return new JsonLogMaster({
    name,
    label,
    cmd: process.execPath,
    args: [NAIVE_MASTER, EXAMPLE_BASIC, '-w', String(workers)],
    port,
    logDir,
    workerMarker: EXAMPLE_BASIC,
    events: {
      ready: 'master.ready',
      fork: 'worker.fork',
      workerReady: { name: 'worker.ready', match: () => true },
      reloadEnd: 'reload.end',
    },
  });
}

/** PM2 7 in cluster mode under a private PM2_HOME, as its docs advise for graceful reloads. */
export class Pm2Contender {
  /** script: the app (PM2's pattern: 'ready' after listen, close on SIGINT); env: extra for the app. */
  constructor({ name = 'pm2', label = 'PM2 cluster, pm2 reload', workers, port, logDir, script = PM2_APP, env = {} }) {
    Object.assign(this, { name, label, workers, port, logDir, script });
    this.home = mkdtempSync(join(tmpdir(), 'supervise-bench-pm2-'));
    onCleanup(() => rmSync(this.home, { recursive: true, force: true }));
    this.app = 'bench-app';
    this.env = { ...process.env, PM2_HOME: this.home, PORT: String(port), HOST: '127.0.0.1', ...env };
    this.daemonPid = null;
    this.reloads = 0;
    this.log = createWriteStream(join(logDir, `${name}.log`));
  }

  pm2(args, timeoutMs = 60_000) {
    return runCmd(`pm2 ${args[0]}`, process.execPath, [PM2_BIN, ...args], {
      env: this.env,
      timeoutMs,
      cwd: BENCH_DIR,
    }).then((r) => {
      this.log.write(`$ pm2 ${args.join(' ')}  (exit ${r.code}, ${r.ms} ms)\n${r.stdout}${r.stderr}\n`);
      return r;
    });
  }

  readDaemonPid() {
    try {
      return Number(readFileSync(join(this.home, 'pm2.pid'), 'utf8').trim()) || null;
    } catch {
      return null;
    }
  }

  async start() {
    const r = await this.pm2(
      ['start', this.script, '--name', this.app, '-i', String(this.workers), '--wait-ready', '--kill-timeout', '5000'],
      90_000,
    );
    this.daemonPid = this.readDaemonPid();
    if (this.daemonPid) learnPid(this.daemonPid, 'PM2');
    if (r.code !== 0) throw new Error(`pm2 start failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
    if (!this.daemonPid) throw new Error(`pm2 start: no daemon pid in ${this.home}`);
    this.learnWorkers();
    if (!(await waitHttp(this.port))) throw new Error(`PM2: no answer on port ${this.port}`);
  }

  learnWorkers() {
    if (this.daemonPid) for (const p of descendants(this.daemonPid)) learnPid(p, this.script);
  }

  masterPid() {
    return this.daemonPid;
  }

  /** `pm2 reload`, timed from the outside: the command returns when the reload is over. */
  async reload() {
    const before = this.boots().later.length;
    const r = await this.pm2(['reload', this.app], 120_000);
    this.learnWorkers();
    this.reloads++;
    const bootSumMs = this.boots()
      .later.slice(before)
      .reduce((a, b) => a + b, 0);
    return { wallMs: r.ms, observedMs: r.ms, outcome: r.code === 0 ? 'done' : `exit ${r.code}`, bootSumMs };
  }

  /** The app logs process.uptime() at listen (PM2 gives no fork -> ready time of its own). */
  /** Boot times from the out log of each instance: { first: the first start's, later: the reloads' }. */
  boots() {
    const first = [];
    const later = [];
    const dir = join(this.home, 'logs');
    if (!existsSync(dir)) return { first, later };
    for (const f of readdirSync(dir)) {
      if (!f.includes('-out')) continue;
      let n = 0;
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const i = line.indexOf('{"event":"app.ready"');
        if (i < 0) continue;
        try {
          (n++ === 0 ? first : later).push(JSON.parse(line.slice(i)).bootMs);
        } catch {}
      }
    }
    return { first, later };
  }

  get bootMs() {
    const { first, later } = this.boots();
    return [...first, ...later];
  }

  bootMedian() {
    const { first, later } = this.boots();
    return median(later.length ? later : first);
  }

  firstBootMedian() {
    return median(this.boots().first);
  }

  workerPids() {
    return this.daemonPid ? descendants(this.daemonPid) : [];
  }

  async stop() {
    const daemon = this.daemonPid ?? this.readDaemonPid();
    const tree = daemon ? [daemon, ...descendants(daemon)] : [];
    await this.pm2(['kill'], 30_000);
    let left = await waitGone(tree, 5000);
    if (left.length && daemon) left = await killTree(daemon, { sig: 'SIGKILL', graceMs: 0 });
    for (const p of left.filter(running)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    left = await waitGone(left, 2000);
    await sleep(100);
    try {
      rmSync(this.home, { recursive: true, force: true });
    } catch {}
    return left;
  }
}
