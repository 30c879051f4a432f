// The cost bench's CPU-per-request measure (bench/lib/cpu-per-request.mjs): wrk's output read right, a run with
// errors reported and left out, and one real round against real servers pinned to one CPU and loaded by wrk.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { ROOT } from '../helpers/supervise.js';

interface CpuRun {
  usPerReq: number | null;
  requests: number;
  busyPct: number | null;
  processes: number;
  error: string | null;
}
interface Round {
  superviseCpuUs: number | null;
  bareCpuUs: number | null;
  pm2CpuUs: number | null;
  cpuRuns: Record<string, CpuRun>;
  cpuErrors: string[];
}
interface Setup {
  skip?: string;
  serverCpu: number;
  clientCpu: number;
  ticksPerSecond: number;
}
type Cfg = Record<string, number | string>;
interface Target {
  port: number;
  masterPid: () => number;
  workerPids: () => number[];
}
interface CpuModule {
  CPU_DEFAULTS: Cfg;
  parseWrk(text: string): { requests: number; seconds: number; non2xx: number; socketErrors: number } | null;
  parseCpuList(text: string): number[];
  cpuSetup(cfg: Cfg): Promise<Setup>;
  cpuRound(setup: Setup, cfg: Cfg, round: { sup: Target; pm2: null; round: number }): Promise<Round>;
  cpuSummary(
    rounds: Partial<Round>[],
    setup: Setup,
    cfg: Cfg,
  ): { text: string; medians: Record<string, number | null> };
}
interface ProcsModule {
  spawnTracked(name: string, cmd: string, args: string[], opts?: object): { pid: number };
  cleanupAll(reason?: string): Promise<number[]>;
  freePort(): Promise<number>;
  waitHttp(port: number): Promise<boolean>;
}

// The bench is plain ESM JavaScript without type declarations: loaded by URL, typed here by what the test uses.
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(ROOT, rel)).href)) as T;
const cpu = await load<CpuModule>('bench/lib/cpu-per-request.mjs');
const procs = await load<ProcsModule>('bench/lib/procs.mjs');

afterAll(() => procs.cleanupAll('end of test'));

const WRK_OK = `Running 1s test @ http://127.0.0.1:39111/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.12ms    2.28ms  35.54ms   91.45%
    Req/Sec    33.26k    22.92k   59.86k    60.00%
  32968 requests in 1.00s, 4.02MB read
Requests/sec:  32845.68
Transfer/sec:      4.01MB
`;

describe('reading wrk', () => {
  it('the requests completed, and no error when wrk prints none', () => {
    expect(cpu.parseWrk(WRK_OK)).toMatchObject({ requests: 32968, seconds: 1, non2xx: 0, socketErrors: 0 });
  });

  it('non-2xx answers and socket errors are counted', () => {
    const text = WRK_OK.replace(
      'Requests/sec',
      '  Socket errors: connect 0, read 3, write 1, timeout 2\n  Non-2xx or 3xx responses: 17\nRequests/sec',
    );
    expect(cpu.parseWrk(text)).toMatchObject({ requests: 32968, non2xx: 17, socketErrors: 6 });
  });

  it('no summary (nothing listening) is null, not zero requests', () => {
    expect(cpu.parseWrk('unable to connect to 127.0.0.1:9 Connection refused\n')).toBeNull();
  });

  it('cpuset lists as the kernel prints them', () => {
    expect(cpu.parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(cpu.parseCpuList('1\n')).toEqual([1]);
  });
});

describe('the summary', () => {
  it('a contender with errors is left out of the medians and its error printed', () => {
    const setup = { serverCpu: 0, clientCpu: 1, ticksPerSecond: 100 };
    const rounds = [
      { superviseCpuUs: 30, bareCpuUs: 20, pm2CpuUs: null, cpuErrors: ['round 1, pm2: 3 non-2xx answers'] },
      { superviseCpuUs: 40, bareCpuUs: 40, pm2CpuUs: 50, cpuErrors: [] },
    ];
    const { text, medians } = cpu.cpuSummary(rounds, setup, cpu.CPU_DEFAULTS);
    expect(medians).toEqual({ supervise: 35, bare: 30, pm2: 50 });
    expect(text).toContain('PM2 - 50');
    expect(text).toContain('supervise vs bare per round 1.500x 1.000x, median 1.250x');
    expect(text).toContain('runs with errors: 1');
    expect(text).toContain('error: round 1, pm2: 3 non-2xx answers');
  });
});

const cfg: Cfg = { BENCH_COST_CPU_SECONDS: 1, BENCH_COST_CPU_WARMUP_SECONDS: 0, BENCH_COST_CPU_CONNECTIONS: 4 };
const setup = await cpu.cpuSetup({ ...cpu.CPU_DEFAULTS, ...cfg });
if (setup.skip) console.warn(`cpu-per-request round test skipped: ${setup.skip}`);

describe('one real round', () => {
  it.skipIf(setup.skip !== undefined)(
    'servers pinned to one CPU, wrk on another: a figure for a clean server, an error for one that answers 500',
    async () => {
      // Stands in for the supervise contender: answers 500 to one request in 100.
      const port = await procs.freePort();
      const app = `let n = 0; require('node:http').createServer((q, s) => { s.statusCode = ++n % 100 ? 200 : 500; s.end('x'); }).listen(${port}, '127.0.0.1');`;
      const flaky = procs.spawnTracked('flaky', process.execPath, ['-e', app]);
      expect(await procs.waitHttp(port)).toBe(true);
      const sup = { port, masterPid: () => flaky.pid, workerPids: () => [] };
      const r = await cpu.cpuRound(setup, { ...cpu.CPU_DEFAULTS, ...cfg }, { sup, pm2: null, round: 0 });

      expect(r.bareCpuUs).toBeGreaterThan(0);
      expect(r.cpuRuns.bare?.requests).toBeGreaterThan(0);
      expect(r.cpuRuns.bare?.error).toBeNull();
      expect(r.superviseCpuUs).toBeNull();
      expect(r.cpuErrors).toEqual([expect.stringMatching(/round 1, supervise: \d+ non-2xx answers/)]);
      // Still pinned after the round: every thread of the stand-in runs on the servers' CPU only.
      const status = readFileSync(`/proc/${flaky.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`Cpus_allowed_list:\\s*${setup.serverCpu}\\n`));
      for (const tid of readdirSync(`/proc/${flaky.pid}/task`)) {
        const t = readFileSync(`/proc/${flaky.pid}/task/${tid}/status`, 'utf8');
        expect(t).toMatch(new RegExp(`Cpus_allowed_list:\\s*${setup.serverCpu}\\n`));
      }
    },
    30_000,
  );
});
