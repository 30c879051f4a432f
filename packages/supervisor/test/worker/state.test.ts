import { describe, expect, it } from 'vitest';

import { canTransition, transition } from '../../src/worker/state.js';

describe('worker state machine', () => {
  it('allows the lifecycle starting -> ready -> draining -> exited', () => {
    expect(transition('starting', 'ready')).toBe('ready');
    expect(transition('ready', 'draining')).toBe('draining');
    expect(transition('draining', 'exited')).toBe('exited');
  });

  it('lets a worker leave at any point (crash at boot, drain while starting)', () => {
    expect(canTransition('starting', 'exited')).toBe(true);
    expect(canTransition('starting', 'draining')).toBe(true);
    expect(canTransition('ready', 'exited')).toBe(true);
  });

  it('never goes back', () => {
    expect(transition('draining', 'ready')).toBeNull();
    expect(transition('exited', 'starting')).toBeNull();
    expect(transition('ready', 'starting')).toBeNull();
    expect(transition('exited', 'exited')).toBeNull();
  });
});
