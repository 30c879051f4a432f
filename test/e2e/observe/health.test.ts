import { execFile } from 'node:child_process';
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { CLI, fixture, freePort, killAll, supervise } from '../../helpers/supervise.js';

afterEach(() => killAll());

interface Probe {
  /** When the probe was sent, and when its answer came. */
  sent: number;
  at: number;
  status: number;
  phase: string;
}

/** Probes /health on fresh connections until stopped, the way a load balancer would. */
function prober(port: number) {
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = Date.now();
      try {
        const r = await get(port, '/health', 2_000);
        probes.push({ sent, at: Date.now(), status: r.status, phase: (JSON.parse(r.body) as { phase: string }).phase });
      } catch {
        // not listening yet, or gone
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    probes,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('--health-port', () => {
  it('503 during the boot, 200 through a rollout, 503 while stopping', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const s = supervise(
      [fixture('observe/ops-app.js'), '-w', '2', '--health-port', String(healthPort), '--heartbeat', '50'],
      {
        env: { PORT: String(port), BOOT_DELAY_MS: '400' },
      },
    );
    const p = prober(healthPort);
    await s.ready();
    const readyAt = Date.now();
    await until(() => p.probes.some((x) => x.at > readyAt), 5_000, 'a probe after the boot');
    // The endpoint listens before the first fork: the slow boot is seen as 503, then 200 for good.
    const boot = p.probes.filter((x) => x.status === 503);
    expect(boot.length).toBeGreaterThan(0);
    expect(boot.every((x) => x.phase === 'starting' || x.phase === 'idle')).toBe(true);
    const firstOk = p.probes.findIndex((x) => x.status === 200);
    expect(p.probes.slice(firstOk).every((x) => x.status === 200)).toBe(true);

    const lines = s.lines.length;
    s.signal('SIGHUP');
    const start = await s.waitEvent('rollout.start', undefined, 10_000, lines);
    const startAt = Date.now();
    const end = await s.waitEvent('rollout.end', undefined, 20_000, lines);
    const endAt = Date.now();
    expect(end.outcome).toBe('done');
    expect(start.generation).toBe(2);
    const during = p.probes.filter((x) => x.at >= startAt && x.at <= endAt);
    expect(during.length).toBeGreaterThan(5);
    expect(during.every((x) => x.status === 200)).toBe(true);

    // A request in flight keeps the stop open long enough to see it.
    const slow = get(port, '/slow?ms=1000');
    await s.waitInFlight(1);
    s.signal('SIGTERM');
    await s.waitEvent('master.stopping');
    const stoppingAt = Date.now();
    await until(() => p.probes.some((x) => x.sent > stoppingAt), 5_000, 'a probe during the stop');
    const stopping = p.probes.filter((x) => x.sent > stoppingAt);
    expect(stopping.every((x) => x.status === 503 && x.phase === 'stopping')).toBe(true);
    expect((await slow).status).toBe(200);
    expect((await s.waitExit()).code).toBe(0);
    await p.stop();
  });

  it('a health port that is taken: one line, exit 4, before any worker starts', async () => {
    const port = await freePort();
    const taken = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    try {
      const r = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, fixture('observe/ops-app.js'), '-w', '1', '--health-port', String(port), '--log-format', 'json'],
          { timeout: 10_000 },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(`supervise: --health-port ${port} is already in use (EADDRINUSE)\n`);
      expect(r.stdout).not.toMatch(/worker\.fork/);
    } finally {
      taken.close();
    }
  });
});
