/**
 * Rollout guarantees (issue 4): a bad release is rolled back while the old workers keep serving, the next
 * SIGHUP with a fixed release succeeds, and a burst of SIGHUPs coalesces without ever running more than
 * N + surge workers. The release is chosen by the fixture at boot from a file, rewritten between rollouts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { load, pidsAnswering, until } from '../../helpers/http.js';
import { repeat, sampleChildren } from '../../helpers/proc.js';
import { fixture, freePort, killAll, type LogLine, runCli, supervise, waitGone } from '../../helpers/supervise.js';

const dirs: string[] = [];
afterEach(() => {
  killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function release(mode: string): { file: string; set: (mode: string) => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'supervise-rollout-'));
  dirs.push(dir);
  const file = path.join(dir, 'MODE');
  const set = (m: string) => writeFileSync(file, `${m}\n`);
  set(mode);
  return { file, set };
}

async function startApp(mode: string, extra: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const rel = release(mode);
  const s = supervise([fixture('faults/fault-app.js'), ...extra], {
    env: { PORT: String(port), MODE_FILE: rel.file, ...env },
  });
  await s.ready();
  return { s, port, rel };
}

/** Every pid that answers over fresh connections is one of `expected`, and all of them answer. */
async function expectServing(port: number, expected: number[]): Promise<void> {
  const seen = await until(
    async () => {
      const pids = await pidsAnswering(port, 12);
      return pids.size === expected.length ? pids : null;
    },
    5_000,
    `${expected.length} pids answering`,
  );
  expect([...seen].sort()).toEqual([...expected].sort());
}

function expectSummary(end: LogLine): void {
  expect(end).toMatchObject({
    generation: expect.any(Number),
    replaced: expect.any(Number),
    durationMs: expect.any(Number),
    outcome: expect.any(String),
  });
}

describe('rollout: rollback and retry', () => {
  it('a release that throws at boot is rolled back: old pids keep answering, the next SIGHUP with a fix succeeds', async () => {
    const { s, port, rel } = await startApp('ok', ['-w', '2', '--restart-delay', '50']);
    const old = s.forkedPids();
    rel.set('throw');
    s.signal('SIGHUP');
    const failed = await s.waitEvent('rollout.end', undefined, 10_000);
    expectSummary(failed);
    expect(failed).toMatchObject({ generation: 2, outcome: 'rolled-back', replaced: 0, reason: 'crashed' });
    const failedPid = failed.failedPid as number;
    expect(old).not.toContain(failedPid);
    expect((failed.lastLines as string[]).join('\n')).toMatch(/broken build \(mode throw\)/);
    expect(String(failed.msg)).toContain('rolled back');
    await expectServing(port, old);
    expect(s.exitCode).toBeUndefined();

    rel.set('ok');
    const mark = s.lines.length;
    s.signal('SIGHUP');
    const done = await s.waitEvent('rollout.end', undefined, 10_000, mark);
    expectSummary(done);
    expect(done).toMatchObject({ generation: 3, outcome: 'done', replaced: 2 });
    const fresh = s.forkedPids().filter((p) => !old.includes(p) && p !== failedPid);
    expect(fresh).toHaveLength(2);
    await expectServing(port, fresh);

    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a release that never becomes ready is rolled back at --ready-timeout, and the log says why', async () => {
    const { s, port, rel } = await startApp('ok', ['-w', '2', '--ready-timeout', '3000']);
    const old = s.forkedPids();
    rel.set('never-ready');
    s.signal('SIGHUP');
    const failed = await s.waitEvent('rollout.end', undefined, 10_000);
    expect(failed).toMatchObject({ outcome: 'rolled-back', replaced: 0, reason: 'ready-timeout' });
    expect((failed.lastLines as string[]).join('\n')).toMatch(/warming up forever/);
    expect(String(failed.msg)).toMatch(new RegExp(`worker ${failed.failedPid as number} was not ready within 3000 ms`));
    // The failed worker was killed, not left running beside the old ones.
    await waitGone([failed.failedPid as number], 3_000);
    await expectServing(port, old);

    rel.set('ok');
    const mark = s.lines.length;
    s.signal('SIGHUP');
    const done = await s.waitEvent('rollout.end', undefined, 10_000, mark);
    expect(done).toMatchObject({ outcome: 'done', replaced: 2 });
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});

describe('rollout: coalescing and the surge bound', () => {
  it('10 SIGHUPs during a rollout under load: 2 rollouts, never more than N + surge serving and N draining, no failed request', async () => {
    const workers = 3;
    const surge = 2;
    // The new workers boot only once the gate file exists: the first rollout lasts until the test opens it,
    // however fast or slow the machine, so every SIGHUP after the first lands in it.
    const gate = path.join(release('ok').file, '..', 'GATE');
    writeFileSync(gate, '');
    const { s, port } = await startApp('ok', ['-w', String(workers), '--surge', String(surge)], { GATE_FILE: gate });
    rmSync(gate);
    const procs = sampleChildren(s.pid);
    const traffic = load(port, { connections: 4, maxMs: 20_000 });
    await until(() => traffic.result.ok > 50, 5_000, 'load to warm up');

    await repeat(10, 100, () => s.signal('SIGHUP'));
    // Every SIGHUP after the first was queued behind the first rollout, which is still booting its workers.
    await s.waitFor(() => s.events('rollout.queued').length === 9, 10_000);
    expect(s.events('rollout.start')).toHaveLength(1);
    expect(s.events('rollout.end')).toHaveLength(0);
    writeFileSync(gate, '');
    await s.waitEvent('rollout.end', (l) => l.generation === 3, 15_000);
    // Nothing else is queued: the master says no rollout runs.
    const status = await runCli([
      'status',
      '--json',
      '--control',
      String((await s.waitEvent('control.listening')).path),
    ]);
    expect(JSON.parse(status.stdout)).toMatchObject({ master: { rollout: false, generation: 3 } });
    const result = await traffic.stop();
    procs.stop();

    const starts = s.events('rollout.start');
    const ends = s.events('rollout.end');
    expect(starts).toHaveLength(2);
    expect(ends.map((e) => e.outcome)).toEqual(['done', 'done']);
    expect(ends.map((e) => e.replaced)).toEqual([workers, workers]);
    // Never two at once: the second starts after the first ended.
    expect(s.lines.indexOf(starts[1]!)).toBeGreaterThan(s.lines.indexOf(ends[0]!));
    // From the log's order of events: the surge bounds the serving workers, --max-draining (default N) the others.
    const bounds = s.workerBounds();
    expect(bounds.serving).toBeLessThanOrEqual(workers + surge);
    expect(bounds.serving).toBeGreaterThan(workers); // the surge was used
    expect(bounds.draining).toBeLessThanOrEqual(workers);
    expect(procs.max).toBeLessThanOrEqual(workers + surge + workers);
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);

    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
