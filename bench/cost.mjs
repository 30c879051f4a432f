#!/usr/bin/env node
// pnpm bench:cost (also part of pnpm bench): what running under supervise costs, side by side in one run with
// bare node and PM2 7. Each round measures, in this order:
//   memory   the master's RSS 2 s after its ready line (supervise -w 1, examples/http-basic), an idle bare
//            `node -e 'setInterval(()=>{},1000)'`, and PM2's daemon running the same app (-i 1), all three alive
//            at the same time;
//   status   `supervise status` against that running master, `pm2 status` against that daemon;
//   start    supervise -w 4 from spawn to its ready line; four bare processes of the same app started in
//            parallel, each on its own port, until the last one accepts a connection; `pm2 start -i 4
//            --wait-ready` in a fresh PM2_HOME (daemon included) until the command returns;
//   version  `supervise --version`, `node -e 0`, `pm2 --version`;
//   CPU      CPU time per request of the same app under a keep-alive wrk load, servers and wrk pinned to
//            different CPUs (lib/cpu-per-request.mjs), on the memory round's supervise and PM2 and a bare
//            `node <app>`, in an order that rotates with the round.
// The rounds run twice when the environment sets NODE_EXTRA_CA_CERTS: as it is, then without it (both contenders
// alike), since Node 20 reads that file at every process start.
// The CPU per request is measured in the pass without NODE_EXTRA_CA_CERTS only: it does not depend on it.
// Figures are medians over the rounds; ratios are x bare node and x PM2. The overhead section of pnpm bench
// (BENCH_ONLY=overhead) measures something else: the drain engine's cost, supervise against --no-auto-drain.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { clusterFloorStart, startClusterFloor } from './lib/cluster-floor.mjs';
import { EXAMPLE_BASIC, Pm2Contender, ROOT, SUPERVISE_CLI, superviseContender } from './lib/contenders.mjs';
import { CPU_DEFAULTS, cpuRound, cpuRoundText, cpuSetup, cpuSummary } from './lib/cpu-per-request.mjs';
import { freePort, killTree, learnPid, now, onCleanup, rssKb, runCmd, sleep, spawnTracked } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, round, table } from './lib/stats.mjs';

export const COST_DEFAULTS = {
  BENCH_COST_ROUNDS: 5,
  BENCH_COST_SETTLE_MS: 2000, // idle time after ready before the RSS is read
  BENCH_COST_PM2: 'auto', // 'off' to leave PM2 out
  ...CPU_DEFAULTS, // BENCH_COST_CPU_*: the CPU per request (lib/cpu-per-request.mjs)
};

const PM2_BIN = new URL('./node_modules/pm2/bin/pm2', import.meta.url);
const node = process.execPath;

/** Resolves once something accepts a TCP connection on 127.0.0.1:port (polled every 5 ms, bounded). */
async function waitListening(port, ms = 20_000) {
  const deadline = now() + ms;
  while (now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(5);
  }
  return false;
}

// `pm2 --version` starts a daemon when none runs in its PM2_HOME, and leaves it running: the version commands get a
// private home, whose daemon is stopped at the end of the run, rather than the user's ~/.pm2.
let versionHome = null;
function pm2VersionEnv() {
  if (!versionHome) {
    const home = mkdtempSync(join(tmpdir(), 'supervise-bench-pm2v-'));
    versionHome = home;
    onCleanup(() => rmSync(home, { recursive: true, force: true }));
  }
  return { ...process.env, PM2_HOME: versionHome };
}

