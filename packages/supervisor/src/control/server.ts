import { chmodSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { answers, checkPathLength, ensurePrivateDir, sweep } from './paths.js';
import { DEFAULT_LOG_LINES, scaleTarget } from './args.js';

export { scaleTarget } from './args.js';
import {
  type ControlCommand,
  type ErrorReply,
  type LogsReply,
  type ReplyOf,
  rolloutReply,
  type StatusReply,
} from './reply.js';
import { type ControlRequest, type ControlRequests, parseControlRequest } from './request.js';
import { SuperviseError } from '../errors.js';
import { logBuffer } from '../observe/log-buffer.js';
import { reopenLogFiles } from '../observe/log-route.js';
import { rssBytes } from '../observe/memory.js';
import type { Supervisor } from '../master/supervisor.js';
import { resolvedNow } from '../config/logical-cwd.js';
import { configReply } from './config-reply.js';
import { followRollout, workersOf } from './reload-progress.js';
import { debugFile, inspectWorker } from './debug-worker.js';

/**
 * The control socket: newline-delimited JSON over a Unix socket, one request per connection. Access control is
 * the file system's: the socket is 0600 inside a 0700 directory owned by the master's user (Node exposes no
 * SO_PEERCRED, so the peer's uid cannot be checked in-process; root can always connect).
 */

const MAX_LINE = 64 * 1024;
/** Open control connections at once; past it, the oldest one that has not sent its request yet makes room. */
const MAX_CONNECTIONS = 128;
/** How long a connection may take to send its request line. */
const REQUEST_TIMEOUT_MS = 5_000;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
  /** Synchronous removal of the socket file, for process 'exit'. */
  unlink(): void;
}

/** Listens on `file` (mode 0600) and serves the commands against `supervisor`. */
export async function serveControl(
  supervisor: Supervisor,
  file: string,
  { privateDir = false } = {},
): Promise<ControlServer> {
  checkPathLength(file);
  if (privateDir) {
    ensurePrivateDir(path.dirname(file));
    sweep(path.dirname(file), readdirSync(path.dirname(file)));
  }
  let existing: ReturnType<typeof lstatSync> | null = null;
  try {
    existing = lstatSync(file);
  } catch {
    // free
  }
  if (existing) {
    if (!existing.isSocket()) throw new SuperviseError('ERR_USAGE', `--control: ${file} exists and is not a socket`);
    if (await answers(file))
      throw new SuperviseError('ERR_USAGE', `--control: ${file} is in use by another running master`);
    unlinkSync(file);
  }

  const waiting = new Set<net.Socket>();
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => handleConnection(supervisor, socket, waiting, open));
  // Out of file descriptors, or any other accept failure: the master keeps serving; the client sees a refusal.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new SuperviseError('ERR_USAGE', `--control: cannot listen on ${file}: ${err.code ?? err.message}`)),
    );
    // The bind happens synchronously inside listen(): the umask makes the socket 0600 from its first instant.
    const previous = process.umask(0o177);
    try {
      server.listen(file, () => resolve());
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(file, 0o600);
  // The workers keep the master alive; a library user's process must not be held open by the socket.
  server.unref();
  let removed = false;
  const unlink = () => {
    if (removed) return;
    removed = true;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
  return {
    path: file,
    unlink,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        unlink();
      }),
  };
}

