#!/usr/bin/env node
// pnpm bench:longlived (also part of pnpm bench): rollouts of 4 workers of an app with no supervise code that
// holds WebSocket clients and server-sent event streams beside an HTTP keep-alive load, for supervise and PM2
// in the same run. For each: the rollout wall time with no long-lived clients, then with them (the ratio is
// what the long-lived clients cost the rollout), abnormal WebSocket closes (anything but 1000/1001/1012), event
// streams cut mid-body, clients that did not get back onto a worker, and HTTP requests lost.
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Pool } from 'undici';
import WebSocket from 'ws';

import { Pm2Contender, superviseContender } from './lib/contenders.mjs';
import { freePort, now, sleep } from './lib/procs.mjs';
import { runStandalone } from './lib/standalone.mjs';
import { median, round, table } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, 'apps/longlived-app.cjs');
const CLEAN_CLOSES = new Set([1000, 1001, 1012]);

export const LONGLIVED_DEFAULTS = {
  BENCH_LL_WS: 200, // WebSocket clients
  BENCH_LL_SSE: 50, // event streams
  BENCH_LL_CONNECTIONS: 20, // undici keep-alive connections of the HTTP load
  BENCH_LL_ROLLOUTS: 3, // rollouts without, then as many with the long-lived clients
  BENCH_LL_WORKERS: 4,
  BENCH_LL_RECONNECT_MS: 15_000, // a client not back on a worker this long after a rollout ended counts as lost
  BENCH_LL_ONLY: 'supervise,pm2',
};

