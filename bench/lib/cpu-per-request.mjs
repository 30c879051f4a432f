// The CPU time per request of a trivial keep-alive app, the measure issue 32 names: every server process of one
// contender (supervise: master + worker; PM2: its daemon + its worker; bare: the one process) pinned to one CPU,
// wrk pinned to another, utime + stime of each server process read from /proc/<pid>/stat just before and just
// after a wrk run, divided by the requests wrk completed. Pinning keeps the client's CPU out of the servers' core,
// so the servers cannot borrow an idle core that one contender has and another has not.
import { readFileSync, readdirSync } from 'node:fs';

import { EXAMPLE_BASIC } from './contenders.mjs';
import { cpuTicks, freePort, killTree, now, runCmd, spawnTracked, waitHttp } from './procs.mjs';
import { median } from './stats.mjs';

export const CPU_DEFAULTS = {
  BENCH_COST_CPU: 'auto', // 'off' to leave the CPU per request out
  BENCH_COST_CPU_SECONDS: 3, // measured seconds per contender and round, in 1 s wrk runs
  BENCH_COST_CPU_WARMUP_SECONDS: 1, // an unmeasured wrk run before it (JIT, connection set-up)
  BENCH_COST_CPU_CONNECTIONS: 16, // wrk -c: keep-alive connections, one wrk thread
  BENCH_COST_CPU_AA: 'off', // 'on': a second bare node measured like the others, the noise floor of the run
};

/** A bare `node <app>` on a free port, answering. */
async function startBare(name) {
  const port = await freePort();
  const child = spawnTracked(name, process.execPath, [EXAMPLE_BASIC], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
  });
  if (!(await waitHttp(port))) {
    await killTree(child.pid, { graceMs: 2000 });
    throw new Error(`bare node: no answer on port ${port}`);
  }
  return { port, pid: child.pid };
}

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

/** One measured 1 s wrk run against one contender: the CPU ticks its servers used, the requests, the problems. */
async function slice(setup, cfg, t, procs) {
  const t0 = procs.map(cpuTicks);
  const run = await wrk(setup, cfg, t.port, 1);
  const t1 = procs.map(cpuTicks);
  const after = t.pids();
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
  const ticks = problems.length ? 0 : t1.reduce((a, x, i) => a + x - t0[i], 0);
  const firstTicks = problems.length ? 0 : t1[0] - t0[0];
  return { ticks, firstTicks, requests: w?.requests ?? 0, seconds: w?.seconds ?? 0, problems };
}

/** A contender's totals over its slices: { usPerReq, requests, reqPerSec, cpuMs, busyPct, processes, error }. */
function result(setup, a) {
  const cpuMs = a.problems.length ? null : (a.ticks * 1000) / setup.ticksPerSecond;
  return {
    usPerReq: cpuMs === null || !a.requests ? null : Math.round(((cpuMs * 1000) / a.requests) * 100) / 100,
    requests: a.requests,
    reqPerSec: a.seconds ? Math.round(a.requests / a.seconds) : null,
    cpuMs,
    // Below 100 %, the servers' CPU was not theirs alone (another process ran there) or they waited on the client.
    busyPct: cpuMs === null || !a.seconds ? null : Math.round(cpuMs / (10 * a.seconds)),
    processes: a.procs.length,
    // The master's (PM2: the daemon's) part, when the contender has one beside its worker.
    masterPct: cpuMs === null || a.procs.length < 2 || !a.ticks ? null : Math.round((100 * a.firstTicks) / a.ticks),
    order: a.order,
    error: a.problems.length ? a.problems.join('; ') : null,
  };
}

/**
 * The CPU per request of one round: a bare `node <app>` started for it beside the running supervise and PM2
 * contenders (each idle while another is measured). Each contender is pinned and warmed up, then measured in
 * BENCH_COST_CPU_SECONDS wrk runs of 1 s, interleaved with the others' (A B C A B C ...), so that a swing of the
 * machine's load falls on every contender rather than on the one that ran then; the order rotates with the round.
 * With BENCH_COST_CPU_AA=on a second bare process ('bare2') is measured too: bare2 against bare is what two
 * identical servers differ by in this run. Returns { superviseCpuUs, bareCpuUs, pm2CpuUs, bare2CpuUs,
 * cpuRuns: { key: result }, cpuErrors: [] }.
 */
