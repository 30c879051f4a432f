import { chmodSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { answers, checkPathLength, ensurePrivateDir, sweep } from './paths.js';
import type { ControlCommand, ControlRequest, ReplyOf } from './api.js';
import { runCommand } from './handlers/handlers.js';
import type { ErrorReply } from './reply.js';
import { parseControlRequest } from './request.js';
import { SuperviseError } from '../errors.js';
import type { Supervisor } from '../master/supervisor.js';

export { scaleTarget } from './args.js';

/**
 * The control socket: newline-delimited JSON over a Unix socket, one request per connection (what each command
 * does is in handlers.ts). Access control is
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
    const send = (body: ReplyOf<ControlCommand>) => reply(socket, body);
    void runCommand(request.cmd, request, { supervisor, socket, send }).then(
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