function reply(socket: net.Socket, body: ReplyOf<ControlCommand> | ErrorReply): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(body)}\n`);
}

/** Ends a connection once its answer is written; a client that never closes its side is cut soon after. */
function finish(socket: net.Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 2_000).unref();
}

function errorReply(err: unknown): ErrorReply {
  if (err instanceof SuperviseError) return { ok: false, code: err.code, error: err.message };
  return { ok: false, code: 'ERR_INTERNAL', error: err instanceof Error ? err.message : String(err) };
}

/**
 * One connection: one request line, its answer, close. Whatever arrives (garbage, a line that never ends, a
 * flood of idle connections) ends in an error line and a closed socket, never in an exception in the master.
 */
function handleConnection(
  supervisor: Supervisor,
  socket: net.Socket,
  waiting: Set<net.Socket>,
  open: Set<net.Socket>,
): void {
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  const refuse = (s: net.Socket, error: string) => {
    waiting.delete(s);
    reply(s, { ok: false, code: 'ERR_USAGE', error } satisfies ErrorReply);
    finish(s);
  };
  if (open.size >= MAX_CONNECTIONS) {
    // Waiting connections are the cheap kind to hold open on purpose: the oldest one goes.
    const oldest = waiting.values().next().value as net.Socket | undefined;
    if (!oldest) return refuse(socket, `too many control connections (${MAX_CONNECTIONS}) with a command in progress`);
    refuse(oldest, 'closed: too many control connections waiting for a request');
  }
  open.add(socket);
  waiting.add(socket);
  socket.once('close', () => {
    open.delete(socket);
    waiting.delete(socket);
  });
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
    if (waiting.has(socket)) refuse(socket, `no request line within ${REQUEST_TIMEOUT_MS} ms`);
  });

  let buffer = '';
  const onData = (chunk: string) => {
    buffer += chunk;
    const nl = buffer.indexOf('\n');
    if (nl < 0) {
      if (buffer.length > MAX_LINE) {
        socket.off('data', onData);
        refuse(socket, `request line longer than ${MAX_LINE} bytes`);
      }
      return;
    }
    socket.off('data', onData);
    waiting.delete(socket);
    socket.setTimeout(0);
    let request: ControlRequest;
    try {
      request = parseControlRequest(buffer.slice(0, nl));
    } catch (err) {
      reply(socket, errorReply(err));
      finish(socket);
      return;
    }
    supervisor.log.info({ event: 'control.command', cmd: request.cmd }, `control: ${request.cmd}`);
    void run(supervisor, socket, request.cmd, request).then(
      (body) => {
        if (body) {
          reply(socket, body);
          finish(socket);
        }
      },
      (err: unknown) => {
        reply(socket, errorReply(err));
        finish(socket);
      },
    );
  };
  socket.on('data', onData);
}

/** What a handler has besides its request: the master, and the connection for the commands that stream. */
interface Session<C extends ControlCommand> {
  supervisor: Supervisor;
  socket: net.Socket;
  /** One more reply line, before the final one (or instead of it, for the commands that answer by themselves). */
  send(body: ReplyOf<C>): void;
}

/** A command's handler: resolves with its final reply, or null when it answers and ends by itself (logs, stop). */
type Handler<C extends ControlCommand> = (
  request: ControlRequests[C],
  session: Session<C>,
) => Promise<ReplyOf<C> | null>;

/** One handler per command of the API: a command without one does not compile. */
const HANDLERS: { [C in ControlCommand]: Handler<C> } = {
  status: async (_request, { supervisor }) => status(supervisor),
  reload: async (request, { supervisor, send }) => {
    if (supervisor.phase !== 'running')
      throw new SuperviseError('ERR_CONTROL', `cannot reload while ${supervisor.phase}`);
    const unfollow =
      request.progress === true ? followRollout(supervisor, (progress) => send({ ok: true, progress })) : null;
    let summary: Awaited<ReturnType<Supervisor['reload']>>;
    // The rollout is over once every slot has a new ready worker; the old ones may still be draining.
    let drainedMs: number | undefined;
    try {
      summary = await supervisor.reload('control', { canary: request.canary });
      if (request.waitDrained === true && summary.draining > 0) {
        const t0 = Date.now();
        await supervisor.drained();
        drainedMs = summary.durationMs + (Date.now() - t0);
      }
    } finally {
      unfollow?.();
    }
    const workers = summary.outcome === 'done' ? workersOf(supervisor, summary.generation) : [];
    return { ok: true, rollout: { ...rolloutReply(summary, drainedMs), workers } };
  },
  scale: async (request, { supervisor }) => {
    const before = supervisor.options.workers;
    const target = scaleTarget(request.target, before);
    await supervisor.scale(target);
    return { ok: true, from: before, to: target };
  },
  config: async (_request, { supervisor }) => configReply(supervisor),
  signal: async (request, { supervisor }) => ({
    ok: true,
    signal: request.name,
    workers: supervisor.forwardSignal(request.name),
  }),
  logs: async (request, { supervisor, socket, send }) => {
    if (request.reopen === true) return reopenLogs(supervisor);
    streamLogs(socket, send, request.lines ?? DEFAULT_LOG_LINES, request.follow === true);
    return null;
  },
  inspect: async (request, { supervisor }) => inspectWorker(supervisor, request),
  'heap-snapshot': async (request, { supervisor }) => debugFile(supervisor, request),
  report: async (request, { supervisor }) => debugFile(supervisor, request),
  upgrade: async (request, { supervisor }) => {
    if (supervisor.phase !== 'running')
      throw new SuperviseError('ERR_CONTROL', `cannot upgrade while ${supervisor.phase}`);
    const { upgrade } = await import('../master/upgrade/upgrade.js');
    return { ok: true, upgrade: await upgrade(request.node) };
  },
  stop: async (_request, { supervisor, send }) => {
    // The master exits right after 'stopped': the last line is best effort, the closed socket is the answer.
    supervisor.prependOnceListener('stopped', (exitCode) => send({ ok: true, stopped: true, exitCode }));
    send({ ok: true, stopping: true, pid: process.pid });
    void supervisor.stop();
    return null;
  },
};

/** Runs one command with its handler. */
function run<C extends ControlCommand>(
  supervisor: Supervisor,
  socket: net.Socket,
  cmd: C,
  request: ControlRequests[C],
): Promise<ReplyOf<C> | null> {
  const handler: Handler<C> = HANDLERS[cmd];
  return handler(request, { supervisor, socket, send: (body) => reply(socket, body) });
}

/** A follower that reads slower than the master logs is cut at this much unsent output (it can reconnect). */
const MAX_FOLLOW_BACKLOG = 1024 * 1024;

/** `logs`: the tail, one `{ok, entry}` line each, then (with follow) every new entry until the client leaves. */
function streamLogs(socket: net.Socket, send: (body: LogsReply) => void, lines: number, follow: boolean): void {
  const tail = logBuffer.tail(lines);
  for (const entry of tail) send({ ok: true, entry });
  if (!follow) {
    send({ ok: true, lines: tail.length });
    finish(socket);
    return;
  }
  const stop = logBuffer.follow((entry) => {
    if (socket.writableLength > MAX_FOLLOW_BACKLOG) {
      stop();
      socket.destroy();
      return;
    }
    send({ ok: true, entry });
  });
  // The answer so far may be empty: say that the stream is open, so the client knows the master took it.
  send({ ok: true, following: true });
  socket.once('close', stop);
  // The client closing its side means it is done.
  socket.once('end', () => socket.end());
}

function reopenLogs(supervisor: Supervisor): LogsReply {
  const reopened = reopenLogFiles();
  supervisor.log.info(
    { event: 'log.reopened', paths: reopened },
    `log file reopened: ${reopened.join(', ') || 'none'}`,
  );
  return { ok: true, reopened };
}

async function status(supervisor: Supervisor): Promise<StatusReply> {
  const workers = supervisor.status();
  const rss = await Promise.all(workers.map((w) => rssBytes(w.pid)));
  return {
    ok: true,
    master: {
      pid: process.pid,
      phase: supervisor.phase,
      script: supervisor.options.script,
      cwd: supervisor.options.cwd,
      release: resolvedNow(supervisor.options.cwd),
      generation: supervisor.generation,
      workers: supervisor.options.workers,
      ready: supervisor.readyCount,
      rollout: supervisor.rolloutRunning,
      accept: supervisor.acceptMode,
      uptimeMs: Math.round(process.uptime() * 1000),
      rssBytes: process.memoryUsage.rss(),
      node: process.version,
    },
    workers: workers.map((w, i) => ({ ...w, rssBytes: rss[i] ?? null })),
    ...(supervisor.canaries.current ? { canary: supervisor.canaries.current.status() } : {}),
  };
}
