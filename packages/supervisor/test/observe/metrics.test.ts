import { describe, expect, it } from 'vitest';

import { restartReason, triggerLabel } from '../../src/observe/metrics.js';
import type { ExitInfo } from '../../src/worker/worker-process.js';

const exit = (over: Partial<ExitInfo>): ExitInfo => ({
  code: 0,
  signal: null,
  intended: true,
  killed: false,
  stats: null,
  reason: null,
  served: true,
  died: false,
  ...over,
});

describe('restartReason', () => {
  it('names why a serving worker was replaced', () => {
    expect(restartReason(exit({ reason: 'rollout' }))).toBe('rollout');
    expect(restartReason(exit({ reason: 'recycle' }))).toBe('recycle');
    expect(restartReason(exit({ reason: 'signal' }))).toBe('signal');
    expect(restartReason(exit({ intended: false, code: 1 }))).toBe('crash');
    expect(restartReason(exit({ killed: true }))).toBe('watchdog');
  });

  it('counts a worker that never served as a boot failure, and no stop or scale-down at all', () => {
    expect(restartReason(exit({ served: false, intended: false, code: 1 }))).toBe('boot-failure');
    expect(restartReason(exit({ served: false, killed: true }))).toBe('boot-failure');
    expect(restartReason(exit({ reason: 'stop' }))).toBeNull();
    expect(restartReason(exit({ reason: 'scale' }))).toBeNull();
    expect(restartReason(exit({ reason: 'stop', served: false }))).toBeNull();
  });
});

describe('triggerLabel', () => {
  it('keeps the kinds of triggers, not their details', () => {
    expect(triggerLabel('SIGHUP')).toBe('SIGHUP');
    expect(triggerLabel('watch: src/a.js, src/b.js')).toBe('watch');
    expect(triggerLabel('SIGHUP, control, watch: a.js, b.js')).toBe('SIGHUP+control+watch');
    expect(triggerLabel('watch')).toBe('watch');
    expect(triggerLabel('')).toBe('api');
  });
});