export async function cpuRound(setup, cfg, { sup, pm2, round: i }) {
  const startedAt = now();
  const bares = [];
  try {
    bares.push(await startBare('cost-cpu-bare'));
    if (cfg.BENCH_COST_CPU_AA === 'on') bares.push(await startBare('cost-cpu-bare2'));
    const [bare, bare2] = bares;
    const targets = [
      { key: 'supervise', port: sup.port, pids: () => [sup.masterPid(), ...sup.workerPids()] },
      { key: 'bare', port: bare.port, pids: () => [bare.pid] },
      ...(bare2 ? [{ key: 'bare2', port: bare2.port, pids: () => [bare2.pid] }] : []),
      ...(pm2 ? [{ key: 'pm2', port: pm2.port, pids: () => [pm2.masterPid(), ...pm2.workerPids()] }] : []),
    ];
    const order = targets.map((_, k) => targets[(k + i) % targets.length]);
    const acc = {};
    for (const [k, t] of order.entries()) {
      const a = { procs: t.pids(), ticks: 0, firstTicks: 0, requests: 0, seconds: 0, problems: [], order: k + 1 };
      acc[t.key] = a;
      const pinError = await pin(a.procs, setup.serverCpu);
      if (pinError) a.problems.push(`pinning: ${pinError}`);
      else if (cfg.BENCH_COST_CPU_WARMUP_SECONDS > 0) await wrk(setup, cfg, t.port, cfg.BENCH_COST_CPU_WARMUP_SECONDS);
    }
    const slices = Math.max(1, Math.round(cfg.BENCH_COST_CPU_SECONDS));
    for (let n = 0; n < slices; n++) {
      for (const t of order) {
        const a = acc[t.key];
        if (a.problems.length) continue;
        const r = await slice(setup, cfg, t, a.procs);
        a.problems.push(...r.problems);
        a.ticks += r.ticks;
        a.firstTicks += r.firstTicks;
        a.requests += r.requests;
        a.seconds += r.seconds;
      }
    }
    const runs = Object.fromEntries(Object.entries(acc).map(([key, a]) => [key, result(setup, a)]));
    return {
      superviseCpuUs: runs.supervise.usPerReq,
      bareCpuUs: runs.bare.usPerReq,
      pm2CpuUs: runs.pm2?.usPerReq ?? null,
      bare2CpuUs: runs.bare2?.usPerReq ?? null,
      cpuRuns: runs,
      cpuWallMs: now() - startedAt,
      cpuErrors: Object.entries(runs)
        .filter(([, r]) => r.error)
        .map(([key, r]) => `CPU per request, round ${i + 1}, ${key}: ${r.error}`),
    };
  } finally {
    await Promise.all(bares.map((b) => killTree(b.pid, { graceMs: 2000 })));
  }
}

/** A round's figures in one line: each contender's us/req, the master's part, req/s and CPU use, in run order. */
export function cpuRoundText(r) {
  return Object.entries(r.cpuRuns)
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([key, x]) => {
      const master =
        x.masterPct === null ? '' : `${x.masterPct} % of it in the ${key === 'pm2' ? 'daemon' : 'master'}, `;
      return `${key} ${x.usPerReq ?? 'error'} us/req (${master}${x.reqPerSec ?? '-'} req/s, ${x.busyPct ?? '-'} % CPU)`;
    })
    .join(', ');
}

/** The summary: medians over the rounds without errors, the ratios, and the median of the per-round ratios. */
export function cpuSummary(rounds, setup, cfg) {
  const col = (k) => rounds.map((r) => r[k] ?? null);
  const show = (k) =>
    col(k)
      .map((x) => x ?? '-')
      .join(' ');
  const ratios = (a, b) => rounds.map((r) => (r[a] && r[b] ? r[a] / r[b] : null));
  const fmt = (x) => (x === null ? '-' : `${x.toFixed(3)}x`);
  const ratioText = (a, b) => {
    const r = ratios(a, b);
    return `per round ${r.map(fmt).join(' ')}, median ${fmt(median(r))}`;
  };
  const m = { supervise: median(col('superviseCpuUs')), bare: median(col('bareCpuUs')), pm2: median(col('pm2CpuUs')) };
  const errors = rounds.flatMap((r) => r.cpuErrors ?? []);
  const wallS = Math.round(rounds.reduce((a, r) => a + (r.cpuWallMs ?? 0), 0) / 1000);
  const aa = rounds.some((r) => r.bare2CpuUs)
    ? [
        `  A/A (BENCH_COST_CPU_AA=on): a second bare node ${show('bare2CpuUs')} us/req; vs the first, ` +
          ratioText('bare2CpuUs', 'bareCpuUs'),
      ]
    : [];
  const text = [
    `CPU per request (examples/http-basic, supervise -w 1, bare \`node <app>\`, PM2 -i 1; every server process ` +
      `pinned to CPU ${setup.serverCpu}, wrk on CPU ${setup.clientCpu} (-t1 -c${cfg.BENCH_COST_CPU_CONNECTIONS}, ` +
      `keep-alive); per contender and round a ${cfg.BENCH_COST_CPU_WARMUP_SECONDS} s warm-up, then ` +
      `${cfg.BENCH_COST_CPU_SECONDS} runs of 1 s interleaved with the other contenders'; utime + stime of the ` +
      'servers from /proc/<pid>/stat over the runs / requests completed; measured once, without ' +
      'NODE_EXTRA_CA_CERTS, which only process starts read):',
    `  per round, us/req: supervise ${show('superviseCpuUs')}; bare ${show('bareCpuUs')}; PM2 ${show('pm2CpuUs')}`,
    `  supervise vs bare ${ratioText('superviseCpuUs', 'bareCpuUs')}; vs PM2 ${ratioText('superviseCpuUs', 'pm2CpuUs')}`,
    ...aa,
    `  runs with errors: ${errors.length} (left out of the medians); this measure took ${wallS} s in all`,
    ...errors.map((e) => `  error: ${e}`),
  ].join('\n');
  return { medians: m, text, errors };
}
