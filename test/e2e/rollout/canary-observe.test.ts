/**
 * Seeing a canary (issue 30): `supervise status` during the bake shows the canary's figures beside the old
 * generation's; with too little traffic for a verdict the rollout goes on with a warning (the documented
 * policy); /metrics counts responses by generation and the verdicts, and promtool has nothing to say about
 * them; `reload --no-canary` skips the bake once; --canary without the heartbeat is refused in one line.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

function promtool(text: string): Promise<{ missing: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT', output: `${stdout}${stderr}` });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(text);
  });
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function startApp(extra: string[]) {
  const dir = tempDir('supervise-canary-');
  const file = path.join(dir, 'RELEASE');
  writeFileSync(file, 'good\n');
  const [port, health] = [await freePort(), await freePort()];
  const sock = path.join(dir, 'control.sock');
  const s = supervise(
    [
      fixture('canary-app.js'),
      '-w',
      '2',
      '--heartbeat',
      '100',
      '--control',
      sock,
      '--health-port',
      String(health),
    ].concat(['--canary', ...extra]),
    { env: { PORT: String(port), RELEASE_FILE: file } },
  );
  await s.ready();
  return { s, port, sock, health };
}

describe('observing a canary', () => {
  it('status shows the bake beside the old generation; too little traffic rolls on with a warning; /metrics counts it', async () => {
    // The bake cannot reach its request count: it ends at --canary-time without a verdict.
    const { s, port, sock, health } = await startApp([
      '--canary-requests',
      '1000000',
      '--canary-min-requests',
      '1000000',
      '--canary-warmup',
      '5',
      '--canary-time',
      '8s',
    ]);
    // One request per connection: every worker, the canary too, gets its share of new connections.
    const traffic = load(port, { connections: 4, maxMs: 60_000, reset: true });
    const reloading = runCli(['reload', '--control', sock]);
    await s.waitEvent('canary.start');
    type Figures = { requests: number; errorRate: number; p99Ms: number | null };
    const bake = await until(
      async () => {
        const r = await runCli(['status', '--json', '--control', sock]);
        const st = JSON.parse(r.stdout) as { canary?: { stage: string; canary: Figures; old: Figures } };
        const c = st.canary;
        return c && c.stage === 'comparing' && c.canary.requests > 0 && c.old.requests > 0 ? c : null;
      },
      7_000,
      'a status with the canary comparing',
    );
    expect(bake.canary.p99Ms).toBeGreaterThan(0);
    expect(bake.old.errorRate).toBe(0);
    const text = await runCli(['status', '--control', sock]);
    expect(text.stdout).toMatch(/^canary of generation 2 \(pid \d+\): (comparing|warm-up), .*needs 1000000$/m);
    expect(text.stdout).toMatch(/^canary +\d+ +0\.0% +[\d.]+ ms$/m);
    expect(text.stdout).toMatch(/^old +\d+ +0\.0% +[\d.]+ ms$/m);

    const reload = await reloading;
    const r = await traffic.stop();
    expect(reload.code, reload.stderr).toBe(0);
    expect(reload.stderr).toMatch(/^canary: not enough traffic for a verdict: .*\(min 1000000\) in [\d.]+ s$/m);
    expect(s.events('canary.verdict')[0]).toMatchObject({ level: 40, result: 'insufficient' });
    expect(s.events('rollout.end')[0]).toMatchObject({ outcome: 'done', replaced: 2 });
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);

    const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    expect(sample(metrics, 'supervise_canary_verdicts_total{result="insufficient"}')).toBe(1);
    expect(sample(metrics, 'supervise_canary_verdicts_total{result="fail"}')).toBe(0);
    expect(sample(metrics, 'supervise_http_responses_total{generation="1",code="2xx"}')).toBeGreaterThan(0);
    expect(sample(metrics, 'supervise_http_responses_total{generation="2",code="2xx"}')).toBeGreaterThan(0);
    expect(sample(metrics, 'supervise_http_request_duration_seconds_bucket{generation="1",le="+Inf"}')).toBe(
      sample(metrics, 'supervise_http_request_duration_seconds_count{generation="1"}'),
    );
    // The fixture answers in about 10 ms: none under 5 ms, all but a few under a second.
    expect(sample(metrics, 'supervise_http_request_duration_seconds_bucket{generation="1",le="0.005"}')).toBe(0);
    const lint = await promtool(metrics);
    if (lint.missing)
      console.warn('promtool is not installed (Debian package "prometheus"): the exposition is not linted');
    else expect(lint.output.split('\n').filter((l) => l.includes('supervise_'))).toEqual([]);
  }, 60_000);

  it('reload --no-canary skips the bake once; the next reload bakes again', async () => {
    const { s, port, sock } = await startApp([
      '--canary-requests',
      '100',
      '--canary-warmup',
      '5',
      '--canary-time',
      '20s',
    ]);
    const traffic = load(port, { connections: 4, maxMs: 60_000, reset: true });
    const skipped = await runCli(['reload', '--no-canary', '--control', sock]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(s.events('canary.start')).toEqual([]);
    const baked = await runCli(['reload', '--control', sock]);
    await traffic.stop();
    expect(baked.code, baked.stderr).toBe(0);
    expect(baked.stdout).toMatch(/^canary passed: /m);
    expect(s.events('canary.start').map((l) => l.generation)).toEqual([3]);
  }, 60_000);

  it('refuses --canary without the heartbeat, in one line', async () => {
    const r = await runCli([fixture('canary-app.js'), '--canary', '--heartbeat', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'supervise: --canary needs the heartbeat, which carries the counts it compares: remove --heartbeat 0\n',
    );
  });
});
