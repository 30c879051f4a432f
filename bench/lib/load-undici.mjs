// Load client that counts lost requests itself: an undici Pool with keep-alive and pipelining 1, which honours
// `Connection: close` (it closes that socket and opens a new one) and never re-sends a failed request.
// Run as a child process of the bench (IPC): argv[2] is a JSON config; it sends { type: 'started' }, then on
// { type: 'stop', windows, warmupUntil } stops, waits for the requests in flight and sends { type: 'result' }.
// Bounded: at most cfg.maxRequests requests and cfg.hardMs of load, whatever the parent does.
import { performance } from 'node:perf_hooks';

import { Pool } from 'undici';

import { analyze } from './stats.mjs';

const cfg = {
  origin: 'http://127.0.0.1:3000',
  path: '/',
  connections: 50,
  hardMs: 120_000,
  maxRequests: 5_000_000,
  timeoutMs: 10_000,
  errorPauseMs: 20,
  pauseMs: 0,
  reset: false, // true: one request per connection (Connection: close on every request)
  countPids: false, // true: count answers per worker pid (the body of GET / is the pid)
  ...JSON.parse(process.argv[2] ?? '{}'),
};

const epoch = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// fromAddresses: n pools, each connecting from its own loopback address (127.0.0.2, .3, ...), so that a master
// that routes by client address (--sticky) sees n clients rather than one.
const poolOptions = (connections, localAddress) => ({
  connections,
  pipelining: 1,
  headersTimeout: cfg.timeoutMs,
  bodyTimeout: cfg.timeoutMs,
  connectTimeout: cfg.timeoutMs,
  keepAliveTimeout: 4_000,
  ...(localAddress ? { localAddress } : {}),
});
const sources = Math.max(1, Math.min(cfg.fromAddresses ?? 1, cfg.connections, 250));
const pools =
  sources === 1
    ? [new Pool(cfg.origin, poolOptions(cfg.connections))]
    : Array.from(
        { length: sources },
        (_, i) => new Pool(cfg.origin, poolOptions(Math.ceil(cfg.connections / sources), `127.0.0.${i + 2}`)),
      );

const rec = { start: [], lat: [], status: [], errAt: [] };
const pids = {};
// The worker that answered each virtual user last: with one connection per user (fromAddresses = connections),
// where each keep-alive connection ended up, which the accept path decides (the answers add CPU scheduling).
const lastPids = new Array(cfg.connections).fill(null);
const errorCodes = {};
let timeouts = 0;
let errors = 0;
let issued = 0;
let stopping = false;
const t0 = epoch();
const hardStop = t0 + cfg.hardMs;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

async function vu(k) {
  const pool = pools[k % pools.length];
  while (!stopping && issued < cfg.maxRequests && epoch() < hardStop) {
    issued++;
    const s = epoch();
    try {
      const res = await pool.request({ path: cfg.path, method: 'GET', reset: cfg.reset });
      const body = await res.body.text();
      if (cfg.countPids) {
        pids[body.trim()] = (pids[body.trim()] ?? 0) + 1;
        lastPids[k] = body.trim();
      }
      rec.start.push(s);
      rec.lat.push(epoch() - s);
      rec.status.push(res.statusCode);
    } catch (err) {
      const code = err?.code ?? err?.name ?? 'unknown';
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      if (TIMEOUT_CODES.has(code)) timeouts++;
      else errors++;
      rec.start.push(s);
      rec.lat.push(epoch() - s);
      rec.status.push(0);
      rec.errAt.push(epoch()); // when it failed
      // A refused connection fails in microseconds: pause so that the count is about time, not CPU speed.
      await sleep(cfg.errorPauseMs);
    }
    if (cfg.pauseMs) await sleep(cfg.pauseMs);
  }
}

const vus = Array.from({ length: cfg.connections }, (_, k) => vu(k));
process.send({ type: 'started', t0 });

let finished = false;
async function finish(msg) {
  if (finished) return;
  finished = true;
  stopping = true;
  const t1 = epoch();
  // Requests in flight finish or time out (bounded by the client's timeouts).
  await Promise.race([Promise.all(vus), sleep(cfg.timeoutMs + 2000)]);
  const stats = analyze(rec, { windows: msg.windows ?? [], warmupUntil: msg.warmupUntil ?? t0, t0, t1 });
  const non2xx = stats.non2xx;
  const result = {
    type: 'result',
    client: 'undici',
    requests: rec.start.length,
    errors,
    timeouts,
    non2xx,
    lost: errors + timeouts + non2xx,
    errorCodes,
    ...(cfg.countPids ? { pids, lastPids } : {}),
    ...stats,
  };
  process.send(result, () => {
    Promise.all(pools.map((p) => p.destroy())).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}

process.on('message', (msg) => {
  if (msg?.type === 'stop') void finish(msg);
});
// The parent went away: stop at once.
process.on('disconnect', () => process.exit(0));
// Never outlive the hard bound by much, even if no stop arrives.
setTimeout(() => void finish({}), cfg.hardMs + 30_000).unref();
