import type net from 'node:net';

import type { ControlCommand, ControlRequests, ReplyOf } from '../api.js';
import { DEFAULT_LOG_LINES, scaleTarget } from '../args.js';
import { configReply } from './config-reply.js';
import { debugFile, inspectWorker } from './debug-worker.js';
import { followRollout, workersOf } from './reload-progress.js';
import { type LogsReply, rolloutReply, type StatusReply } from '../reply.js';
import { resolvedNow } from '../../config/logical-cwd.js';
import { SuperviseError } from '../../errors.js';
import type { Supervisor } from '../../master/supervisor.js';
import { logBuffer } from '../../observe/log-buffer.js';
import { reopenLogFiles } from '../../observe/log-route.js';
import { rssBytes } from '../../observe/memory.js';

/**
 * What each control command does in the master: one handler per command of the API (api.ts), or it does not
 * compile. The socket's side (one request line in, reply lines out) is server.ts.
 */

/** What a handler has besides its request: the master, and the connection for the commands that stream. */
export interface Session<C extends ControlCommand> {
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
    return streamLogs(socket, send, request.lines ?? DEFAULT_LOG_LINES, request.follow === true);
  },
  inspect: async (request, { supervisor }) => inspectWorker(supervisor, request),
  'heap-snapshot': async (request, { supervisor }) => debugFile(supervisor, request),
  report: async (request, { supervisor }) => debugFile(supervisor, request),
  upgrade: async (request, { supervisor }) => {
    if (supervisor.phase !== 'running')
      throw new SuperviseError('ERR_CONTROL', `cannot upgrade while ${supervisor.phase}`);
    const { upgrade } = await import('../../master/upgrade/upgrade.js');
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
export function runCommand<C extends ControlCommand>(
  cmd: C,
  request: ControlRequests[C],
  session: Session<C>,
): Promise<ReplyOf<C> | null> {
  const handler: Handler<C> = HANDLERS[cmd];
  return handler(request, session);
}

/** A follower that reads slower than the master logs is cut at this much unsent output (it can reconnect). */
const MAX_FOLLOW_BACKLOG = 1024 * 1024;

/**
 * `logs`: the tail, one `{ok, entry}` line each, then how many (the final line), or with follow every new entry
 * until the client leaves (null: the stream ends by itself).
 */
function streamLogs(
  socket: net.Socket,
  send: (body: LogsReply) => void,
  lines: number,
  follow: boolean,
): LogsReply | null {
  const tail = logBuffer.tail(lines);
  for (const entry of tail) send({ ok: true, entry });
  if (!follow) return { ok: true, lines: tail.length };
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
  return null;
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
