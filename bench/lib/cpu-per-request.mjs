// The CPU time per request of a trivial keep-alive app, the measure issue 32 names: every server process of one
// contender (supervise: master + worker; PM2: its daemon + its worker; bare: the one process) pinned to one CPU,
// wrk pinned to another, utime + stime of each server process read from /proc/<pid>/stat just before and just
// after a wrk run, divided by the requests wrk completed. Pinning keeps the client's CPU out of the servers' core,
// so the servers cannot borrow an idle core that one contender has and another has not.
import { readFileSync, readdirSync } from 'node:fs';

import { EXAMPLE_BASIC } from './contenders.mjs';
import { cpuTicks, freePort, killTree, runCmd, spawnTracked, waitHttp } from './procs.mjs';
import { median } from './stats.mjs';

export const CPU_DEFAULTS = {
  BENCH_COST_CPU: 'auto', // 'off' to leave the CPU per request out
  BENCH_COST_CPU_SECONDS: 3, // one measured wrk run per contender and round
  BENCH_COST_CPU_WARMUP_SECONDS: 1, // an unmeasured wrk run before it (JIT, connection set-up)
  BENCH_COST_CPU_CONNECTIONS: 16, // wrk -c: keep-alive connections, one wrk thread
};

/** CPU numbers from a cpuset list as the kernel prints it ("0-3,6"). */
export function parseCpuList(text) {
  const out = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b = a] = part.split('-').map(Number);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out.filter(Number.isInteger);
}

function allowedCpus(pid = 'self', tid = null) {
  const file = tid === null ? `/proc/${pid}/status` : `/proc/${pid}/task/${tid}/status`;
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(file, 'utf8'));
  return m ? parseCpuList(m[1]) : [];
}

/**
 * What wrk printed: { requests, seconds, reqPerSec, non2xx, socketErrors } (socketErrors sums connect, read, write
 * and timeout; wrk prints those lines only when they are not zero). null when the summary line is missing.
 */
export function parseWrk(text) {
  const sum = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(text);
  if (!sum) return null;
  const unit = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[sum[3]];
  const non2xx = /Non-2xx or 3xx responses:\s*(\d+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(text);
  return {
    requests: Number(sum[1]),
    seconds: Number(sum[2]) * unit,
    reqPerSec: rps ? Number(rps[1]) : null,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0,
    socketErrorText: sock ? sock[0] : null,
  };
}

/**
 * Whether the measure can run here: { skip: reason } or { serverCpu, clientCpu, ticksPerSecond }. It needs
 * taskset (util-linux), wrk and two CPUs this process may run on.
 */
export async function cpuSetup(cfg) {
  if (cfg.BENCH_COST_CPU === 'off') return { skip: 'CPU per request left out (BENCH_COST_CPU=off)' };
  const ts = await runCmd('taskset -V', 'taskset', ['-V'], { timeoutMs: 10_000 });
  if (ts.code !== 0)
    return { skip: 'CPU per request left out: taskset not found (Debian: apt-get install util-linux)' };
  // wrk -v prints its version and exits 1; only a failed spawn (code -1) means it is missing.
  const wrk = await runCmd('wrk -v', 'wrk', ['-v'], { timeoutMs: 10_000 });
  if (wrk.code === -1) return { skip: 'CPU per request left out: wrk not found (Debian: apt-get install -y wrk)' };
  const cpus = allowedCpus();
  if (cpus.length < 2) {
    return { skip: `CPU per request left out: it needs 2 CPUs, this process may run on ${cpus.length}` };
  }
  const tck = await runCmd('getconf CLK_TCK', 'getconf', ['CLK_TCK'], { timeoutMs: 10_000 });
  const ticksPerSecond = Number(tck.stdout.trim()) || 100;
  return { serverCpu: cpus[0], clientCpu: cpus[1], ticksPerSecond };
}

/** Pins every thread of every pid to one CPU and checks it took; returns an error text or null. */
async function pin(pids, cpu) {
  for (const pid of pids) {
    const r = await runCmd('taskset -a -p', 'taskset', ['-a', '-p', '-c', String(cpu), String(pid)], {
      timeoutMs: 10_000,
    });
    if (r.code !== 0) return `taskset -a -p -c ${cpu} ${pid} exited ${r.code}: ${r.stderr.trim().slice(-200)}`;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const got = allowedCpus(pid, tid);
        if (got.length !== 1 || got[0] !== cpu) return `thread ${tid} of ${pid} runs on CPUs ${got.join(',')}`;
      }
    } catch (err) {
      return `pid ${pid}: ${err.message}`;
    }
  }
  return null;
}

