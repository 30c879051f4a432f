/**
 * The client address a trusted proxy put in a request's head: the first hop of X-Forwarded-For, else the
 * first `for=` of Forwarded (RFC 7239). Only the head of the first request on a connection is read: the
 * whole connection goes where its first request goes.
 */

/** Bytes the master reads at most to find the end of the first request's head (node's default limit is 16 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** The index just past the head (the blank line), or -1 while it is incomplete. */
export function headEnd(bytes: Buffer): number {
  const i = bytes.indexOf('\r\n\r\n');
  return i === -1 ? -1 : i + 4;
}

/** A TLS handshake starts with the record type 22: no header can be read from it. */
export function isTls(bytes: Buffer): boolean {
  return bytes.length > 0 && bytes[0] === 0x16;
}

export function forwardedClient(head: string): string | null {
  let forwarded: string | null = null;
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-forwarded-for') {
      const first = value.split(',')[0]?.trim();
      if (first) return stripPort(first);
    } else if (name === 'forwarded' && forwarded === null) {
      forwarded = forwardedFor(value);
    }
  }
  return forwarded;
}

/** `for=192.0.2.60;proto=http, for=198.51.100.17` -> 192.0.2.60; `for="[2001:db8::1]:4711"` -> 2001:db8::1. */
function forwardedFor(value: string): string | null {
  const first = value.split(',')[0] ?? '';
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    const node = pair
      .slice(eq + 1)
      .trim()
      .replace(/^"|"$/g, '');
    return node ? stripPort(node) : null;
  }
  return null;
}

function stripPort(node: string): string {
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    return end === -1 ? node : node.slice(1, end);
  }
  // One colon: IPv4 with a port. More: a bare IPv6 address, which has no port here.
  const colons = node.split(':').length - 1;
  return colons === 1 ? node.slice(0, node.indexOf(':')) : node;
}
