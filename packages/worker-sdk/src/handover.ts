import dc from 'node:diagnostics_channel';
import type net from 'node:net';

import {
  type Channel,
  ENV,
  isMasterMessage,
  type MasterMessage,
  receiveMessages,
  sendMessage,
  type WorkerMessage,
} from './protocol.js';

/** What the handover needs from the drain engine, when there is one (not with --no-auto-drain). */
export interface HandoverEngine {
  adopt(socket: net.Socket, server: net.Server): void;
}

type ConnectionMessage = Extract<MasterMessage, { type: 'connection' }>;

/** How long a connection that arrived before the app's server listened waits for it. */
const EARLY_WAIT_MS = 2_000;

/**
 * The worker's side of --sticky: the master accepts every connection on the public port and sends it here
 * with its socket; it is emitted on the app's server that listens on the private port (node's http docs name
 * emitting 'connection' as the way to inject a socket), after the bytes the master read to route it.
 *
 * The answer tells the master whether to let go of its own copy of the socket: a server that is closed (a
 * drain began, or the app closed it) or missing turns the connection away, and the master gives it to
 * another worker. Nothing of node's internals is touched: the socket is the one child_process hands over.
 */
export class Handover {
  private readonly servers = new Set<net.Server>();
  private engine: HandoverEngine | null = null;
  /** A server took a connection once: from then on, no server means the app closed it (a drain). */
  private served = false;
  /** Connections that came before the app's server listened (an app that says ready() before listen()). */
  private early: { msg: ConnectionMessage; socket: net.Socket; timer: NodeJS.Timeout }[] = [];

  /** channel: the IPC channel to the master (process; a test's fake). */
  constructor(
    private readonly port: number,
    private readonly channel: Channel = process,
  ) {
    dc.subscribe('tracing:net.server.listen:asyncStart', (msg: unknown) => {
      const { server } = msg as { server?: net.Server };
      if (!server || this.servers.has(server)) return;
      this.servers.add(server);
      // An observer only: node's own 'listening' handling does not depend on how many listen.
      server.once('listening', () => this.flushEarly());
    });
    receiveMessages(this.channel, isMasterMessage, (msg, handle) => {
      if (msg.type === 'connection') this.receive(msg, handle as net.Socket | undefined);
    });
  }

  useEngine(engine: HandoverEngine): void {
    this.engine = engine;
  }

  /** The app's server on the private port; the one server listening when the app names no port we know. */
  private target(): net.Server | null {
    let only: net.Server | null = null;
    let listening = 0;
    for (const server of this.servers) {
      if (!server.listening) continue;
      listening++;
      only = server;
      const address = server.address();
      if (typeof address === 'object' && address?.port === this.port) return server;
    }
    return listening === 1 ? only : null;
  }

  private receive(msg: ConnectionMessage, socket: net.Socket | undefined): void {
    if (!socket) return;
    const server = this.target();
    if (server) return this.hand(server, msg, socket);
    if (!this.served) {
      // Not listening yet: wait a moment for the app's server rather than send the client elsewhere at once.
      const timer = setTimeout(() => {
        this.early = this.early.filter((e) => e.socket !== socket);
        this.refuse(msg, socket);
      }, EARLY_WAIT_MS);
      this.early.push({ msg, socket, timer });
      return;
    }
    this.refuse(msg, socket);
  }

  private hand(server: net.Server, msg: ConnectionMessage, socket: net.Socket): void {
    this.served = true;
    server.emit('connection', socket);
    this.engine?.adopt(socket, server);
    // Ahead of anything the worker reads itself: the bytes came first on the wire.
    if (msg.head) socket.unshift(Buffer.from(msg.head, 'base64'));
    sendMessage<WorkerMessage>(this.channel, { type: 'connection-ack', id: msg.id, accepted: true });
  }

  /**
   * Only this process's descriptor closes: the master still holds the connection and passes it on. A socket
   * node made from the handle starts reading at once: what it read while it waited here goes back with the
   * answer, and the master sends it on after its own head. What arrives after this is still in the kernel,
   * for the next worker. (A worker that dies while holding a connection takes those bytes with it.)
   */
  private refuse(msg: ConnectionMessage, socket: net.Socket): void {
    const read = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
    socket.destroy();
    sendMessage<WorkerMessage>(this.channel, {
      type: 'connection-ack',
      id: msg.id,
      accepted: false,
      ...(read && read.length > 0 ? { rest: read.toString('base64') } : {}),
    });
  }

  private flushEarly(): void {
    const server = this.target();
    if (!server) return;
    for (const e of this.early.splice(0)) {
      clearTimeout(e.timer);
      this.hand(server, e.msg, e.socket);
    }
  }
}

const KEY = Symbol.for('supervise.handover.v1');

/** Starts receiving handed-over connections when the master runs with --sticky; idempotent across SDK copies. */
export function attachHandover(engine: HandoverEngine | null): void {
  const port = Number(process.env[ENV.stickyPort]);
  if (!port || typeof process.send !== 'function') return;
  const holder = globalThis as unknown as Record<symbol, Handover | undefined>;
  const handover = (holder[KEY] ??= new Handover(port));
  if (engine) handover.useEngine(engine);
}