function wrk(setup, cfg, port, seconds) {
  const args = ['-c', String(setup.clientCpu), 'wrk', '-t1', `-c${cfg.BENCH_COST_CPU_CONNECTIONS}`, `-d${seconds}s`];
  return runCmd('wrk', 'taskset', [...args, `http://127.0.0.1:${port}/`], { timeoutMs: (seconds + 30) * 1000 });
}

/**
 * One measured run against one contender whose servers already listen on 127.0.0.1:port. pids() lists its server
 * processes now. Returns { usPerReq, requests, reqPerSec, cpuMs, error }; usPerReq is null when the run had errors
 * (they are reported, never averaged in).
 */
async function measureOne(setup, cfg, { port, pids }) {
  const procs = pids();
  const pinError = await pin(procs, setup.serverCpu);
  if (pinError) return { usPerReq: null, error: `pinning: ${pinError}` };
  if (cfg.BENCH_COST_CPU_WARMUP_SECONDS > 0) await wrk(setup, cfg, port, cfg.BENCH_COST_CPU_WARMUP_SECONDS);
  const t0 = procs.map(cpuTicks);
  const run = await wrk(setup, cfg, port, cfg.BENCH_COST_CPU_SECONDS);
  const t1 = procs.map(cpuTicks);
  const after = pids();
  const w = parseWrk(run.stdout);
  const problems = [];
  if (run.code !== 0) problems.push(`wrk exited ${run.code}: ${(run.stderr || run.stdout).trim().slice(-200)}`);
  if (!w) problems.push('no summary in wrk output');
  else {
    if (!w.requests) problems.push('no request completed');
    if (w.non2xx) problems.push(`${w.non2xx} non-2xx answers`);
    if (w.socketErrors) problems.push(w.socketErrorText);
  }
  if ([...t0, ...t1].includes(null)) problems.push('a server process left during the run');
  if (after.length !== procs.length || after.some((p) => !procs.includes(p))) {
    problems.push(`the server processes changed during the run (${procs.join(' ')} -> ${after.join(' ')})`);
  }
  const ticks = problems.length ? null : t1.reduce((a, t, i) => a + t - t0[i], 0);
  const cpuMs = ticks === null ? null : (ticks * 1000) / setup.ticksPerSecond;
  return {
    usPerReq: cpuMs === null ? null : Math.round(((cpuMs * 1000) / w.requests) * 100) / 100,
    requests: w?.requests ?? null,
    reqPerSec: typeof w?.reqPerSec === 'number' ? Math.round(w.reqPerSec) : null,
    cpuMs,
    // Below 100 %, the servers' CPU was not theirs alone (another process ran there) or they waited on the client.
    busyPct: cpuMs === null || !w?.seconds ? null : Math.round(cpuMs / (10 * w.seconds)),
    processes: procs.length,
    error: problems.length ? problems.join('; ') : null,
  };
}

/**
 * The CPU per request of one round: a bare `node <app>` started for it beside the running supervise and PM2
 * contenders (each idle while another is measured), the contenders one after the other in an order that rotates
 * with the round. Returns { superviseCpuUs, bareCpuUs, pm2CpuUs, cpuRuns: { key: result }, cpuErrors: [] }.
 */
