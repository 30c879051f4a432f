import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { sha256Hex } from '../../src/control/sha256.js';

describe('sha256Hex', () => {
  it("gives node:crypto's SHA-256 (so the control sockets keep their names)", () => {
    const inputs = [
      '',
      'abc',
      '/srv/app/current',
      '/home/José/projets/l’appli — ünïcode ✓ 😀',
      'x'.repeat(55),
      'x'.repeat(56),
      'x'.repeat(64),
      'y'.repeat(1000),
    ];
    for (const text of inputs) expect(sha256Hex(text), text).toBe(createHash('sha256').update(text).digest('hex'));
  });
});
