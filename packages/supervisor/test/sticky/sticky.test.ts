import { describe, expect, it } from 'vitest';

import { forwardedClient, headEnd, isTls } from '../../src/sticky/forwarded.js';
import { clientKey, pickSlot } from '../../src/sticky/route.js';

describe('pickSlot (rendezvous hashing)', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);

  it('is stable, and spreads clients over every slot', () => {
    const counts = [0, 0, 0, 0];
    for (const key of keys) {
      const slot = pickSlot(key, [0, 1, 2, 3])!;
      expect(pickSlot(key, [0, 1, 2, 3])).toBe(slot);
      counts[slot]!++;
    }
    // 500 each on average; a fair hash stays well within +-20 %.
    for (const n of counts) expect(n).toBeGreaterThan(400);
    for (const n of counts) expect(n).toBeLessThan(600);
  });

  it('moves only the clients of a slot that stops serving, and only to the others', () => {
    for (const key of keys) {
      const before = pickSlot(key, [0, 1, 2, 3]);
      const after = pickSlot(key, [0, 1, 3]);
      if (before !== 2) expect(after).toBe(before);
      else expect([0, 1, 3]).toContain(after);
    }
  });

  it('moves about a fifth of the clients when a fifth slot is added', () => {
    const moved = keys.filter((k) => pickSlot(k, [0, 1, 2, 3]) !== pickSlot(k, [0, 1, 2, 3, 4]));
    for (const k of moved) expect(pickSlot(k, [0, 1, 2, 3, 4])).toBe(4);
    expect(moved.length / keys.length).toBeGreaterThan(0.15);
    expect(moved.length / keys.length).toBeLessThan(0.25);
  });

  it('has no slot to give when none serves', () => {
    expect(pickSlot('1.2.3.4', [])).toBeUndefined();
  });

  it('treats an IPv4 client on a dual-stack socket as that IPv4 address', () => {
    expect(clientKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(clientKey('::1')).toBe('::1');
    expect(clientKey(undefined)).toBe('');
  });
});

describe('forwardedClient', () => {
  const head = (...lines: string[]) => ['GET / HTTP/1.1', 'Host: a', ...lines, '', ''].join('\r\n');

  it('takes the first X-Forwarded-For hop', () => {
    expect(forwardedClient(head('X-Forwarded-For: 203.0.113.7, 10.0.0.1'))).toBe('203.0.113.7');
    expect(forwardedClient(head('x-forwarded-for:203.0.113.8'))).toBe('203.0.113.8');
    expect(forwardedClient(head('X-Forwarded-For: 203.0.113.9:5555'))).toBe('203.0.113.9');
    expect(forwardedClient(head('X-Forwarded-For: 2001:db8::1'))).toBe('2001:db8::1');
  });

  it('reads Forwarded (RFC 7239) when there is no X-Forwarded-For', () => {
    expect(forwardedClient(head('Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43, for=198.51.100.17'))).toBe(
      '192.0.2.60',
    );
    expect(forwardedClient(head('Forwarded: For="[2001:db8:cafe::17]:4711"'))).toBe('2001:db8:cafe::17');
    expect(forwardedClient(head('Forwarded: proto=https'))).toBeNull();
    expect(forwardedClient(head('Forwarded: for=192.0.2.1', 'X-Forwarded-For: 192.0.2.2'))).toBe('192.0.2.2');
  });

  it('has nothing to say of a request without either header', () => {
    expect(forwardedClient(head('Accept: */*'))).toBeNull();
  });

  it('finds the end of a head, and knows a TLS handshake', () => {
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'))).toBe(-1);
    expect(headEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nbody'))).toBe(27);
    expect(isTls(Buffer.from([0x16, 0x03, 0x01]))).toBe(true);
    expect(isTls(Buffer.from('GET'))).toBe(false);
  });
});
