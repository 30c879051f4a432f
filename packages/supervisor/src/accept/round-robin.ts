import type { AcceptStrategy } from './strategy.js';

/**
 * The primary accepts every connection and hands it to the next worker over IPC (cluster.SCHED_RR, node's
 * default on Linux): an even spread by construction, at the cost of one hop through the primary per
 * connection, which bounds connection-heavy traffic (one request per connection, TLS handshakes) to what the
 * primary's one core can pass on. A draining worker leaves the rotation at once; a connection already on its
 * way to it is handed back and given to another worker.
 */
export const roundRobin: AcceptStrategy = {
  name: 'round-robin',
  scheduler: 'rr',
  masterHandlesConnections: true,
  workerEnv: () => ({}),
};
