import type { AcceptStrategy } from './strategy.js';

/**
 * Workers accept from one listening socket that the primary holds (cluster.SCHED_NONE): no hop through the
 * primary per connection, so connection-heavy traffic is not bound to the primary's one core.
 *
 * A draining worker closes its own copy of the listening descriptor and stops accepting at once; connections
 * queued on the socket stay there for the other workers (nothing resets them). The socket itself lives as long
 * as one worker listens on it, as with round-robin: a replacement listens before the old worker closes.
 *
 * Balance: on Linux, epoll wakes the most recent waiter, and libuv accepts in a loop, so one worker can take a
 * burst of connections. UV_TCP_SINGLE_ACCEPT=1 makes libuv accept one connection per wakeup and yield, which
 * spreads them (measured by pnpm bench:accept: bench/RESULTS.md#accept).
 */
export const shared: AcceptStrategy = {
  name: 'shared',
  scheduler: 'none',
  masterHandlesConnections: false,
  workerEnv: () => ({ UV_TCP_SINGLE_ACCEPT: '1' }),
};
