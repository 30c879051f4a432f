import http from 'node:http';
import { createRequire } from 'node:module';

import type autocannonFn from 'autocannon';

// Loading autocannon and undici costs more CPU than the rest of a test file's imports, in every file that imports
// this module, and most of those files use neither: each is loaded when first used.
const require = createRequire(import.meta.url);
const autocannon: typeof autocannonFn = (options) => (require('autocannon') as typeof autocannonFn)(options);
const undici = () => require('undici') as typeof import('undici');

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request on a fresh connection (no keep-alive pool), so that round-robin sees every request. */
export function get(port: number, path = '/', timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The set of pids that answer `GET /` over `n` fresh connections. */
export async function pidsAnswering(port: number, n = 40): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const { body } = await get(port, '/');
    pids.add(Number(body.trim()));
  }
  return pids;
}

/**
 * Every pid that answers fresh connections, asked until `n` distinct ones have: with a shared socket which worker
 * takes a connection is the kernel's choice, so a fixed number of requests may miss one.
 */
export async function untilAnswering(port: number, n: number, timeoutMs = 10_000): Promise<Set<number>> {
  const seen = new Set<number>();
  await until(
    async () => {
      for (const pid of await pidsAnswering(port, 10)) seen.add(pid);
      return seen.size >= n;
    },
    timeoutMs,
    `${n} pids answering`,
  );
  return seen;
}

/** Polls until `fn` returns true (or a value) or the time runs out. */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  statuses: Record<number, number>;
  pids: Set<number>;
}

/**
 * A keep-alive load with a client that honours `Connection: close` (undici): `connections` sequential
 * loops, each bounded by `maxRequests` and by the time until stop() (or `maxMs`). Every request that does
 * not end in a 2xx counts as failed, with its error kept.
 */
export function load(
  port: number,
  opts: {
    connections?: number;
    path?: string;
    maxMs?: number;
    maxRequests?: number;
    reset?: boolean;
    from?: string;
  } = {},
) {
  const connections = opts.connections ?? 20;
  // from: the loopback source address, for tests where the client's address matters (--sticky).
  const pool = new (undici().Pool)(`http://127.0.0.1:${port}`, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    ...(opts.from ? { localAddress: opts.from } : {}),
  });
  const result: LoadResult = { ok: 0, failed: 0, errors: [], statuses: {}, pids: new Set() };
  let stopped = false;
  const hardStop = setTimeout(() => (stopped = true), opts.maxMs ?? 60_000);
  const perLoop = Math.ceil((opts.maxRequests ?? 200_000) / connections);
  const loops = Array.from({ length: connections }, async () => {
    for (let i = 0; i < perLoop && !stopped; i++) {
      try {
        // reset: one request per connection (Connection: close), as clients without keep-alive do.
        const res = await pool.request({
          path: opts.path ?? '/',
          method: 'GET',
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
          reset: opts.reset ?? false,
        });
        const body = await res.body.text();
        result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          result.ok++;
          const pid = Number(body.trim());
          if (pid) result.pids.add(pid);
        } else {
          result.failed++;
        }
      } catch (err) {
        result.failed++;
        if (result.errors.length < 20) result.errors.push(String((err as Error)?.message ?? err));
      }
    }
  });
  return {
    result,
    /** Stops the loops, waits for the requests in flight, returns the counts. */
    async stop(): Promise<LoadResult> {
      stopped = true;
      await Promise.all(loops);
      clearTimeout(hardStop);
      await pool.close();
      return result;
    },
  };
}

/** The fields of autocannon's result that count losses. */
export interface CannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

/** autocannon's keep-alive load (50 connections, bounded to 60 s); stop() resolves with its counts. */
export function cannon(port: number, opts: { connections?: number; path?: string } = {}) {
  const instance = autocannon({
    url: `http://127.0.0.1:${port}${opts.path ?? '/'}`,
    connections: opts.connections ?? 50,
    duration: 60,
    timeout: 10,
  });
  const result = new Promise<CannonResult>((resolve, reject) => {
    instance.on('done', (r: CannonResult) => resolve(r));
    instance.on('error', reject);
  });
  let responses = 0;
  instance.on('response', () => responses++);
  return {
    responses: () => responses,
    stop: () => {
      instance.stop();
      return result;
    },
  };
}
