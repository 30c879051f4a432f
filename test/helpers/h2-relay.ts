/**
 * A TCP relay between an HTTP/2 client and a server that can hold back the server's frames from its first
 * GOAWAY on: the client then keeps sending as if no GOAWAY had been sent, which is the race every client on a
 * real network runs (its requests cross the server's GOAWAY on the wire), made deterministic.
 */
import net from 'node:net';

const GOAWAY = 0x7;
const PING = 0x6;
const HEADERS = 0x1;
const ACK = 0x1;
const CLIENT_PREFACE_LENGTH = 24;

/** Splits a byte stream into HTTP/2 frames (9-byte header, 24-bit length). */
class FrameReader {
  private buffered = Buffer.alloc(0);
  constructor(private skip: number) {}

  push(chunk: Buffer): Buffer[] {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    if (this.skip > 0) {
      const n = Math.min(this.skip, this.buffered.length);
      frames.push(this.buffered.subarray(0, n));
      this.buffered = this.buffered.subarray(n);
      this.skip -= n;
    }
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) break;
      frames.push(this.buffered.subarray(0, 9 + length));
      this.buffered = this.buffered.subarray(9 + length);
    }
    return frames;
  }
}

export class H2Relay {
  readonly server: net.Server;
  /** Resolves when the server sent its first GOAWAY (held back, with everything after it). */
  readonly goaway: Promise<void>;
  /** Client HEADERS frames forwarded to the server since the GOAWAY was held. */
  headersAfterGoaway = 0;
  private holding = false;
  private released = false;
  private held: Buffer[] = [];
  private upstreamEnded = false;
  private client: net.Socket | null = null;
  private onGoaway!: () => void;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly upstreamPort: number) {
    this.goaway = new Promise((resolve) => (this.onGoaway = resolve));
    this.server = net.createServer((client) => this.relay(client));
  }

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)),
    );
  }

  /** Resolves once `check()` holds, looked at after each frame. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** A PING ACK from the server is held: every frame the client sent before its PING has been read. */
  pingAcked = false;

  /** Lets the held frames through, and everything after them. */
  release(): void {
    this.released = true;
    this.holding = false;
    for (const frame of this.held.splice(0)) this.client?.write(frame);
    if (this.upstreamEnded) this.client?.end();
  }

  close(): void {
    this.client?.destroy();
    this.server.close();
  }

  private relay(client: net.Socket): void {
    this.client = client;
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    const fromClient = new FrameReader(CLIENT_PREFACE_LENGTH);
    const fromServer = new FrameReader(0);
    client.on('data', (chunk: Buffer) => {
      for (const frame of fromClient.push(chunk)) {
        if (this.holding && frame.length >= 9 && frame[3] === HEADERS) this.headersAfterGoaway++;
        upstream.write(frame);
      }
      this.wake();
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const frame of fromServer.push(chunk)) {
        if (frame[3] === GOAWAY && !this.holding && !this.released) {
          this.holding = true;
          this.onGoaway();
        }
        if (this.holding) {
          if (frame[3] === PING && (frame[4]! & ACK) === ACK) this.pingAcked = true;
          this.held.push(frame);
        } else {
          client.write(frame);
        }
      }
      this.wake();
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => {
      this.upstreamEnded = true;
      if (!this.holding) client.end();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}
