/**
 * Clients that hold a connection open, each written the way a real one behaves: a WebSocket client that
 * reconnects after a close, an EventSource-like client that reconnects with Last-Event-ID after its stream
 * ended, and an HTTP/2 load that opens a new session after GOAWAY. Each records what a user would see.
 */
import http from 'node:http';
import http2 from 'node:http2';

import WebSocket from 'ws';

/** Resolves once `check()` holds, looked at again each time the client calls the waiters it was given. */
function when(check: () => boolean, waiters: (() => void)[]): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    const again = () => (check() ? resolve() : waiters.push(again));
    waiters.push(again);
  });
}

export interface WsVisit {
  pid: number;
  /** The close this connection ended with (code, reason), or null while open. */
  close: { code: number; reason: string } | null;
  at: number;
}

/**
 * One WebSocket user: connects, learns the worker's pid (the first message), and, while `reconnect` holds,
 * reconnects after every close. With `streamEveryMs` it sends a 1 KB message that often and checks echoes.
 */
export class WsUser {
  readonly visits: WsVisit[] = [];
  readonly errors: string[] = [];
  echoes = 0;
  reconnect = true;
  private ws: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly port: number,
    private readonly opts: { streamEveryMs?: number; deflate?: boolean } = {},
  ) {}

  /** Resolves once connected with a known pid. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/`, { perMessageDeflate: this.opts.deflate ?? false });
      this.ws = ws;
      let visit: WsVisit | null = null;
      ws.on('error', (err) => {
        this.errors.push(err.message);
        if (!visit) reject(err);
      });
      ws.on('message', (data) => {
        if (!visit) {
          visit = { pid: Number(String(data)), close: null, at: Date.now() };
          this.visits.push(visit);
          if (this.opts.streamEveryMs) this.stream(ws);
          for (const w of this.waiters.splice(0)) w();
          resolve();
        } else {
          this.echoes++;
        }
      });
      ws.on('close', (code, reason) => {
        if (this.timer) clearInterval(this.timer);
        if (!visit) return reject(new Error(`closed (${code}) before the first message`));
        visit.close = { code, reason: reason.toString() };
        if (this.reconnect) this.connect().catch((err: Error) => this.errors.push(`reconnect: ${err.message}`));
      });
    });
  }

  /** Resolves when the user holds an open connection to a worker not in `pids`. */
  movedFrom(pids: Set<number>): Promise<void> {
    return when(() => {
      const last = this.visits[this.visits.length - 1];
      return last !== undefined && last.close === null && !pids.has(last.pid);
    }, this.waiters);
  }

  /** Resolves with the close of the current connection. */
  closed(): Promise<{ code: number; reason: string }> {
    const ws = this.ws;
    if (!ws) return Promise.reject(new Error('never connected'));
    return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  end(): void {
    this.reconnect = false;
    if (this.timer) clearInterval(this.timer);
    this.ws?.terminate();
  }

  private stream(ws: WebSocket): void {
    const payload = 'x'.repeat(1024);
    this.timer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(payload);
    }, this.opts.streamEveryMs);
  }
}

export interface SseVisit {
  /** The first event: "hello <pid> <last-event-id the server got>". */
  hello: string;
  lastId: string | null;
  /** How the stream ended: 'end' (complete body), 'error' (cut), or null while open. */
  ended: 'end' | 'error' | null;
  error?: string;
}

/** An EventSource-like user: reads the stream, keeps the last id, reconnects with Last-Event-ID after an end. */
export class SseUser {
  readonly visits: SseVisit[] = [];
  reconnect = true;
  private req: http.ClientRequest | null = null;
  private waiters: (() => void)[] = [];

  constructor(private readonly port: number) {}

