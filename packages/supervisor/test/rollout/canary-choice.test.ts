import { describe, expect, it } from 'vitest';

import type { SupervisorOptions } from '../../src/config/options.js';
import { Canaries } from '../../src/rollout/canary.js';

const options = (canary: boolean) => ({ canary, canaryWorkers: 2 }) as SupervisorOptions;

describe('which rollouts bake a canary', () => {
  it('follows --canary, except for reloads on file changes', () => {
    const c = new Canaries();
    expect(c.choose(options(true), 'SIGHUP')).toBe(2);
    expect(c.choose(options(true), 'control, SIGHUP')).toBe(2);
    expect(c.choose(options(true), 'watch: src/a.js')).toBe(0);
    expect(c.choose(options(false), 'control')).toBe(0);
  });

  it('takes the override of one reload, for that rollout only', () => {
    const c = new Canaries();
    c.overrideNext(false);
    expect(c.choose(options(true), 'control')).toBe(0);
    expect(c.choose(options(true), 'control')).toBe(2);
    c.overrideNext(true);
    expect(c.choose(options(false), 'watch: a.js')).toBe(2);
    expect(c.choose(options(false), 'control')).toBe(0);
  });
});
