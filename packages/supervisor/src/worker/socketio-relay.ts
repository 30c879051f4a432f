import cluster, { type Worker } from 'node:cluster';

/** socket.io-adapter's MessageType values that answer one requester rather than go to everyone. */
const FETCH_SOCKETS_RESPONSE = 8;
const SERVER_SIDE_EMIT_RESPONSE = 10;
const SOURCE = '_sio_adapter';

interface AdapterMessage {
  source: typeof SOURCE;
  type?: number;
  uid?: string;
  requesterUid?: string;
}

function isAdapterMessage(msg: unknown): msg is AdapterMessage {
  return typeof msg === 'object' && msg !== null && (msg as { source?: unknown }).source === SOURCE;
}

let installed = false;

/**
 * `@socket.io/cluster-adapter` carries broadcasts between workers through the primary, which its docs set up
 * with setupPrimary(); under supervise the master is the primary, so it relays them the same way: answers to
 * the worker that asked (known by the adapter uids it sent from), everything else to every other worker. An
 * app that does not use the adapter costs one property check per message it sends the master.
 */
export function relaySocketIoAdapter(): void {
  if (installed) return;
  installed = true;
  const uids = new WeakMap<Worker, Set<string>>();
  cluster.on('message', (from: Worker, msg: unknown) => {
    if (!isAdapterMessage(msg)) return;
    if (typeof msg.uid === 'string') {
      let own = uids.get(from);
      if (!own) uids.set(from, (own = new Set()));
      own.add(msg.uid);
    }
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true);
    if (msg.type === FETCH_SOCKETS_RESPONSE || msg.type === SERVER_SIDE_EMIT_RESPONSE) {
      const requester = workers.find((w) => msg.requesterUid !== undefined && uids.get(w)?.has(msg.requesterUid));
      requester?.send(msg, undefined, ignore);
      return;
    }
    for (const w of workers) if (w !== from) w.send(msg, undefined, ignore);
  });
}

function ignore(): void {}
