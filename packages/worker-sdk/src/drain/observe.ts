import type net from 'node:net';

/**
 * Listens to `event` first, but only while the app has a listener of its own for it: for 'upgrade', node
 * treats an upgrade request as one only when someone listens; for 'error', an emitter with no listener throws.
 * Both decisions must stay the app's, so the observer never changes whether anyone listens.
 */
export function observeBesideTheApp<A extends unknown[]>(
  server: net.Server,
  event: string,
  observer: (...args: A) => void,
): void {
  const fn = observer as (...args: unknown[]) => void;
  const sync = (): void => {
    const listeners = server.listeners(event);
    const ours = listeners.includes(fn);
    const theirs = listeners.length - (ours ? 1 : 0);
    if (theirs > 0 && !ours) server.prependListener(event, fn);
    else if (theirs === 0 && ours) server.removeListener(event, fn);
  };
  // 'newListener' fires before the listener is added: look once it is there.
  server.on('newListener', (name) => {
    if (name === event) process.nextTick(sync);
  });
  server.on('removeListener', (name, listener) => {
    if (name === event && listener !== fn) sync();
  });
  sync();
}
