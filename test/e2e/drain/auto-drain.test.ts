/**
 * Issue 9: apps that never import the SDK lose nothing on reload. Each app runs 4 workers through SIGHUP
 * rollouts (3 for node:http; 2 for the frameworks, whose drain is the same engine's) under two keep-alive loads at once, 50 connections each: undici (honours `Connection: close`) and
 * autocannon (its errors, timeouts and non-2xx answers are counted). A 2 s request is in flight at each
 * rollout and must complete; every old worker must have exited before the loads stop.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { cannon, get, load, until } from '../../helpers/http.js';
import { example, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

const SLOW_MS = 2_000;

const apps = [
  { name: 'examples/http-basic (node:http)', script: example('http-basic/server.js'), rounds: 3 },
  { name: 'an unmodified Express app', script: example('express/server.js'), rounds: 2 },
  { name: 'an unmodified Fastify app', script: example('fastify/server.js'), rounds: 2 },
];

describe('zero-code drain: SIGHUP rollouts of 4 workers under 2 x 50 keep-alive connections', () => {
  for (const app of apps) {
    it(`${app.name}: ${app.rounds} rollouts, 0 failed requests (undici and autocannon), the slow requests complete`, async () => {
      const port = await freePort();
      const s = supervise([app.script, '-w', '4', '--surge', '4', '--kill-timeout', '8000'], {
        env: { PORT: String(port) },
      });
      await s.ready();
      expect(
        s
          .events('worker.state')
          .filter((l) => l.to === 'ready')
          .map((l) => l.drain),
      ).toEqual(Array(4).fill('preload'));

      const undici = load(port, { connections: 50, maxMs: 40_000 });
      const ac = cannon(port);
      // When requests fail, when they failed relative to the rollouts says why: keep a timeline.
      const t0 = Date.now();
      const timeline: string[] = [];
      let failedSeen = 0;
      const watch = setInterval(() => {
        if (undici.result.failed === failedSeen) return;
        failedSeen = undici.result.failed;
        timeline.push(`+${Date.now() - t0} ms: ${failedSeen} failed`);
      }, 20);
      await until(() => undici.result.ok > 200 && ac.responses() > 200, 10_000, 'both loads to warm up');

      const slow: Promise<{ status: number; body: string }>[] = [];
      for (let round = 1; round <= app.rounds; round++) {
        // Sent before the SIGHUP, so an old worker has it: the old workers drain only once the new are ready.
        slow.push(get(port, `/slow?ms=${SLOW_MS}`, 15_000));
        const seen = s.events('rollout.end').length;
        timeline.push(`+${Date.now() - t0} ms: SIGHUP`);
        s.signal('SIGHUP');
        const end = await s.waitFor((l) => l.event === 'rollout.end' && s.events('rollout.end').length > seen, 20_000);
        expect(end).toMatchObject({ outcome: 'done', replaced: 4 });
      }
      const old = s.forkedPids().slice(0, 4 * app.rounds);
      // Every old worker has exited before the loads stop (waitGone throws otherwise).
      await waitGone(old, 5_000);
      const okAtEnd = undici.result.ok;
      await until(() => undici.result.ok > okAtEnd + 200, 10_000, 'load on the new workers');

      const [u, a] = await Promise.all([undici.stop(), ac.stop()]);
      clearInterval(watch);
      const answers = await Promise.all(slow);
      const exits = s.events('worker.exit').filter((l) => old.includes(l.pid as number));
      const drains = exits
        .map((e) => e.drain as { closedIdle: number; durationMs: number } | undefined)
        .filter((d) => !!d);
      console.log(
        `${app.name}: undici ${u.ok} ok / ${u.failed} failed; autocannon ${a['2xx']} 2xx, ${a.errors} errors, ` +
          `${a.timeouts} timeouts, ${a.non2xx} non-2xx; rollouts ${s
            .events('rollout.end')
            .map((l) => l.durationMs)
            .join('/')} ms; ` +
          `drains ${Math.min(...drains.map((d) => d.durationMs))}-${Math.max(...drains.map((d) => d.durationMs))} ms, ` +
          `${drains.reduce((n, d) => n + d.closedIdle, 0)} idle sockets closed` +
          (u.failed > 0
            ? `; timeline: ${timeline.join(', ')}; drains began at ` +
              s
                .events('worker.state')
                .filter((l) => l.to === 'draining')
                .map((l) => `+${Date.parse(String(l.time)) - t0}`)
                .join(' ') +
              `; errors: ${u.errors.join(' | ')}`
            : ''),
      );

      expect(u.errors).toEqual([]);
      expect(u.failed).toBe(0);
      expect(u.ok).toBeGreaterThan(1_000);
      expect({ errors: a.errors, timeouts: a.timeouts, non2xx: a.non2xx }).toEqual({
        errors: 0,
        timeouts: 0,
        non2xx: 0,
      });
      expect(a['2xx']).toBeGreaterThan(1_000);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body).toMatch(new RegExp(`^slow ${SLOW_MS} \\d+\\n$`));
        expect(old).toContain(Number(answer.body.split(' ')[2]));
      }
      // Every old worker acked a clean drain; none was killed, nothing was forced.
      expect(exits).toHaveLength(4 * app.rounds);
      for (const e of exits) expect(e).toMatchObject({ killed: false, code: 0, drain: { forced: 0 } });
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    });
  }
});
