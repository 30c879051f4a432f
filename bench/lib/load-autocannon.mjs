// The second measurement: autocannon with keep-alive connections and pipelining 1. Same IPC protocol as
// load-undici.mjs. Caveat (see README): autocannon re-sends a request whose socket the server closed and ignores
// `Connection: close`, so its own error count can hide losses; we count its errors (timeouts included) + non-2xx
// anyway, and record each response's latency for the p99 figures.
import { performance } from 'node:perf_hooks';

import autocannon from 'autocannon';

import { analyze } from './stats.mjs';

const cfg = {
  origin: 'http://127.0.0.1:3000',
  path: '/',
  connections: 50,
  hardMs: 120_000,
  maxRequests: 5_000_000,
  timeoutMs: 10_000,
  ...JSON.parse(process.argv[2] ?? '{}'),
};

const epoch = () => performance.timeOrigin + performance.now();
const rec = { start: [], lat: [], status: [], errAt: [] };
const errorCodes = {};

const t0 = epoch();
let resolveDone;
const done = new Promise((r) => (resolveDone = r));
const instance = autocannon(
  {
    url: cfg.origin + cfg.path,
    connections: cfg.connections,
    pipelining: 1,
    duration: Math.ceil(cfg.hardMs / 1000),
    amount: undefined,
    timeout: Math.ceil(cfg.timeoutMs / 1000),
    ...(cfg.overallRate ? { overallRate: cfg.overallRate } : {}),
  },
  (err, result) => resolveDone({ err, result }),
);
let count = 0;
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  const t = epoch();
  rec.start.push(t - responseTime);
  rec.lat.push(responseTime);
  rec.status.push(statusCode);
  if (++count >= cfg.maxRequests) instance.stop();
});
instance.on('reqError', (err) => {
  const code = err?.code ?? err?.name ?? err?.message ?? 'unknown';
  errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  rec.errAt.push(epoch());
});
process.send({ type: 'started', t0 });

let finished = false;
async function finish(msg) {
  if (finished) return;
  finished = true;
  const t1 = epoch();
  instance.stop();
  const { err, result } = await Promise.race([
    done,
    new Promise((r) => setTimeout(() => r({ err: new Error('autocannon did not stop') }), 15_000)),
  ]);
  const stats = analyze(rec, { windows: msg.windows ?? [], warmupUntil: msg.warmupUntil ?? t0, t0, t1 });
  const r = result ?? {};
  const errors = (r.errors ?? 0) - (r.timeouts ?? 0);
  process.send(
    {
      type: 'result',
      client: 'autocannon',
      error: err ? String(err) : undefined,
      requests: r.requests?.total ?? rec.start.length,
      errors,
      timeouts: r.timeouts ?? 0,
      non2xx: r.non2xx ?? stats.non2xx,
      lost: (r.errors ?? 0) + (r.non2xx ?? 0),
      resets: r.resets ?? 0,
      errorCodes,
      ...stats,
      // autocannon's own latency histogram figures (whole run, 2xx only)
      autocannonP99: r.latency?.p99 ?? null,
      autocannonRps: r.requests?.average ?? null,
    },
    () => process.exit(0),
  );
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('message', (msg) => {
  if (msg?.type === 'stop') void finish(msg);
});
process.on('disconnect', () => process.exit(0));
// autocannon stops itself at hardMs; never outlive it by much, even if no stop arrives.
setTimeout(() => void finish({}), cfg.hardMs + 30_000).unref();
