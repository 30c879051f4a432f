import { describe, expect, it } from 'vitest';

import { ruleMet } from '../../src/worker/readiness.js';
import { readyRule } from '../../src/worker/ready-rule.js';
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

describe('readyRule: the ports that make a worker ready', () => {
  const o = { readyOn: null, sticky: null };
  it('--ready-on, else the previous worker of the slot, else PORT (not with --sticky), else none', () => {
    const prev = ['http://127.0.0.1:9100', 'http://127.0.0.1:3000'];
    expect(readyRule({ ...o, readyOn: 8080 }, 0, prev, '3000')).toMatchObject({ ports: [8080], urls: [] });
    expect(readyRule(o, 0, prev, '3000')).toMatchObject({ ports: [], urls: prev });
    expect(readyRule(o, 0, [], '3000')).toMatchObject({ ports: [3000], urls: [], why: 'PORT' });
    expect(readyRule({ ...o, sticky: { port: 3000, trustProxy: false } }, 0, [], '4000')).toBeNull();
    expect(readyRule(o, 0, [], undefined)).toBeNull();
    expect(readyRule(o, 0, [], '0')).toBeNull();
  });

  it('is met when every port and address of the rule listens; without a rule, at the first listen', () => {
    const rule = { ports: [3000], urls: ['http://127.0.0.1:9100'], why: 'test' };
    const metrics = { port: 9100, url: 'http://127.0.0.1:9100' };
    const main = { port: 3000, url: 'http://127.0.0.1:3000' };
    expect(ruleMet(rule, [metrics])).toBe(false);
    expect(ruleMet(rule, [metrics, main])).toBe(true);
    expect(ruleMet(null, [])).toBe(false);
    expect(ruleMet(null, [metrics])).toBe(true);
  });
});
