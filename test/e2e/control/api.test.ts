import { spawn } from 'node:child_process';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ROOT, fixture, freePort, waitGone } from '../../helpers/supervise.js';

const HOST = path.join(ROOT, 'packages/supervisor/test/fixtures/api-host.mjs');
const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

interface Line {
  event?: string;
  step?: string;
  pid?: number;
  [key: string]: unknown;
}

describe('programmatic API', () => {
  it('createSupervisor: start, reload, scale, stop resolve in order, the typed events fire, and the process ends by itself', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [HOST, fixture('observe/ops-app.js'), String(port), String(healthPort)], {
      cwd: path.dirname(HOST),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    const lines: Line[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = JSON.parse(raw) as Line;
        lines.push(line);
        if (line.event === 'worker:forked' && line.pid) started.push(line.pid);
      }
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the host did not end within 20 s:\n${JSON.stringify(lines)}\n${stderr}`)),
        20_000,
      );
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const steps = lines.filter((l) => l.step);
    expect(steps).toEqual([
      { step: 'started', ready: 2, health: 200, control: null },
      { step: 'reloaded', outcome: 'done', replaced: 2, generation: 2 },
      { step: 'scaled', ready: 3, workers: 3 },
      { step: 'scaled', ready: 1 },
      { step: 'stopped', code: 0 },
    ]);
    const count = (event: string) => lines.filter((l) => l.event === event).length;
    // 2 at start, 2 in the rollout, 1 in the scale up.
    expect(count('worker:forked')).toBe(5);
    expect(count('worker:ready')).toBe(5);
    expect(count('worker:draining')).toBe(5);
    expect(count('worker:exit')).toBe(5);
    expect(lines.filter((l) => l.event?.startsWith('rollout:')).map((l) => l.event)).toEqual([
      'rollout:start',
      'rollout:done',
    ]);
    expect(lines.find((l) => l.event === 'rollout:done')?.outcome).toBe('done');
    expect(lines.filter((l) => l.event === 'stopping' || l.event === 'stopped').map((l) => l.event)).toEqual([
      'stopping',
      'stopped',
    ]);
    const pids = started.slice(1);
    // Every worker has exited (waitGone throws otherwise).
    await waitGone(pids);
  });

  it('stop() during boot: start() rejects with ERR_STOPPED once the stop is done, stop() resolves 0, the process ends', async () => {
    const port = await freePort();
    const host = path.join(ROOT, 'packages/supervisor/test/fixtures/api-stop-during-boot.mjs');
    const child = spawn(process.execPath, [host, fixture('observe/ops-app.js'), String(port)], {
      cwd: path.dirname(host),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the host did not end within 15 s: ${stdout}${stderr}`)), 15_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const steps = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(steps).toEqual([
      { step: 'stop resolved', code: 0 },
      { step: 'start rejected', code: 'ERR_STOPPED', message: 'stopped before every worker was ready' },
    ]);
  });
});