export async function cpuRound(setup, cfg, { sup, pm2, round: i }) {
  const port = await freePort();
  const bare = spawnTracked('cost-cpu-bare', process.execPath, [EXAMPLE_BASIC], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
  });
  try {
    if (!(await waitHttp(port))) throw new Error(`bare node: no answer on port ${port}`);
    const targets = [
      { key: 'supervise', port: sup.port, pids: () => [sup.masterPid(), ...sup.workerPids()] },
      { key: 'bare', port, pids: () => [bare.pid] },
      ...(pm2 ? [{ key: 'pm2', port: pm2.port, pids: () => [pm2.masterPid(), ...pm2.workerPids()] }] : []),
    ];
    const runs = {};
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + i) % targets.length];
      runs[t.key] = { ...(await measureOne(setup, cfg, t)), order: k + 1 };
    }
    return {
      superviseCpuUs: runs.supervise.usPerReq,
      bareCpuUs: runs.bare.usPerReq,
      pm2CpuUs: runs.pm2?.usPerReq ?? null,
      cpuRuns: runs,
      cpuErrors: Object.entries(runs)
        .filter(([, r]) => r.error)
        .map(([key, r]) => `CPU per request, round ${i + 1}, ${key}: ${r.error}`),
    };
  } finally {
    await killTree(bare.pid, { graceMs: 2000 });
  }
}

/** A round's figures in one line: each contender's us/req, req/s and CPU use, in the order they ran. */
export function cpuRoundText(r) {
  return Object.entries(r.cpuRuns)
    .sort(([, a], [, b]) => a.order - b.order)
    .map(
      ([key, x]) => `${key} ${x.usPerReq ?? 'error'} us/req (${x.reqPerSec ?? '-'} req/s, ${x.busyPct ?? '-'} % CPU)`,
    )
    .join(', ');
}

/** The summary: medians over the rounds without errors, the ratios, and the median of the per-round ratios. */
export function cpuSummary(rounds, setup, cfg) {
  const col = (k) => rounds.map((r) => r[k] ?? null);
  const perRound = (a, b) =>
    median(rounds.map((r) => (r[a] !== null && r[b] !== null && r[b] ? r[a] / r[b] : null)).filter((x) => x));
  const m = { supervise: median(col('superviseCpuUs')), bare: median(col('bareCpuUs')), pm2: median(col('pm2CpuUs')) };
  const fmt = (x) => (x === null ? '-' : `${x.toFixed(3)}x`);
  const errors = rounds.flatMap((r) => r.cpuErrors ?? []);
  const text = [
    `CPU per request (examples/http-basic, supervise -w 1, bare \`node <app>\`, PM2 -i 1; every server process ` +
      `pinned to CPU ${setup.serverCpu}, \`wrk -t1 -c${cfg.BENCH_COST_CPU_CONNECTIONS} -d${cfg.BENCH_COST_CPU_SECONDS}s\` ` +
      `(keep-alive) on CPU ${setup.clientCpu} after a ${cfg.BENCH_COST_CPU_WARMUP_SECONDS} s warm-up; utime + stime of ` +
      'the servers from /proc/<pid>/stat over the run / requests completed; measured once, without ' +
      'NODE_EXTRA_CA_CERTS, which only process starts read):',
    `  per round, us/req: supervise ${col('superviseCpuUs').join(' ')}; bare ${col('bareCpuUs').join(' ')}; ` +
      `PM2 ${col('pm2CpuUs').join(' ')}`,
    `  median of the per-round ratios: supervise vs bare ${fmt(perRound('superviseCpuUs', 'bareCpuUs'))}, ` +
      `vs PM2 ${fmt(perRound('superviseCpuUs', 'pm2CpuUs'))}; runs with errors: ${errors.length} (left out of the medians)`,
    ...errors.map((e) => `  error: ${e}`),
  ].join('\n');
  return { medians: m, text, errors };
}