  connect(): Promise<void> {
    const lastId = this.visits[this.visits.length - 1]?.lastId ?? null;
    return new Promise((resolve, reject) => {
      const visit: SseVisit = { hello: '', lastId, ended: null };
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/events', headers, agent: false }, (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) !== -1) {
            const event = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            for (const line of event.split('\n')) {
              if (line.startsWith('id: ')) visit.lastId = line.slice(4);
              if (line.startsWith('data: hello ')) {
                visit.hello = line.slice(6);
                this.visits.push(visit);
                for (const w of this.waiters.splice(0)) w();
                resolve();
              }
            }
          }
        });
        res.on('end', () => this.ended(visit, 'end'));
        res.on('error', (err) => this.ended(visit, 'error', err.message));
        res.on('aborted', () => this.ended(visit, 'error', 'aborted'));
      });
      this.req = req;
      req.on('error', (err) => {
        if (!visit.hello) reject(err);
        else this.ended(visit, 'error', err.message);
      });
    });
  }

  /** Pid of the current stream's worker. */
  get pid(): number {
    return Number(this.visits[this.visits.length - 1]?.hello.split(' ')[1]);
  }

  /** Resolves when the user reads an open stream from a worker not in `pids`. */
  movedFrom(pids: Set<number>): Promise<void> {
    return when(() => {
      const last = this.visits[this.visits.length - 1];
      return last !== undefined && last.ended === null && !pids.has(this.pid);
    }, this.waiters);
  }

  end(): void {
    this.reconnect = false;
    this.req?.destroy();
  }

  private ended(visit: SseVisit, how: 'end' | 'error', error?: string): void {
    if (visit.ended) return;
    visit.ended = how;
    if (error) visit.error = error;
    if (this.reconnect && how === 'end') this.connect().catch(() => {});
  }
}

export interface H2LoadResult {
  ok: number;
  failed: number;
  /** Streams the server refused unprocessed (GOAWAY's last stream id): retried on a new session, as RFC 9113 allows. */
  retried: number;
  sessions: number;
  errors: string[];
  pids: Set<number>;
}

/** A stream refused before the server processed it: safe to send again (RFC 9113, 8.1.4). */
function unprocessed(err: NodeJS.ErrnoException & { code?: string }): boolean {
  return (
    err.code === 'ERR_HTTP2_GOAWAY_SESSION' ||
    err.code === 'ERR_HTTP2_INVALID_SESSION' ||
    /NGHTTP2_REFUSED_STREAM/.test(err.message)
  );
}

/**
 * `connections` HTTP/2 sessions, each running `concurrency` request loops; a session that got GOAWAY takes no
 * new stream, and the next request opens a new session. Bounded by maxMs and stop().
 */
export function h2Load(port: number, opts: { connections?: number; concurrency?: number; maxMs?: number } = {}) {
  const result: H2LoadResult = { ok: 0, failed: 0, retried: 0, sessions: 0, errors: [], pids: new Set() };
  let stopped = false;
  const hardStop = setTimeout(() => (stopped = true), opts.maxMs ?? 30_000);
  const all = new Set<http2.ClientHttp2Session>();
  /** Sessions that got GOAWAY (or were refused): no new stream starts on them. */
  const gone = new WeakSet<http2.ClientHttp2Session>();

  const open = (): http2.ClientHttp2Session => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    result.sessions++;
    all.add(session);
    session.on('error', () => {});
    session.on('goaway', () => gone.add(session));
    session.on('close', () => all.delete(session));
    return session;
  };

  const once = (session: http2.ClientHttp2Session): Promise<void> =>
    new Promise((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request({ ':path': '/' });
      } catch (err) {
        return reject(err);
      }
      let body = '';
      let status = 0;
      req.setEncoding('utf8');
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: string) => (body += c));
      req.on('error', reject);
      req.on('close', () => {
        if (status === 200 && req.rstCode === http2.constants.NGHTTP2_NO_ERROR) {
          result.pids.add(Number(body.trim()));
          resolve();
        } else if (req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
          reject(Object.assign(new Error('NGHTTP2_REFUSED_STREAM'), { code: 'ERR_HTTP2_STREAM_ERROR' }));
        } else {
          reject(new Error(`stream closed with status ${status}, rst ${req.rstCode}`));
        }
      });
    });

  const connections = Array.from({ length: opts.connections ?? 10 }, async () => {
    let session = open();
    const loops = Array.from({ length: opts.concurrency ?? 2 }, async () => {
      while (!stopped) {
        if (session.closed || session.destroyed || gone.has(session)) session = open();
        try {
          await once(session);
          result.ok++;
        } catch (err) {
          if (unprocessed(err as NodeJS.ErrnoException)) {
            result.retried++;
            gone.add(session);
          } else {
            result.failed++;
            if (result.errors.length < 20) result.errors.push(String((err as Error).message));
          }
        }
      }
    });
    await Promise.all(loops);
  });

  return {
    result,
    async stop(): Promise<H2LoadResult> {
      stopped = true;
      await Promise.all(connections);
      clearTimeout(hardStop);
      for (const s of all) s.close();
      return result;
    },
  };
}
