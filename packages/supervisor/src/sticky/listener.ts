import net from 'node:net';

import type { MasterMessage } from '@supervise/worker-sdk/protocol';

import { SuperviseError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import { listenUrl } from '../observe/text.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { forwardedClient, headEnd, isTls, MAX_HEAD_BYTES } from './forwarded.js';
import { clientKey, pickSlot } from './route.js';
import { requireCjs } from '../require-cjs.js';

const { ENV, sendMessage } = requireCjs(
  '@supervise/worker-sdk/protocol',
) as typeof import('@supervise/worker-sdk/protocol');

/** How long the master waits for the head of a first request (--trust-proxy) before it routes by address. */
const HEAD_TIMEOUT_MS = 10_000;
/** How long ready() waits for node:cluster's report of the app's listen, once every worker said it is ready. */
const LISTEN_REPORT_MS = 2_000;
/** A connection turned away this many times in a row (no worker's server takes it) is closed. */
const MAX_ATTEMPTS = 4;

export interface StickyHost {
  /** The workers that take new connections now (ready, connected), at most one per slot. */
  serving(): WorkerProcess[];
  log: Logger;
  /** How long a connection may wait for a serving worker (none serves: a crash restart of the last one). */
  waitMs: number;
}

interface Pending {
  socket: net.Socket;
  key: string;
  head: string;
  attempts: number;
  timer?: NodeJS.Timeout;
}

/**
 * --sticky: the master listens on the app's port itself and hands every connection to the worker of the slot
 * its client hashes to; the workers listen on a private port that nobody is told about (their PORT). Sessions
 * that span connections (socket.io's long polling, in-memory sessions) then stay on one process.
 *
 * A connection is sent with its socket kept open here until the worker answers: a worker that dies, drains
 * or has no server for it gives it back, and it goes to another worker. A draining worker is never a
 * candidate: it stops being one before its drain message leaves, and the channel is ordered.
 */
export class StickyListener {
  private readonly server: net.Server;
  private url: string | null = null;
  private listening: Promise<void> | null = null;
  private readonly waiting = new Set<Pending>();
  private readonly acks = new Map<WorkerProcess, Map<number, (accepted: boolean) => void>>();
  private nextId = 0;
  private closed = false;
  /** Connections handed over, those a worker gave back and that went elsewhere, and those closed unplaced. */
  handed = 0;
  rerouted = 0;
  dropped = 0;

  constructor(
    private readonly host: StickyHost,
    readonly publicPort: number,
    readonly privatePort: number,
    private readonly trustProxy: boolean,
  ) {
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    // A client that resets before it was handed over must not reach the master as an error.
    this.server.on('error', () => {});
  }

  /** Where clients reach the app: the public port, on the host the app itself listens on. */
  get address(): string | null {
    return this.url;
  }

  /** Listens once, on the host the app chose for its own server (its first 'listening' on the private port). */
  private listen(host: string | null): Promise<void> {
    this.listening ??= new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new SuperviseError(
                'ERR_PORT_IN_USE',
                `port ${this.publicPort} is already in use: another process listens on it`,
              )
            : new SuperviseError('ERR_USAGE', `--sticky could not listen on port ${this.publicPort}: ${err.message}`),
        );
      };
      this.server.once('error', onError);
      const any = host === null || host === '' || host === '::' || host === '0.0.0.0';
      this.server.listen({ port: this.publicPort, host: any ? undefined : host }, () => {
        this.server.off('error', onError);
        const a = this.server.address() as net.AddressInfo;
        this.url = listenUrl({
          address: any ? null : a.address,
          port: a.port,
          addressType: a.family === 'IPv6' ? 6 : 4,
        });
        resolve();
      });
    });
    return this.listening;
  }

  /** Connections waiting for a serving worker now. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Set when a worker listens on the public port itself: the app does not read PORT, --sticky cannot work. */
  private misuse: string | null = null;

  /** The workers' share of the environment: the app listens where the master hands connections. */
  workerEnv(): Record<string, string> {
    return { PORT: String(this.privatePort), [ENV.stickyPort]: String(this.privatePort) };
  }

  /**
   * Resolves once clients can connect (every worker is ready by then); rejects with the reason they cannot:
   * the public port is taken, or the app never listened on the port it was given.
   */
  async ready(): Promise<void> {
    // An app that says ready() in its listen callback can be ready a moment before node:cluster reports the
    // listen itself: give that report a moment.
    for (let waited = 0; !this.listening && !this.misuse && waited < LISTEN_REPORT_MS; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.misuse) throw new SuperviseError('ERR_USAGE', this.misuse);
    if (!this.listening) {
      throw new SuperviseError(
        'ERR_USAGE',
        `--sticky: the app did not listen on the port in process.env.PORT (${this.privatePort}): it must, so that the master can hand it connections`,
      );
    }
    await this.listening;
  }

  /** Wires a new worker: its answers, its listening, and its end (connections in transit go elsewhere). */
  watch(w: WorkerProcess): void {
    const pending = new Map<number, (accepted: boolean) => void>();
    this.acks.set(w, pending);
    const settleAll = () => {
      this.acks.delete(w);
      for (const settle of pending.values()) settle(false);
      pending.clear();
    };
    w.on('connection-ack', (id: number, accepted: boolean) => {
      const settle = pending.get(id);
      pending.delete(id);
      settle?.(accepted);
    });
    w.worker.on('disconnect', settleAll);
    w.on('exit', settleAll);
    w.worker.on('listening', (address: { address: string | null; port: number }) => {
      if (address.port === this.privatePort) void this.listen(address.address).catch(() => {});
      else if (address.port === this.publicPort) {
        this.misuse ??= `--sticky: the app listens on port ${this.publicPort} itself; it must listen on process.env.PORT, which the master sets to a private port`;
      }
    });
    w.on('state', (_from: string, to: string) => {
      if (to === 'ready') this.flush();
    });
  }

  /** Stops taking connections (the master stops); those waiting for a worker are closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const p of this.waiting) p.socket.destroy();
    this.waiting.clear();
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    const byAddress = clientKey(socket.remoteAddress);
    if (!this.trustProxy) {
      this.route({ socket, key: byAddress, head: '', attempts: 0 });
      return;
    }
    this.readHead(socket, (head) => {
      const text = head.length > 0 && !isTls(head) ? head.toString('latin1') : '';
      const key = (text && forwardedClient(text)) || byAddress;
      this.route({ socket, key, head: head.toString('base64'), attempts: 0 });
    });
  }

  /**
   * Reads up to the end of the first request's head, then stops reading at the handle: with the socket kept
   * open here, bytes this process read after the handover would never reach the worker. node offers no
   * public way to stop a socket's reads below the stream (pause() only stops emitting), hence readStop().
   */
  private readHead(socket: net.Socket, done: (head: Buffer) => void): void {
    let bytes = Buffer.alloc(0);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      (socket as net.Socket & { _handle?: { readStop?: () => number } })._handle?.readStop?.();
      if (!socket.destroyed) done(bytes);
    };
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (isTls(bytes) || headEnd(bytes) !== -1 || bytes.length >= MAX_HEAD_BYTES) finish();
    };
    const timer = setTimeout(finish, HEAD_TIMEOUT_MS);
    socket.on('data', onData);
    socket.once('close', () => {
      finished = true;
      clearTimeout(timer);
    });
    socket.resume();
  }

  private route(p: Pending): void {
    if (p.socket.destroyed) return;
    const serving = this.host.serving();
    const slot = pickSlot(
      p.key,
      serving.map((w) => w.slot),
    );
    const worker = serving.find((w) => w.slot === slot);
    if (!worker) {
      this.wait(p);
      return;
    }
    void this.handOver(worker, p).then((accepted) => {
      if (accepted) {
        this.handed++;
        // The worker holds its own descriptor now: closing ours sends nothing to the client.
        p.socket.destroy();
      } else if (++p.attempts >= MAX_ATTEMPTS) {
        this.host.log.warn(
          { event: 'sticky.dropped', attempts: p.attempts },
          `a connection was turned away by ${p.attempts} workers in a row: closed (does the app listen on process.env.PORT?)`,
        );
        this.dropped++;
        p.socket.destroy();
      } else {
        this.rerouted++;
        this.route(p);
      }
    });
  }

  private handOver(w: WorkerProcess, p: Pending): Promise<boolean> {
    const pending = this.acks.get(w);
    if (!pending || !w.worker.isConnected()) return Promise.resolve(false);
    const id = ++this.nextId;
    return new Promise<boolean>((resolve) => {
      pending.set(id, resolve);
      const sent = sendMessage<MasterMessage>(
        w.worker,
        { type: 'connection', id, head: p.head },
        {
          handle: p.socket,
          options: { keepOpen: true },
          done: (err) => {
            if (err && pending.delete(id)) resolve(false);
          },
        },
      );
      if (!sent && pending.delete(id)) resolve(false);
    });
  }

  /** No worker serves (the last one crashed, and its restart is under way): hold the connection a while. */
  private wait(p: Pending): void {
    if (this.closed) {
      p.socket.destroy();
      return;
    }
    this.waiting.add(p);
    p.timer = setTimeout(() => {
      if (!this.waiting.delete(p)) return;
      this.dropped++;
      p.socket.destroy();
    }, this.host.waitMs);
    p.timer.unref();
    p.socket.once('close', () => {
      clearTimeout(p.timer);
      this.waiting.delete(p);
    });
  }

  private flush(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const p of waiting) {
      clearTimeout(p.timer);
      this.route(p);
    }
  }
}

/** The master's own listener when the options ask for --sticky (its private port chosen now), else null. */
export async function createSticky(o: SupervisorOptions, host: StickyHost): Promise<StickyListener | null> {
  return o.sticky ? new StickyListener(host, o.sticky.port, await freePort(), o.sticky.trustProxy) : null;
}

/** A free port for the workers' private listeners, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
