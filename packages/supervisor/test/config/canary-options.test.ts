import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { resolveOptions } from '../../src/config/options.js';

const script = fileURLToPath(import.meta.url);

describe('the canary options', () => {
  it('are off by default, with the documented defaults', () => {
    const o = resolveOptions({ script });
    expect(o).toMatchObject({
      canary: false,
      canaryWorkers: 1,
      canaryRequests: 1000,
      canaryTimeMs: 60_000,
      canaryWarmup: 2000,
      canaryMinRequests: 100,
      canaryMaxErrorRate: 0.01,
      canaryMaxErrorRatio: 2,
      canaryMaxP99Ratio: 2,
      canaryP99AllowanceMs: 5,
    });
  });

  it('take a rate as a fraction or a percentage, ratios and durations, from the API or a config file', () => {
    const o = resolveOptions({
      script,
      canary: true,
      canaryMaxErrorRate: '2.5%',
      canaryMaxP99Ratio: 1.5,
      canaryTimeMs: '30s',
      canaryP99AllowanceMs: '0',
    });
    expect(o).toMatchObject({
      canary: true,
      canaryMaxErrorRate: 0.025,
      canaryMaxP99Ratio: 1.5,
      canaryTimeMs: 30_000,
      canaryP99AllowanceMs: 0,
    });
    expect(resolveOptions({ script, canaryMaxErrorRate: 0.05 }).canaryMaxErrorRate).toBe(0.05);
  });

  it('refuse bad values in one line naming the option', () => {
    expect(() => resolveOptions({ script, canaryMaxErrorRate: '5' })).toThrow(
      /canary-max-error-rate must be a number from 0 to 1 \(or a percentage: 1%\), got "5"/,
    );
    expect(() => resolveOptions({ script, canaryMaxP99Ratio: '2%' })).toThrow(/must be a number from 1 to 1000/);
    expect(() => resolveOptions({ script, canaryMaxErrorRatio: 0.5 })).toThrow(/must be a number from 1 to 1000/);
    expect(() => resolveOptions({ script, canaryTimeMs: 0 })).toThrow(/canary-time/);
    expect(() => resolveOptions({ script, canary: true, heartbeatMs: 0 })).toThrow(/--canary needs the heartbeat/);
  });
});
