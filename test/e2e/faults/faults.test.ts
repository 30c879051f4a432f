/**
 * Fault injection (issue 6): one test per fault, each asserting what a user sees (pids, exit codes, HTTP
 * answers, log lines) and that no process of the tree outlives the test.
 */
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, load, pidsAnswering, until, untilAnswering } from '../../helpers/http.js';
import { childPids, repeat, sampleChildren, waitExited } from '../../helpers/proc.js';
import { example, fixture, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  killAll();
  for (const fn of cleanup.splice(0)) fn();
});

function modeFile(mode: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'supervise-faults-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'MODE');
  writeFileSync(file, `${mode}\n`);
  return file;
}

/** Lines the master itself wrote to stderr (the workers' passthrough lines are JSON objects). */
function ownStderr(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l && !l.startsWith('{'));
}

const FAST = ['--restart-delay', '50', '--crash-limit', '3', '--kill-timeout', '2000'];

describe('faults: crashes', () => {
  it('a crash loop at boot: the master exits 3 with one line on stderr, and its log names the cause', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', ...FAST], {
      env: { PORT: String(port), MODE_FILE: modeFile('throw') },
    });
    const { code } = await s.waitExit(10_000);
    expect(code).toBe(3);
    const own = ownStderr(s.stderr);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/^supervise: workers keep failing before they are ready \(3 times within 60000 ms\)/);
    const fatal = s.events('master.fatal')[0]!;
    expect(fatal.code).toBe('ERR_BOOT_FAILURE');
    // The fatal line carries the cause in one line; the stack was printed once, as the worker's own output.
    expect(fatal.cause).toBe('Error: fault-app: broken build (mode throw) (test/fixtures/faults/fault-app.js:20)');
    expect(s.stderr.match(/"msg":"Error: fault-app: broken build \(mode throw\)"/g)).toHaveLength(1);
    // Restarts were paced: each boot failure scheduled a restart with a delay.
    expect(s.events('worker.restart-scheduled').every((l) => typeof l.delayMs === 'number')).toBe(true);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a port in use: the master exits 4 with one line naming the port', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    cleanup.push(() => squatter.close());
    const s = supervise([example('http-basic/server.js'), '-w', '2', ...FAST], { env: { PORT: String(port) } });
    const { code } = await s.waitExit(10_000);
    expect(code).toBe(4);
    expect(ownStderr(s.stderr)).toEqual([
      `supervise: port ${port} is already in use (EADDRINUSE): is another instance running?`,
    ]);
    expect(s.events('worker.restart-scheduled')).toHaveLength(0); // no retry loop on a taken port
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a port in use with an app that swallows its listen error (Express 5 app.listen(port, cb)): exit 4 on the engine report, not at the ready timeout, one line naming the port', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, resolve));
    cleanup.push(() => squatter.close());
    // A ready timeout far beyond the wait: an exit within the wait is the engine's report of the listen error
    // (checked below by its reason), never the timeout; the wait is a bound, not what the test measures.
    const s = supervise(
      [fixture('faults/express-listen-callback.js'), '-w', '2', ...FAST, '--ready-timeout', '300000'],
      {
        env: { PORT: String(port) },
      },
    );
    const { code } = await s.waitExit(60_000);
    expect(code).toBe(4);
    expect(ownStderr(s.stderr)).toEqual([
      `supervise: port ${port} is already in use (EADDRINUSE): is another instance running?`,
    ]);
    // The worker lived on (the app handled the error): the engine's report, not a crash, ended its boot.
    expect(String(s.events('worker.boot-failed')[0]?.reason)).toMatch(/^worker \d+ could not listen: .*EADDRINUSE/);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a ready worker that crashes is restarted after a logged backoff; the others keep serving', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', ...FAST], { env: { PORT: String(port) } });
    await s.ready();
    const [a, b] = s.forkedPids();
    const mark = s.lines.length;
    const victim = Number((await get(port, '/crash')).body.trim());
    const survivor = victim === a ? b! : a!;
    const crash = await s.waitEvent('worker.crash', (l) => l.pid === victim, 5_000, mark);
    expect(crash.code).toBe(1);
    expect((crash.lastLines as string[]).join('\n')).toContain('crashing on purpose');
    const scheduled = await s.waitEvent('worker.restart-scheduled', (l) => l.slot === crash.slot, 5_000, mark);
    expect(scheduled.delayMs).toBeGreaterThanOrEqual(25);
    expect(scheduled.delayMs).toBeLessThanOrEqual(50);
    const fresh = await s.waitEvent('worker.state', (l) => l.to === 'ready' && l.slot === crash.slot, 10_000, mark);
    const pids = await until(
      async () => {
        const seen = await pidsAnswering(port, 12);
        return seen.size === 2 ? seen : null;
      },
      5_000,
      'two pids answering',
    );
    expect([...pids].sort()).toEqual([survivor, fresh.pid as number].sort());
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});

