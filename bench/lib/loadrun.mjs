// Parent side of the load clients (child processes, so that the bench's own work does not add to the latency),
// and the long request sent just before each reload.
import { join } from 'node:path';

import { Client } from 'undici';

import { BENCH_DIR } from './contenders.mjs';
import { spawnTracked } from './procs.mjs';

/**
 * Starts a load client ('undici' or 'autocannon') against origin. Returns { t0, stop(windows, warmupUntil) }:
 * stop() resolves with the client's result.
 */
export function startLoad(kind, cfg) {
  const script = join(BENCH_DIR, 'lib', kind === 'autocannon' ? 'load-autocannon.mjs' : 'load-undici.mjs');
  const child = spawnTracked(`load-${kind}`, process.execPath, [script, JSON.stringify(cfg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onResult;
  let onStarted;
  let failed;
  const result = new Promise((resolve, reject) => {
    onResult = resolve;
    failed = reject;
  });
  result.catch(() => {}); // observed by stop(); never an unhandled rejection
  const started = new Promise((resolve) => (onStarted = resolve));
  child.on('message', (msg) => {
    if (msg?.type === 'started') onStarted(msg.t0);
    if (msg?.type === 'result') onResult(msg);
  });
  child.on('exit', (code) => {
    failed(new Error(`load client ${kind} exited (${code}) without a result`));
    onStarted(null);
  });
  return {
    started,
    stop(windows, warmupUntil) {
      if (child.connected) child.send({ type: 'stop', windows, warmupUntil });
      const bound = new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`load client ${kind}: no result`)),
          (cfg.timeoutMs ?? 10_000) + 30_000,
        ).unref(),
      );
      return Promise.race([result, bound]);
    },
  };
}

/**
 * One long request on a connection of its own: { ok, status, ms, pid, error }. ok = 200 and the full body.
 */
export async function slowRequest(origin, ms) {
  const client = new Client(origin, { headersTimeout: ms + 20_000, bodyTimeout: ms + 20_000, connectTimeout: 10_000 });
  const t0 = Date.now();
  try {
    const res = await client.request({ path: `/slow?ms=${ms}`, method: 'GET' });
    const body = await res.body.text();
    const ok = res.statusCode === 200 && body.startsWith(`slow ${ms}`);
    return { ok, status: res.statusCode, ms: Date.now() - t0, pid: Number(body.trim().split(' ')[2]) || null };
  } catch (err) {
    return { ok: false, status: 0, ms: Date.now() - t0, error: err?.code ?? String(err) };
  } finally {
    client.destroy().catch(() => {});
  }
}
