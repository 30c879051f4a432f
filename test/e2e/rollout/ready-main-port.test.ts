/**
 * Readiness means the app is ready (issue 27): a worker with a metrics server that listens before its main
 * server is ready once its main port listens. A SIGHUP of `-w 1` then refuses no connection on the main port,
 * and with --sticky the public port is never answered by the metrics server.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { fixture, freePort, killAll, supervise, tempDir, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

async function rolloutUnderConnects(extra: string[]): Promise<{ answers: number; refused: number; wrong: string[] }> {
  const [port, metrics] = [await freePort(), await freePort()];
  const gate = path.join(tempDir('supervise-ready-'), 'GATE');
  writeFileSync(gate, '');
  const s = supervise([fixture('rollout/two-servers.js'), '-w', '1', ...extra], {
    env: { PORT: String(port), METRICS_PORT: String(metrics), GATE_FILE: gate },
  });
  await s.ready();
  const old = s.forkedPids()[0]!;
  rmSync(gate);

  let answers = 0;
  let refused = 0;
  const wrong: string[] = [];
  const once = async () => {
    try {
      const { body } = await get(port, '/', 5_000);
      answers++;
      if (!body.startsWith('main ')) wrong.push(body.trim());
    } catch (err) {
      refused++;
      if (!/ECONNREFUSED|ECONNRESET|socket hang up/.test(String(err))) throw err;
    }
  };
  const mark = s.lines.length;
  s.signal('SIGHUP');
  // The new worker's metrics server listens: from here its main port is closed until the gate opens.
  await s.waitFor((l) => l.src === 'worker' && /metrics listening/.test(String(l.msg)), 15_000, mark);
  // Connects while only the metrics server listens: a few hundred, or until the old worker has begun to
  // leave (what a readiness that took the metrics server for the app does) and a hundred more.
  const oldLeaving = () => s.lines.some((l, i) => i >= mark && l.pid === old && l.event === 'worker.state');
  for (let n = 0, after = 0; n < 300 && after < 100; n++) {
    await once();
    if (oldLeaving()) after++;
  }
  writeFileSync(gate, '');
  const end = s.waitEvent('rollout.end', undefined, 20_000, mark);
  for (let n = 0; n < 2_000 && !s.lines.slice(mark).some((l) => l.event === 'rollout.end'); n++) await once();
  expect(await end).toMatchObject({ outcome: 'done', replaced: 1 });
  await once();
  s.signal('SIGTERM');
  expect((await s.waitExit(10_000)).code).toBe(0);
  await waitGone([s.pid, ...s.forkedPids()]);
  return { answers, refused, wrong };
}

describe('readiness: the main port, not the first server', () => {
  it('-w 1, a metrics server first: SIGHUP refuses no connection on the main port', async () => {
    const r = await rolloutUnderConnects([]);
    console.log(`two servers, -w 1 SIGHUP: ${r.answers} answered, ${r.refused} refused`);
    expect(r.refused).toBe(0);
    expect(r.wrong).toEqual([]);
    expect(r.answers).toBeGreaterThan(100);
  });

  it('--sticky: the public port is answered by the main server only, none refused', async () => {
    const r = await rolloutUnderConnects(['--sticky']);
    console.log(
      `two servers, -w 1 --sticky SIGHUP: ${r.answers} answered, ${r.refused} refused, ${r.wrong.length} wrong`,
    );
    expect(r.refused).toBe(0);
    expect(r.wrong).toEqual([]);
    expect(r.answers).toBeGreaterThan(100);
  });
});

describe('readiness: --ready-on', () => {
  it('names the port that makes a worker ready, before PORT', async () => {
    const [port, metrics] = [await freePort(), await freePort()];
    const gate = path.join(tempDir('supervise-ready-'), 'GATE');
    // The main server never listens (the gate stays closed): only --ready-on, naming the metrics port, makes
    // the worker ready.
    const s = supervise([fixture('rollout/two-servers.js'), '-w', '1', '--ready-on', String(metrics)], {
      env: { PORT: String(port), METRICS_PORT: String(metrics), GATE_FILE: gate },
    });
    await s.ready();
    expect((await get(metrics, '/')).body).toMatch(/^metrics \d+/);
    s.signal('SIGTERM');
    expect((await s.waitExit(10_000)).code).toBe(0);
  });
});
