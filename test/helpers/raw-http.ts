/**
 * HTTP/1.1 over a raw socket, for the protocol's edges (pipelining, half-closed sockets): what is written is
 * exactly what the test says, and what comes back is read as bytes until the server closes.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  connection: string | undefined;
  body: string;
}

export class RawConnection {
  readonly socket: net.Socket;
  private data = '';
  private consumed = 0;
  private waiters: (() => void)[] = [];
  ended = false;
  closed = false;
  error: string | null = null;

  /** `secure`: TLS with ALPN http/1.1 (a self-signed test certificate is accepted). */
  constructor(port: number, opts: { secure?: boolean } = {}) {
    // Half-open allowed: a client that has not yet seen the server's FIN still writes (the race under test).
    this.socket = opts.secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.data += chunk;
      this.wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => (this.error = err.code ?? err.message));
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once(this.socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  /** Writes these requests in one write (pipelined, one TCP segment on loopback). */
  send(...paths: string[]): void {
    this.socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  }

  /** The next complete response (Content-Length bodies only, as node:http sends for res.end(text)). */
  async next(timeoutMs = 10_000): Promise<RawResponse | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.parse();
      if (parsed) return parsed;
      if (this.ended || this.closed) return null;
      if (Date.now() > end) throw new Error(`no response within ${timeoutMs} ms; got: ${JSON.stringify(this.data)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every response until the server closes the connection. */
  async rest(timeoutMs = 10_000): Promise<RawResponse[]> {
    const out: RawResponse[] = [];
    for (;;) {
      const r = await this.next(timeoutMs);
      if (!r) return out;
      out.push(r);
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): RawResponse | null {
    const text = this.data.slice(this.consumed);
    const headEnd = text.indexOf('\r\n\r\n');
    if (headEnd === -1) return null;
    const head = text.slice(0, headEnd).split('\r\n');
    const headers = new Map(
      head.slice(1).map((line) => {
        const i = line.indexOf(':');
        return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()] as const;
      }),
    );
    const length = Number(headers.get('content-length') ?? 0);
    if (text.length < headEnd + 4 + length) return null;
    this.consumed += headEnd + 4 + length;
    return {
      status: Number(head[0]!.split(' ')[1]),
      connection: headers.get('connection'),
      body: text.slice(headEnd + 4, headEnd + 4 + length),
    };
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * Asks on `probe` until an answer says `Connection: close` (or the connection ends): the worker behind it has
 * begun its drain. Paced and bounded (15 s, 3000 probes): the new worker boots first. True once it drains.
 */
export async function untilDraining(probe: RawConnection): Promise<boolean> {
  const giveUp = Date.now() + 15_000;
  for (let i = 0; i < 3000 && Date.now() < giveUp; i++) {
    probe.send(`/probe-${i}`);
    const r = await probe.next();
    if (r === null || r.connection === 'close') return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}