function versionDaemonPid() {
  try {
    return Number(readFileSync(join(versionHome, 'pm2.pid'), 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

async function stopVersionDaemon() {
  const pid = versionHome ? versionDaemonPid() : null;
  if (pid) await killTree(pid, { graceMs: 5000 });
}

async function pm2Available() {
  try {
    const r = await runCmd('pm2 --version', node, [PM2_BIN.pathname, '--version'], {
      timeoutMs: 20_000,
      env: pm2VersionEnv(),
    });
    const daemon = versionDaemonPid();
    if (daemon) learnPid(daemon, 'PM2');
    return r.code === 0 ? null : `pm2 --version exited ${r.code}`;
  } catch (err) {
    return String(err?.message ?? err);
  }
}

/**
 * One round of the memory and status measures, the three contenders alive at the same time; then, when cpu (a
 * cpuSetup()) is given, the CPU per request on the same supervise and PM2.
 */
async function memoryRound(cfg, logDir, withPm2, round_, cpu) {
  const out = {};
  const bare = spawnTracked('cost-bare', node, ['-e', 'setInterval(()=>{},1000)']);
  const sup = superviseContender({
    name: `cost-w1-${round_}`,
    label: 'supervise -w 1',
    script: EXAMPLE_BASIC,
    workers: 1,
    port: await freePort(),
    logDir,
  });
  const pm2 = withPm2
    ? new Pm2Contender({ name: `cost-pm2-${round_}`, label: 'PM2 -i 1', workers: 1, port: await freePort(), logDir })
    : null;
  let floor = null;
  try {
    [, , floor] = await Promise.all([sup.start(), pm2?.start(), startClusterFloor(1)]);
    await sleep(cfg.BENCH_COST_SETTLE_MS);
    out.bareKb = rssKb(bare.pid);
    out.superviseKb = rssKb(sup.masterPid());
    out.clusterKb = rssKb(floor.pid);
    // Idle from here: stopped before the status and CPU measures, which it is not part of.
    await floor.stop();
    floor = null;
    out.pm2Kb = pm2 ? rssKb(pm2.masterPid()) : null;
    // The user's own command, from the directory the master was started in (it finds its socket there).
    const st = await runCmd('supervise status', node, [SUPERVISE_CLI, 'status'], { cwd: ROOT, timeoutMs: 20_000 });
    out.statusMs = st.code === 0 ? st.ms : null;
    if (st.code !== 0) out.statusError = `supervise status exited ${st.code}: ${st.stderr.trim().slice(-200)}`;
    if (pm2) {
      const ps = await pm2.pm2(['status'], 20_000);
      out.pm2StatusMs = ps.code === 0 ? ps.ms : null;
    }
    if (cpu) Object.assign(out, await cpuRound(cpu, cfg, { sup, pm2, round: round_ }));
  } finally {
    await Promise.all([sup.stop(), pm2?.stop(), floor?.stop(), killTree(bare.pid, { graceMs: 2000 })]);
  }
  return out;
}

/** supervise -w 4: spawn to the ready line. */
async function superviseStart(logDir, round_) {
  const c = superviseContender({
    name: `cost-w4-${round_}`,
    label: 'supervise -w 4',
    script: EXAMPLE_BASIC,
    workers: 4,
    port: await freePort(),
    logDir,
  });
  const t0 = now();
  try {
    await c.start();
    return c.events.find((e) => e.event === 'master.ready').at - t0;
  } finally {
    await c.stop();
  }
}

/** Four bare processes of the app, in parallel, each on its own port: spawn to the last one listening. */
async function bareStart() {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const t0 = now();
  const kids = ports.map((port) =>
    spawnTracked('cost-bare-app', node, [EXAMPLE_BASIC], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    }),
  );
  try {
    const ok = await Promise.all(ports.map((p) => waitListening(p)));
    if (ok.includes(false)) throw new Error('a bare process did not listen');
    return now() - t0;
  } finally {
    await Promise.all(kids.map((k) => killTree(k.pid, { graceMs: 2000 })));
  }
}

/** `pm2 start -i 4 --wait-ready` from nothing (its daemon starts too) until the command returns. */
async function pm2Start(logDir, round_) {
  const c = new Pm2Contender({ name: `cost-pm2w4-${round_}`, workers: 4, port: await freePort(), logDir });
  const t0 = now();
  try {
    await c.start();
    return now() - t0;
  } finally {
    await c.stop();
  }
}

async function versionRound(withPm2) {
  const sup = await runCmd('supervise --version', node, [SUPERVISE_CLI, '--version'], { cwd: ROOT });
  const bare = await runCmd('node -e 0', node, ['-e', '0']);
  const pm2 = withPm2
    ? await runCmd('pm2 --version', node, [PM2_BIN.pathname, '--version'], { env: pm2VersionEnv() })
    : null;
  return {
    superviseMs: sup.code === 0 ? sup.ms : null,
    bareMs: bare.code === 0 ? bare.ms : null,
    pm2Ms: pm2 && pm2.code === 0 ? pm2.ms : null,
  };
}

/** One pass of every round, in the environment process.env holds now (children inherit it). */
async function costPass(cfg, { logDir, say }, withPm2, envLabel, cpu) {
  const rounds = [];
  const N = cfg.BENCH_COST_ROUNDS;
  for (let i = 0; i < N; i++) {
    const r = { ...(await memoryRound(cfg, logDir, withPm2, i, cpu)) };
    // The start-up contenders one after the other, in an order that rotates, so none always runs first.
    const starts = [
      ['superviseStartMs', () => superviseStart(logDir, i)],
      ['bareStartMs', () => bareStart()],
      ['clusterStartMs', () => clusterFloorStart()],
      ...(withPm2 ? [['pm2StartMs', () => pm2Start(logDir, i)]] : []),
    ];
    for (let k = 0; k < starts.length; k++) {
      const [key, fn] = starts[(k + i) % starts.length];
      r[key] = await fn();
    }
    const v = await versionRound(withPm2);
    Object.assign(r, { versionMs: v.superviseMs, bareVersionMs: v.bareMs, pm2VersionMs: v.pm2Ms });
    rounds.push(r);
    say(
      `cost round ${i + 1}/${N} (${envLabel}): RSS supervise ${round(r.superviseKb / 1024, 1)} MB, bare ${round(r.bareKb / 1024, 1)}, node:cluster ${round(r.clusterKb / 1024, 1)}, PM2 ${r.pm2Kb ? round(r.pm2Kb / 1024, 1) : '-'}; ` +
        `status ${r.statusMs ?? r.statusError} ms (PM2 ${r.pm2StatusMs ?? '-'}); -w 4 ready ${r.superviseStartMs} ms, bare x4 ${r.bareStartMs}, node:cluster ${r.clusterStartMs}, PM2 ${r.pm2StartMs ?? '-'}; ` +
        `--version ${r.versionMs} ms (node -e 0 ${r.bareVersionMs}, PM2 ${r.pm2VersionMs ?? '-'})` +
        (r.cpuRuns ? `; CPU ${cpuRoundText(r)}` : ''),
    );
  }
  const cpuPart = cpu ? cpuSummary(rounds, cpu, cfg) : null;
  const med = (k) => median(rounds.map((r) => r[k]));
  const ratio = (a, b) => (a === null || b === null || !b ? '-' : `${(a / b).toFixed(2)}x`);
  const mb = (kb) => (kb === null ? null : round(kb / 1024, 1));
  const m = Object.fromEntries(Object.keys(rounds[0] ?? {}).map((k) => [k, med(k)]));
  const rows = [
    [
      'master RSS 2 s after ready, MB (-w 1)',
      mb(m.superviseKb),
      mb(m.bareKb),
      mb(m.pm2Kb),
      // In KB too: the target (5 MB, 5120 KB) is finer than a tenth of a MB.
      `${m.superviseKb - m.bareKb >= 0 ? '+' : ''}${mb(m.superviseKb - m.bareKb)} MB (${m.superviseKb - m.bareKb} KB), ${ratio(m.superviseKb, m.bareKb)}`,
      ratio(m.superviseKb, m.pm2Kb),
    ],
    [
      '-w 4 spawn to ready, ms',
      m.superviseStartMs,
      m.bareStartMs,
      m.pm2StartMs,
      ratio(m.superviseStartMs, m.bareStartMs),
      ratio(m.superviseStartMs, m.pm2StartMs),
    ],
    ['status, ms', m.statusMs, '-', m.pm2StatusMs, '-', ratio(m.statusMs, m.pm2StatusMs)],
    [
      '--version, ms',
      m.versionMs,
      m.bareVersionMs,
      m.pm2VersionMs,
      ratio(m.versionMs, m.bareVersionMs),
      ratio(m.versionMs, m.pm2VersionMs),
    ],
  ];
  if (cpuPart) {
    const c = cpuPart.medians;
    const ratio3 = (a, b) => (a === null || b === null || !b ? '-' : `${(a / b).toFixed(3)}x`);
    const label = 'CPU per request, us (-w 1, wrk keep-alive)';
    rows.push([label, c.supervise, c.bare, c.pm2, ratio3(c.supervise, c.bare), ratio3(c.supervise, c.pm2)]);
  }
  const errors = rounds.map((r) => r.statusError).filter(Boolean);
  const text = [
    `Cost of the master, ${envLabel} (examples/http-basic; medians of ${N} rounds; bare = an idle \`node -e 'setInterval(()=>{},1000)'\`, ` +
      `four bare processes of the app started in parallel until each listens, \`node -e 0\`; PM2 = its daemon, ` +
      '`pm2 start -i 4 --wait-ready` from a fresh PM2_HOME, `pm2 status`, `pm2 --version`):',
    table(['measure', 'supervise', 'bare node', 'PM2', 'supervise vs bare', 'supervise vs PM2'], rows),
    'per round: ' +
      [
        'superviseKb',
        'bareKb',
        'clusterKb',
        'superviseStartMs',
        'bareStartMs',
        'clusterStartMs',
        'statusMs',
        'versionMs',
      ]
        .map((k) => `${k} ${rounds.map((r) => r[k] ?? '-').join(' ')}`)
        .join('; '),
    `node:cluster floor (bench/lib/cluster-primary.cjs, a primary with no code of its own): RSS ${mb(m.clusterKb)} MB ` +
      `(+${mb(m.clusterKb - m.bareKb)} MB over bare), -w 4 ready ${m.clusterStartMs} ms (${ratio(m.clusterStartMs, m.bareStartMs)} bare); ` +
      `supervise over it: +${mb(m.superviseKb - m.clusterKb)} MB, ${ratio(m.superviseStartMs, m.clusterStartMs)} the start.`,
    ...errors.map((e) => `error: ${e}`),
    ...(cpuPart ? [cpuPart.text] : []),
  ].join('\n');
  return { rounds, medians: m, text };
}

export async function runCost(cfg, ctx) {
  try {
    return await costRun(cfg, ctx);
  } finally {
    await stopVersionDaemon();
  }
}

async function costRun(cfg, { logDir, say }) {
  let withPm2 = cfg.BENCH_COST_PM2 !== 'off';
  let pm2Note = withPm2 ? null : 'PM2 left out (BENCH_COST_PM2=off)';
  if (withPm2) {
    const why = await pm2Available();
    if (why) {
      withPm2 = false;
      pm2Note = `PM2 left out: ${why} (install the bench's dependencies: pnpm install in bench/)`;
    }
  }
  if (pm2Note) say(pm2Note);
  const cpu = await cpuSetup(cfg);
  if (cpu.skip) say(cpu.skip);
  const cpuFor = (last) => (last && !cpu.skip ? cpu : null);
  // Node 20 reads the NODE_EXTRA_CA_CERTS file at every process start (Node 24 only when TLS first
  // needs it): on a machine that sets it, every process pays that, bare node included. Both figures, both
  // contenders alike: the environment as it is, then without the variable.
  const certs = process.env.NODE_EXTRA_CA_CERTS;
  const passes = [];
  passes.push(
    await costPass(
      cfg,
      { logDir, say },
      withPm2,
      certs ? `NODE_EXTRA_CA_CERTS=${certs}` : 'NODE_EXTRA_CA_CERTS not set',
      cpuFor(certs === undefined),
    ),
  );
  if (certs !== undefined) {
    delete process.env.NODE_EXTRA_CA_CERTS;
    try {
      passes.push(await costPass(cfg, { logDir, say }, withPm2, 'NODE_EXTRA_CA_CERTS unset', cpuFor(true)));
    } finally {
      process.env.NODE_EXTRA_CA_CERTS = certs;
    }
  }
  const lines = passes.map((p) => p.text);
  if (passes.length === 2) {
    const [w, wo] = passes.map((p) => p.medians);
    lines.push(
      `NODE_EXTRA_CA_CERTS costs bare node ${round(w.bareVersionMs - wo.bareVersionMs, 0)} ms per process start ` +
        `(node -e 0: ${w.bareVersionMs} ms with it, ${wo.bareVersionMs} without; four bare app processes in parallel: ` +
        `${w.bareStartMs} vs ${wo.bareStartMs} ms).`,
    );
  }
  if (cpu.skip) lines.push(cpu.skip);
  if (pm2Note) lines.push(pm2Note);
  return { rounds: passes[0].rounds, medians: passes[0].medians, passes, text: lines.join('\n\n') };
}

await runStandalone(import.meta.url, COST_DEFAULTS, 'cost', runCost);
