import { describe, expect, it } from 'vitest';

import { isProcessAlive } from '../../src/control/process-alive.js';

describe('isProcessAlive', () => {
  it('is true for this process and false for a pid that names no single process', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    // kill(-1, 0) succeeds for root and kill(0, 0) probes our own group: neither is a process.
    for (const pid of [-1, 0, -process.pid, Number.NaN, 1.5]) expect(isProcessAlive(pid)).toBe(false);
  });
});