describe('faults: workers that ignore shutdown', () => {
  it('SIGTERM at the drain deadline, SIGKILL at the kill timeout, and the master exits 1', async () => {
    const port = await freePort();
    const s = supervise(
      [
        fixture('faults/fault-ignore-term.js'),
        '-w',
        '1',
        '--no-auto-drain',
        '--drain-timeout',
        '600',
        '--kill-timeout',
        '1500',
      ],
      { env: { PORT: String(port) } },
    );
    await s.ready();
    const [pid] = s.forkedPids();
    void get(port, '/slow', 5_000).catch(() => {});
    await s.waitFor((l) => l.src === 'worker' && /holding \/slow/.test(String(l.msg)), 3_000);
    const t0 = Date.now();
    s.signal('SIGTERM');
    await s.waitFor((l) => l.src === 'worker' && /got SIGTERM/.test(String(l.msg)), 3_000);
    const termAt = Date.now() - t0;
    const { code } = await s.waitExit(5_000);
    const killAt = Date.now() - t0;
    expect(code).toBe(1);
    expect(termAt).toBeGreaterThanOrEqual(550);
    expect(killAt).toBeGreaterThanOrEqual(1_450);
    expect(termAt).toBeLessThan(killAt);
    expect(s.events('worker.exit')[0]).toMatchObject({ pid, killed: true, signal: 'SIGKILL' });
    expect(String(s.events('worker.exit')[0]!.msg)).toContain('killed after 1500 ms');
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});

describe('faults: hung workers and recycling', () => {
  it('a hung worker (no heartbeat) is replaced first, then SIGKILLed; requests keep being answered', async () => {
    const port = await freePort();
    const s = supervise(
      [fixture('faults/fault-app.js'), '-w', '2', '--heartbeat', '100', '--watchdog-timeout', '500', ...FAST],
      { env: { PORT: String(port) } },
    );
    await s.ready();
    const procs = sampleChildren(s.pid);
    const hung = Number((await get(port, '/hang')).body.trim());
    const t0 = Date.now();
    const event = await s.waitEvent('worker.hung', (l) => l.pid === hung, 5_000);
    expect(event.silentMs).toBeGreaterThanOrEqual(500);
    const exit = await s.waitEvent('worker.exit', (l) => l.pid === hung, 10_000);
    const detectedIn = Date.now() - t0;
    expect(exit).toMatchObject({ killed: true, signal: 'SIGKILL' });
    // The replacement was ready before the hung worker was killed.
    const fresh = s.events('worker.fork').at(-1)!.pid as number;
    const readyAt = s.lines.findIndex((l) => l.event === 'worker.state' && l.pid === fresh && l.to === 'ready');
    expect(readyAt).toBeGreaterThan(-1);
    expect(readyAt).toBeLessThan(s.lines.indexOf(exit));
    // Both serving workers answer, never the hung one.
    const answered = await untilAnswering(port, 2, 5_000);
    expect(answered.has(hung)).toBe(false);
    expect(answered.size).toBe(2);
    procs.stop();
    expect(procs.max).toBeLessThanOrEqual(3);
    expect(detectedIn).toBeLessThan(5_000);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('--max-requests recycles workers one at a time under load, with the reason logged and no failed request', async () => {
    const port = await freePort();
    const s = supervise(
      [fixture('faults/fault-app.js'), '-w', '2', '--max-requests', '100', '--heartbeat', '100', ...FAST],
      {
        env: { PORT: String(port) },
      },
    );
    await s.ready();
    const first = s.forkedPids();
    expect(first).toHaveLength(2);
    const procs = sampleChildren(s.pid);
    const traffic = load(port, { connections: 4, maxMs: 20_000 });
    // Both original workers recycled, each replaced before the next begins.
    for (const pid of first) await s.waitEvent('worker.exit', (l) => l.pid === pid, 15_000);
    const result = await traffic.stop();
    procs.stop();
    const recycles = s.events('worker.recycle').filter((l) => first.includes(l.pid as number));
    expect(recycles).toHaveLength(2);
    for (const r of recycles) {
      expect(r.reason).toBe('max-requests');
      expect(r.value as number).toBeGreaterThanOrEqual(100);
      expect(r.limit as number).toBeLessThan(110);
    }
    for (const pid of first) {
      expect(s.events('worker.exit').find((l) => l.pid === pid)).toMatchObject({ killed: false, code: 0 });
    }
    // One replacement at a time (N + 1 serving); the old workers' drains may overlap (--max-draining: N).
    expect(s.workerBounds().serving).toBeLessThanOrEqual(3);
    expect(s.workerBounds().draining).toBeLessThanOrEqual(2);
    expect(procs.max).toBeLessThanOrEqual(5);
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('--max-memory and --max-age recycle through the zero-downtime path, each with its reason', async () => {
    const port = await freePort();
    const s = supervise(
      [
        fixture('faults/fault-app.js'),
        '-w',
        '2',
        '--max-memory',
        '150',
        '--max-age',
        '2s',
        '--heartbeat',
        '100',
        ...FAST,
      ],
      { env: { PORT: String(port) } },
    );
    await s.ready();
    const first = s.forkedPids();
    expect(first).toHaveLength(2);
    const procs = sampleChildren(s.pid);
    const fat = Number((await get(port, '/grow?mb=200')).body.trim());
    const mem = await s.waitEvent('worker.recycle', (l) => l.pid === fat, 5_000);
    expect(mem).toMatchObject({ reason: 'max-memory', limit: 150 });
    expect(mem.value as number).toBeGreaterThan(150);
    const other = first.find((p) => p !== fat)!;
    const age = await s.waitEvent('worker.recycle', (l) => l.pid === other, 8_000);
    expect(age.reason).toBe('max-age');
    await s.waitEvent('worker.exit', (l) => l.pid === other, 8_000);
    procs.stop();
    // One replacement at a time (N + 1 serving). The first replacement reaches its own --max-age about when the
    // second old worker is recycled: that worker may still be draining when the next replacement starts (drains
    // overlap up to --max-draining, N), as the sibling test above allows.
    expect(s.workerBounds().serving).toBeLessThanOrEqual(3);
    expect(s.workerBounds().draining).toBeLessThanOrEqual(2);
    expect(procs.max).toBeLessThanOrEqual(5);
    const pids = await pidsAnswering(port, 10);
    for (const p of first) expect(pids.has(p)).toBe(false);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});

describe('faults: master loss', () => {
  it('master killed with SIGKILL: the request in flight completes, every worker exits within its drain deadline', async () => {
    const port = await freePort();
    const s = supervise([example('http-sdk/server.js'), '-w', '2', '--kill-timeout', '3000'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const workers = childPids(s.pid);
    expect(workers.sort()).toEqual(s.forkedPids().sort());
    const slow = get(port, '/slow?ms=1500');
    await until(async () => (await get(port, '/')).status === 200, 2_000); // the slow one is accepted by now
    process.kill(s.pid, 'SIGKILL');
    // Drain deadline: 80% of the kill timeout (2400 ms); no orphan outlives it (plus the time to exit).
    const exited = waitExited(workers, 2_900);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^slow 1500 \d+\n$/);
    expect(await exited).toBeLessThan(2_900);
  });
});

describe('faults: signal storms', () => {
  it('20 SIGHUPs in a second with --max-draining 1: never more than N + surge serving and 1 draining, then a clean exit 0', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', '--max-draining', '1', ...FAST], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const procs = sampleChildren(s.pid);
    await repeat(20, 50, () => s.signal('SIGHUP'));
    // Settled: every rollout ended and no follow-up was queued behind the last one.
    const settled = () => {
      const starts = s.events('rollout.start');
      if (starts.length === 0 || starts.length !== s.events('rollout.end').length) return false;
      const lastStart = s.lines.lastIndexOf(starts.at(-1)!);
      return !s.lines.some((l, i) => i > lastStart && l.event === 'rollout.queued');
    };
    await until(settled, 15_000, 'the rollouts to settle');
    procs.stop();
    expect(s.workerBounds()).toEqual({ serving: 3, draining: 1 });
    expect(procs.max).toBeLessThanOrEqual(4);
    expect(s.events('rollout.end').every((l) => l.outcome === 'done')).toBe(true);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids(), ...procs.seen]);
  });

  it('SIGHUP during boot waits for the boot, then rolls once', async () => {
    const port = await freePort();
    // The workers boot once the gate file exists: the SIGHUP surely comes during the boot.
    const gate = `${modeFile('ok')}.gate`;
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', ...FAST], {
      env: { PORT: String(port), GATE_FILE: gate },
    });
    await s.waitFor(() => s.forkedPids().length === 2, 5_000);
    s.signal('SIGHUP');
    await s.waitEvent('rollout.deferred', undefined, 5_000);
    writeFileSync(gate, '');
    const end = await s.waitEvent('rollout.end', undefined, 10_000);
    expect(end).toMatchObject({ outcome: 'done', replaced: 2, trigger: 'SIGHUP' });
    const ready = s.events('master.ready')[0]!;
    expect(s.lines.indexOf(ready)).toBeLessThan(s.lines.indexOf(s.events('rollout.start')[0]!));
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('SIGHUP then SIGTERM during boot, before the workers are ready: exit 0 and no process left', async () => {
    const port = await freePort();
    // The gate file never exists: the workers are still booting when the signals come.
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', ...FAST], {
      env: { PORT: String(port), GATE_FILE: `${modeFile('ok')}.gate` },
    });
    await s.waitFor(() => s.forkedPids().length === 2, 5_000);
    const procs = sampleChildren(s.pid);
    s.signal('SIGHUP');
    await s.waitEvent('rollout.deferred', undefined, 5_000);
    s.signal('SIGTERM');
    expect((await s.waitExit(5_000)).code).toBe(0);
    procs.stop();
    expect(procs.max).toBeLessThanOrEqual(2);
    expect(s.events('master.ready')).toHaveLength(0);
    expect(s.events('rollout.start')).toHaveLength(0);
    await waitGone([s.pid, ...s.forkedPids(), ...procs.seen]);
  });

  it('SIGHUPs during a stop do nothing harmful: the request in flight completes, exit 0', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', ...FAST], { env: { PORT: String(port) } });
    await s.ready();
    const slow = get(port, '/slow?ms=800');
    await s.waitFor((l) => l.src === 'worker' && /slow request/.test(String(l.msg)), 3_000);
    s.signal('SIGTERM');
    await s.waitEvent('master.stopping', undefined, 2_000);
    await repeat(5, 20, () => s.signal('SIGHUP'));
    expect((await slow).status).toBe(200);
    expect((await s.waitExit(5_000)).code).toBe(0);
    expect(s.events('rollout.start')).toHaveLength(0);
    expect(s.forkedPids()).toHaveLength(2);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('SIGTERM in the middle of a rollout: the rollout stops, never more than N + surge serving, exit 0', async () => {
    const port = await freePort();
    // Slot 1's workers boot once the gate file exists: open for the first boot, closed for the rollout, whose
    // second replacement is then surely still booting when SIGTERM comes.
    const gate = `${modeFile('ok')}.gate`;
    writeFileSync(gate, '');
    const s = supervise([fixture('faults/fault-app.js'), '-w', '3', ...FAST], {
      env: { PORT: String(port), GATE_FILE: gate, GATE_SLOTS: '1' },
    });
    await s.ready();
    rmSync(gate);
    const procs = sampleChildren(s.pid);
    s.signal('SIGHUP');
    // The first replacement is serving and the second is booting: mid-rollout.
    await s.waitEvent('worker.state', (l) => l.generation === 2 && l.to === 'ready', 10_000);
    await s.waitFor(() => s.events('worker.fork').filter((l) => l.generation === 2).length === 2, 10_000);
    s.signal('SIGTERM');
    expect((await s.waitExit(8_000)).code).toBe(0);
    procs.stop();
    const bounds = s.workerBounds();
    expect(bounds.serving).toBeLessThanOrEqual(4);
    expect(bounds.draining).toBeLessThanOrEqual(1);
    expect(procs.max).toBeLessThanOrEqual(5);
    const end = s.events('rollout.end')[0];
    expect(end?.outcome).toBe('aborted');
    await waitGone([s.pid, ...s.forkedPids(), ...procs.seen]);
  });
});
