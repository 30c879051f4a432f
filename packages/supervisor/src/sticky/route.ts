/**
 * Which worker slot a client belongs to: rendezvous (highest random weight) hashing over the slots that serve
 * now. A client keeps its slot while that slot serves, whoever its worker is (a replacement inherits it);
 * when a slot stops serving, or one is added, only the clients of that slot move.
 */
export function pickSlot(key: string, slots: readonly number[]): number | undefined {
  let best: number | undefined;
  let bestScore = -1;
  for (const slot of slots) {
    const score = fnv1a(`${key}#${slot}`);
    if (score > bestScore) {
      bestScore = score;
      best = slot;
    }
  }
  return best;
}

/** The client part of a remote address: IPv4 clients of a dual-stack socket arrive as ::ffff:a.b.c.d. */
export function clientKey(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * FNV-1a, 32 bits, then murmur3's finalizer: the keys of one client differ only in their last characters
 * (the slot), which FNV alone spreads badly into the high bits that decide the comparison. Nothing here needs
 * to resist an adversary.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