/** A WebSocket user that reconnects after every close and keeps score of how each connection ended. */
class WsUser {
  constructor(port, score) {
    Object.assign(this, { port, score, open: false, stopped: false });
  }
  connect() {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/`);
      this.ws = ws;
      let opened = false;
      ws.on('error', () => {});
      ws.once('message', () => {
        opened = this.open = true;
        resolve(true);
      });
      ws.on('close', (code) => {
        this.open = false;
        if (this.stopped) return; // the bench's own terminate() at the end
        if (!opened) {
          this.score.failedConnects++;
          resolve(false);
        } else if (CLEAN_CLOSES.has(code)) this.score.clean++;
        else this.score.abnormal[code] = (this.score.abnormal[code] ?? 0) + 1;
        if (!this.stopped) setTimeout(() => this.connect(), opened ? 0 : 100);
      });
    });
  }
  stop() {
    this.stopped = true;
    this.ws?.terminate();
  }
}

/** An EventSource-like user: reconnects with Last-Event-ID after a stream that ended; a cut stream counts. */
class SseUser {
  constructor(port, score) {
    Object.assign(this, { port, score, open: false, stopped: false, lastId: null });
  }
  connect() {
    return new Promise((resolve) => {
      const headers = this.lastId ? { 'last-event-id': this.lastId } : {};
      let done = false;
      const finish = (how) => {
        if (done) return;
        done = true;
        this.open = false;
        if (this.stopped) return; // the bench's own destroy() at the end
        if (how === 'end') this.score.clean++;
        else if (how === 'cut') this.score.cut++;
        else this.score.failedConnects++;
        resolve(false);
        if (!this.stopped) setTimeout(() => this.connect(), how === 'end' ? 0 : 100);
      };
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/events', headers, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          if (!this.open) {
            this.open = true;
            resolve(true);
          }
          const ids = chunk.match(/^id: (\d+)$/gm);
          if (ids) this.lastId = ids[ids.length - 1].slice(4);
        });
        res.on('end', () => finish('end'));
        res.on('aborted', () => finish('cut'));
        res.on('error', () => finish('cut'));
      });
      this.req = req;
      req.on('error', () => finish(this.open ? 'cut' : 'connect'));
    });
  }
  stop() {
    this.stopped = true;
    this.req?.destroy();
  }
}

/** An HTTP keep-alive load through undici (honours Connection: close); every non-2xx or error is lost. */
function httpLoad(port, connections) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, keepAliveTimeout: 30_000 });
  const r = { ok: 0, lost: 0, codes: {} };
  let stopped = false;
  const bound = setTimeout(() => (stopped = true), 15 * 60_000);
  const loops = Array.from({ length: connections }, async () => {
    while (!stopped) {
      try {
        const res = await pool.request({ path: '/', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        if (res.statusCode === 200) r.ok++;
        else r.lost++;
      } catch (err) {
        r.lost++;
        r.codes[err.code ?? 'error'] = (r.codes[err.code ?? 'error'] ?? 0) + 1;
      }
    }
  });
  return {
    r,
    async stop() {
      stopped = true;
      clearTimeout(bound);
      await Promise.all(loops);
      await pool.close();
      return r;
    },
  };
}

async function until(pred, ms) {
  const end = now() + ms;
  while (!pred()) {
    if (now() > end) return false;
    await sleep(20);
  }
  return true;
}

async function runOne(key, cfg, logDir, say) {
  const port = await freePort();
  const workers = cfg.BENCH_LL_WORKERS;
  const c =
    key === 'pm2'
      ? new Pm2Contender({
          name: 'll-pm2',
          label: 'PM2 7 cluster, pm2 reload',
          workers,
          port,
          logDir,
          script: APP,
          env: { PM2: '1' },
        })
      : superviseContender({
          name: 'll-supervise',
          label: 'supervise, no SDK code',
          script: APP,
          workers,
          port,
          logDir,
        });
  const row = { key, label: c.label, wallsWithout: [], wallsWith: [], reconnectMs: [], notBack: 0 };
  const ws = { clean: 0, abnormal: {}, failedConnects: 0 };
  const sse = { clean: 0, cut: 0, failedConnects: 0 };
  const users = [];
  let load;
  try {
    await c.start();
    load = httpLoad(port, cfg.BENCH_LL_CONNECTIONS);
    await sleep(1000);
    for (let i = 0; i < cfg.BENCH_LL_ROLLOUTS; i++) {
      const r = await c.reload();
      row.wallsWithout.push(r.wallMs);
      say(`${key}: rollout without long-lived clients ${r.wallMs} ms (${r.outcome})`);
      await sleep(1000);
    }
    for (let i = 0; i < cfg.BENCH_LL_WS; i++) users.push(new WsUser(port, ws));
    for (let i = 0; i < cfg.BENCH_LL_SSE; i++) users.push(new SseUser(port, sse));
    for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => u.connect()));
    await sleep(1000);
    for (let i = 0; i < cfg.BENCH_LL_ROLLOUTS; i++) {
      const t0 = now();
      const r = await c.reload();
      row.wallsWith.push(r.wallMs);
      const back = await until(() => users.every((u) => u.open), cfg.BENCH_LL_RECONNECT_MS);
      if (back) row.reconnectMs.push(now() - t0);
      else row.notBack += users.filter((u) => !u.open).length;
      say(
        `${key}: rollout with ${users.length} long-lived clients ${r.wallMs} ms (${r.outcome}), every client back: ${back ? `${now() - t0} ms after the signal` : 'no'}`,
      );
      await sleep(1000);
    }
  } catch (err) {
    row.error = err?.message ?? String(err);
  } finally {
    for (const u of users) u.stop();
    if (load) row.http = await load.stop();
    row.leftover = await c.stop();
  }
  row.ws = ws;
  row.sse = sse;
  return row;
}

/** Runs every contender of BENCH_LL_ONLY; returns { rows, text }. */
export async function runLongLived(cfg, { logDir, say }) {
  const rows = [];
  for (const key of cfg.BENCH_LL_ONLY.split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    say(`long-lived: ${key}`);
    rows.push(await runOne(key, cfg, logDir, say));
  }
  const fmt = (xs) => xs.join(' ');
  const body = rows.map((r) => {
    const without = median(r.wallsWithout);
    const withLl = median(r.wallsWith);
    const abnormal = Object.values(r.ws.abnormal).reduce((a, b) => a + b, 0);
    const codes = Object.entries(r.ws.abnormal)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    return [
      r.label,
      `${without} (${fmt(r.wallsWithout)})`,
      `${withLl} (${fmt(r.wallsWith)})`,
      without && withLl ? round(withLl / without, 2) : null,
      `${abnormal}${codes ? ` (${codes})` : ''} of ${abnormal + r.ws.clean}`,
      `${r.sse.cut} of ${r.sse.cut + r.sse.clean}`,
      r.notBack,
      r.reconnectMs.length ? median(r.reconnectMs) : '-',
      r.http ? `${r.http.lost} of ${r.http.ok + r.http.lost}` : '-',
    ];
  });
  const lines = [
    `Long-lived clients through rollouts (${cfg.BENCH_LL_WORKERS} workers, ${cfg.BENCH_LL_WS} WebSocket clients + ${cfg.BENCH_LL_SSE} event streams that reconnect, beside ${cfg.BENCH_LL_CONNECTIONS} undici keep-alive connections; ${cfg.BENCH_LL_ROLLOUTS} rollouts without, then ${cfg.BENCH_LL_ROLLOUTS} with them; an app with no supervise code, PM2's pattern for PM2):`,
    table(
      [
        'subject',
        'rollout ms, none (median, each)',
        'rollout ms, with clients',
        'ratio',
        'abnormal WS closes',
        'SSE streams cut',
        'clients not back',
        'all back after (ms from signal)',
        'HTTP lost',
      ],
      body,
    ),
  ];
  for (const r of rows) {
    if (r.error) lines.push(`  ${r.label}: ERROR ${r.error}`);
    if (r.http && Object.keys(r.http.codes).length)
      lines.push(`  ${r.label}: HTTP errors ${JSON.stringify(r.http.codes)}`);
    if (r.leftover?.length) lines.push(`  ${r.label}: processes left after stop: ${r.leftover.join(' ')}`);
  }
  return { rows, text: lines.join('\n') };
}

await runStandalone(import.meta.url, LONGLIVED_DEFAULTS, 'll', runLongLived);
