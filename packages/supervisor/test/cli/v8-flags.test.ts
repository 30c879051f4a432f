import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { masterV8Flags } from '../../src/cli/v8-flags.js';
import { BIN_V8_FLAGS } from '../../src/code-cache.js';

describe("the master's V8 flags", () => {
  it('an idle master compacts on every full collection; one whose code runs per connection optimizes', () => {
    expect(masterV8Flags({ accept: 'shared', sticky: null })).toEqual(['--compact-on-every-full-gc']);
    expect(masterV8Flags({ accept: 'round-robin', sticky: null })).toEqual(['--opt', '--no-optimize-for-size']);
    expect(masterV8Flags({ accept: 'shared', sticky: { port: 3000, trustProxy: false } })).toEqual([
      '--opt',
      '--no-optimize-for-size',
    ]);
  });

  it("each, and each of the bin's, is a flag this node knows (V8 ignores a misspelt one without a word)", () => {
    const known = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8', timeout: 20_000 }).stdout;
    const all = new Set([
      ...BIN_V8_FLAGS,
      ...masterV8Flags({ accept: 'shared', sticky: null }),
      ...masterV8Flags({ accept: 'round-robin', sticky: null }),
    ]);
    for (const flag of all) {
      const name = flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
      expect(known, flag).toMatch(new RegExp(`^\\s+--${name}[ =(]`, 'm'));
    }
  });
});
