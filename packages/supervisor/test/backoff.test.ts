import { describe, expect, it } from 'vitest';

import { fileURLToPath } from 'node:url';

import { BootBreaker, backoffDelay } from '../src/backoff.js';
import { resolveOptions } from '../src/options.js';
import { jittered, recycleVerdict } from '../src/recycle.js';
import { silentWorkers, watchdogInterval } from '../src/watchdog.js';

describe('backoffDelay', () => {
  it('doubles per attempt within [half, full] of the exponential delay', () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const exp = 100 * 2 ** attempt;
      expect(backoffDelay(attempt, 100, 10_000, () => 0)).toBe(exp / 2);
      expect(backoffDelay(attempt, 100, 10_000, () => 1)).toBe(exp);
    }
  });

  it('is capped, and never overflows at large attempt counts', () => {
    expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(10_000, 100, 10_000, () => 0.5)).toBe(7_500);
  });

  it('jitters: slots crashing together do not restart in lockstep', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 10_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('a base of 0 restarts at once', () => {
    expect(backoffDelay(5, 0, 10_000)).toBe(0);
  });
});

describe('BootBreaker', () => {
  it('trips at the limit within the window', () => {
    const b = new BootBreaker(3, 1_000);
    expect(b.record(0)).toBe(false);
    expect(b.record(100)).toBe(false);
    expect(b.record(200)).toBe(true);
    expect(b.count).toBe(3);
  });

  it('forgets failures older than the window', () => {
    const b = new BootBreaker(3, 1_000);
    b.record(0);
    b.record(100);
    expect(b.record(1_500)).toBe(false);
    expect(b.count).toBe(1);
  });

  it('resets when a worker becomes ready', () => {
    const b = new BootBreaker(2, 1_000);
    b.record(0);
    b.reset();
    expect(b.record(10)).toBe(false);
  });
});

describe('watchdog', () => {
  const now = 10_000;
  it('watches only ready workers that have sent a heartbeat', () => {
    const workers = [
      { id: 'silent', state: 'ready', lastHeartbeat: now - 600 },
      { id: 'alive', state: 'ready', lastHeartbeat: now - 100 },
      { id: 'no-runtime', state: 'ready', lastHeartbeat: null },
      { id: 'draining', state: 'draining', lastHeartbeat: now - 5_000 },
      { id: 'booting', state: 'starting', lastHeartbeat: now - 5_000 },
    ];
    expect(silentWorkers(workers, now, 500).map((w) => w.id)).toEqual(['silent']);
  });

  it('--watchdog-timeout under two heartbeats is a usage error (healthy workers would be killed)', () => {
    const script = fileURLToPath(import.meta.url);
    expect(() => resolveOptions({ script, watchdogTimeoutMs: '1500', heartbeatMs: '1000' })).toThrow(
      /--watchdog-timeout must be at least twice --heartbeat \(1000 ms\), got 1500 ms/,
    );
    expect(() => resolveOptions({ script, watchdogTimeoutMs: '5s', heartbeatMs: '0' })).toThrow(/twice --heartbeat/);
    expect(resolveOptions({ script, watchdogTimeoutMs: '2s' }).watchdogTimeoutMs).toBe(2_000);
  });

  it('--max-requests without a heartbeat is a usage error (the heartbeat carries the count)', () => {
    const script = fileURLToPath(import.meta.url);
    expect(() => resolveOptions({ script, maxRequests: '1000', heartbeatMs: '0' })).toThrow(/--max-requests needs the heartbeat/);
    expect(resolveOptions({ script, maxRequests: '0', heartbeatMs: '0' }).maxRequests).toBe(0);
  });

  it('looks often enough to catch a hang within 1.25 x the timeout, at most once a second', () => {
    expect(watchdogInterval(500)).toBe(125);
    expect(watchdogInterval(60_000)).toBe(1_000);
    expect(watchdogInterval(40)).toBe(20);
  });
});

describe('recycling', () => {
  const limits = { maxMemoryBytes: 100 * 1024 * 1024, maxRequests: 1_000, maxAgeMs: 60_000 };
  const jitter = { requests: 1_050, ageMs: 63_000 };

  it('jitter adds up to 10%, never less than the limit', () => {
    expect(jittered(1_000, () => 0)).toBe(1_000);
    expect(jittered(1_000, () => 0.999)).toBe(1_099);
  });

  it('names the limit passed: memory first, then requests, then age', () => {
    const w = { requests: 2_000, readyAt: 0 };
    expect(recycleVerdict(w, limits, 200 * 1024 * 1024, 100_000, jitter)).toEqual({ reason: 'max-memory', value: 200, limit: 100 });
    expect(recycleVerdict(w, limits, 10 * 1024 * 1024, 100_000, jitter)).toEqual({ reason: 'max-requests', value: 2_000, limit: 1_050 });
    expect(recycleVerdict({ requests: 0, readyAt: 0 }, limits, null, 63_000, jitter)).toEqual({ reason: 'max-age', value: 63_000, limit: 63_000 });
  });

  it('leaves a worker under every limit alone, and ignores limits that are off', () => {
    expect(recycleVerdict({ requests: 1_049, readyAt: 0 }, limits, 50 * 1024 * 1024, 62_999, jitter)).toBeNull();
    const off = { maxMemoryBytes: 0, maxRequests: 0, maxAgeMs: 0 };
    expect(recycleVerdict({ requests: 1e9, readyAt: 0 }, off, 1e12, 1e12, { requests: 0, ageMs: 0 })).toBeNull();
  });
});
