import { describe, expect, it } from 'vitest';

import { fileURLToPath } from 'node:url';

import { resolveOptions } from '../../src/config/options.js';
import { silentWorkers, watchdogInterval } from '../../src/restart/watchdog.js';

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
    expect(() => resolveOptions({ script, maxRequests: '1000', heartbeatMs: '0' })).toThrow(
      /--max-requests needs the heartbeat/,
    );
    expect(resolveOptions({ script, maxRequests: '0', heartbeatMs: '0' }).maxRequests).toBe(0);
  });

  it('looks often enough to catch a hang within 1.25 x the timeout, at most once a second', () => {
    expect(watchdogInterval(500)).toBe(125);
    expect(watchdogInterval(60_000)).toBe(1_000);
    expect(watchdogInterval(40)).toBe(20);
  });
});
