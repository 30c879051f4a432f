/**
 * Health-gated rollouts (issue 30): a plain node:http app (test/fixtures/canary-app.js) whose release is a word
 * in a file the test rewrites. Under a keep-alive load, the canary bakes beside the old workers; a release that
 * answers 500 to one request in five, or five times slower, is rolled back by itself (`supervise reload` exits
 * 6 with the verdict), the old workers untouched; a healthy one rolls out. Every wait is on a log line or an
 * answer; the bake ends on its request count (--canary-requests 200; for the slow release 100, the verdict's
 * minimum), its time limit is only a bound.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, load, until } from '../../helpers/http.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

// A small bake; the fixture's latencies are 40 and 200 ms, so a 1 ms allowance is enough for its noise.
const BAKE = [
  '--canary',
  '--canary-requests',
  '200',
  '--canary-warmup',
  '20',
  '--canary-time',
  '60s',
  '--canary-p99-allowance',
  '1ms',
];

async function startApp(release: string, extra: string[] = []) {
  const dir = tempDir('supervise-canary-');
  const file = path.join(dir, 'RELEASE');
  writeFileSync(file, `${release}\n`);
  const port = await freePort();
  const sock = path.join(dir, 'control.sock');
  const s = supervise(
    [fixture('canary-app.js'), '-w', '2', '--heartbeat', '100', '--control', sock, ...BAKE, ...extra],
    { env: { PORT: String(port), RELEASE_FILE: file } },
  );
  await s.ready();
  return { s, port, sock, set: (r: string) => writeFileSync(file, `${r}\n`) };
}

/** A fresh connection's answers until every one of `pids` (and nothing else) has answered. */
async function onlyThese(port: number, pids: number[]): Promise<void> {
  const seen = new Set<number>();
  await until(
    async () => {
      for (let i = 0; i < 10; i++) {
        const r = await get(port);
        expect(r.status).toBe(200);
        seen.add(Number(r.body.trim()));
      }
      return pids.every((p) => seen.has(p));
    },
    10_000,
    `answers from ${pids.join(', ')}`,
  );
  expect([...seen].sort()).toEqual([...pids].sort());
}

describe('canary rollouts', () => {
  it('rolls a release that answers 500 on one request in five back by itself, losing nothing else', async () => {
    const { s, port, sock, set } = await startApp('good');
    const old = s.servingPids();
    const traffic = load(port, { connections: 16, maxMs: 60_000 });
    set('errors');
    const reload = await runCli(['reload', '--control', sock]);
    const verdict = await s.waitEvent('canary.verdict');
    const end = await s.waitEvent('rollout.end', (l) => l.generation === 2);
    const canaryPid = s.forkedPids().find((p) => !old.includes(p))!;
    await s.waitEvent('worker.exit', (l) => l.pid === canaryPid, 20_000);
    const r = await traffic.stop();

    expect(reload.code, reload.stderr).toBe(6);
    expect(reload.stderr).toMatch(
      /^supervise: rollout 2 rolled back: canary failed on errors: errors (19|20|21)\.\d% .*limit 1\.0%/,
    );
    expect(verdict).toMatchObject({ result: 'fail', failed: ['errors'] });
    expect(end).toMatchObject({ outcome: 'rolled-back', replaced: 0 });
    expect(verdict.msg).toMatch(/p99 .* \(limit .*\), \d+ requests \(min 100\)/);
    // The only failures the clients saw are the canary's own 500s: no reset, no refused connection.
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(r.statuses[500] ?? 0);
    expect(r.statuses[500]).toBeGreaterThan(0);
    expect(r.ok).toBeGreaterThan(0);
    // The canary drained (it served: its requests finished) and the old workers are the ones serving.
    expect(s.events('worker.exit').find((l) => l.pid === canaryPid)).toMatchObject({ code: 0 });
    expect(s.servingPids().sort()).toEqual([...old].sort());
    await onlyThese(port, old);
  }, 90_000);

  it('rolls a release five times slower back on latency', async () => {
    // A limit of 1.5x: five times 40 ms stays above it even when a loaded machine adds tens of ms to both sides.
    // The bake ends at the verdict's minimum (--canary-min-requests, 100), not at the file's 200: every answer of
    // this canary takes 200 ms, and more of them tell no more about a p99 five times the old one.
    const { s, port, sock, set } = await startApp('good', [
      '--canary-max-p99-ratio',
      '1.5',
      '--canary-requests',
      '100',
    ]);
    const old = s.servingPids();
    const traffic = load(port, { connections: 16, maxMs: 60_000 });
    set('slow');
    const reload = await runCli(['reload', '--control', sock]);
    const verdict = await s.waitEvent('canary.verdict');
    const r = await traffic.stop();

    expect(reload.code, reload.stderr + reload.stdout).toBe(6);
    expect(reload.stderr).toMatch(
      /canary failed on latency: .* p99 [\d.]+ ms \([\d.]+x\) \(limit [\d.]+ ms = 1\.5x old [\d.]+ ms \+ 1 ms\)/,
    );
    expect(verdict).toMatchObject({ result: 'fail', failed: ['latency'] });
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    await onlyThese(port, old);
  }, 90_000);

  it('rolls a healthy release out, the bake ending on its request count', async () => {
    const { s, port, sock } = await startApp('good');
    const old = s.servingPids();
    const traffic = load(port, { connections: 16, maxMs: 60_000 });
    const reload = await runCli(['reload', '--json', '--control', sock]);
    const r = await traffic.stop();

    expect(reload.code, reload.stderr).toBe(0);
    const summary = JSON.parse(reload.stdout) as {
      outcome: string;
      replaced: number;
      durationMs: number;
      canary: { result: string; line: string; durationMs: number; verdict: { canary: { requests: number } } };
    };
    expect(summary).toMatchObject({ outcome: 'done', replaced: 2, canary: { result: 'pass' } });
    expect(summary.canary.verdict.canary.requests).toBeGreaterThanOrEqual(200);
    expect(summary.canary.durationMs).toBeLessThan(60_000);
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    const fresh = s.servingPids().filter((p) => !old.includes(p));
    expect(fresh).toHaveLength(2);
    await onlyThese(port, fresh);
  }, 90_000);
});
