/** `1 worker`, `2 workers`: a count and its noun, for the log's sentences. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `1 old worker is still draining`, `3 old workers are still draining`. */
export function stillDraining(n: number): string {
  return `${plural(n, 'old worker')} ${n === 1 ? 'is' : 'are'} still draining`;
}

/** Where a listening worker can be reached, as a user would type it: `http://127.0.0.1:3000`. */
export function listenUrl(address: { address: string | null; port: number; addressType: number | string }): string {
  if (address.addressType === -1 || address.addressType === 'udp4' || address.addressType === 'udp6') {
    return String(address.address);
  }
  const host = address.address;
  // Listening on every interface: localhost reaches it, and is what a browser wants.
  if (host === null || host === '' || host === '::' || host === '0.0.0.0') return `http://localhost:${address.port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
