import os from 'node:os';

import { describe, expect, it } from 'vitest';

import { MAX_LOG_LINES, parseLineCount, parseScaleSpec, scaleTarget } from '../../src/control/args.js';
import { parseControlRequest } from '../../src/control/request.js';

describe('the scale argument: one parser for the CLI, the request and the handler', () => {
  it('reads n, +n, -n and max, as text or a whole number', () => {
    expect(parseScaleSpec('4')).toEqual({ kind: 'set', n: 4 });
    expect(parseScaleSpec(' +2 ')).toEqual({ kind: 'add', n: 2 });
    expect(parseScaleSpec('-1')).toEqual({ kind: 'remove', n: 1 });
    expect(parseScaleSpec('max')).toEqual({ kind: 'max' });
    expect(parseScaleSpec(3)).toEqual({ kind: 'set', n: 3 });
    expect(parseScaleSpec(-2)).toEqual({ kind: 'remove', n: 2 });
  });

  it('refuses anything else', () => {
    for (const v of ['', 'x', '1e3', '2.5', '+', '++2', 'max2', '99999999999999999999', 2.5, null, [1], {}, true]) {
      expect(parseScaleSpec(v), JSON.stringify(v)).toBeNull();
    }
  });

  it('the three places agree: what the request parser takes, the handler resolves; what it refuses, the CLI refuses', () => {
    for (const spec of ['4', '+2', '-1', 'max', ' 3 ', 'x', '1e3', '-']) {
      const accepted = parseScaleSpec(spec) !== null;
      let parsed = true;
      try {
        parseControlRequest(JSON.stringify({ cmd: 'scale', target: spec }));
      } catch {
        parsed = false;
      }
      expect(parsed, spec).toBe(accepted);
      if (accepted && spec.trim() !== '-1') expect(() => scaleTarget(spec, 2), spec).not.toThrow();
    }
  });

  it('resolves against the current count, within 1 and the most workers a master runs', () => {
    expect(scaleTarget('max', 1)).toBe(os.availableParallelism());
    expect(() => scaleTarget('0', 2)).toThrow('scale: 0 would leave 0 workers; at least 1 must run');
    expect(() => scaleTarget('+2000', 2)).toThrow('scale: at most 1024 workers, got 2002');
  });
});

describe('the logs -n count', () => {
  it('a count from 0 to the most lines, as digits or a number', () => {
    expect(parseLineCount('50')).toBe(50);
    expect(parseLineCount(0)).toBe(0);
    expect(parseLineCount(MAX_LOG_LINES)).toBe(MAX_LOG_LINES);
    for (const v of [MAX_LOG_LINES + 1, -1, 1.5, '1e3', ' 5', '', '1000000', null]) {
      expect(parseLineCount(v), JSON.stringify(v)).toBeNull();
    }
  });
});
