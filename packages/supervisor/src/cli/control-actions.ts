import path from 'node:path';

import type { Command } from 'commander';

import { findConfigFile, loadConfigFile } from '../config/config-file.js';
import { sendRequest } from '../control/client.js';
import { discoverControlPath, liveSockets } from '../control/paths.js';
import type { StatusReply } from '../control/reply.js';
import type { ControlRequest } from '../control/request.js';
import { type ErrorCode, EXIT, SuperviseError } from '../errors.js';
import { parseDuration } from '../config/options.js';
import { formatEntry, type LogEntry } from '../observe/log-buffer.js';
import { writeOut } from '../observe/stdio.js';
import { formatDuration, formatStatus, formatTable } from './status-table.js';
import { stillDraining } from '../observe/text.js';

/**
 * The client side of the control socket: what `supervise status|reload|stop|scale|logs|top|list` do (commands.ts
 * declares them). The master is found by --control, else by the config file's `control`, else as the one master
 * started from this directory.
 */

interface GlobalOpts {
  control?: string;
  config?: string;
  json?: boolean;
}

async function controlPathFor(opts: GlobalOpts): Promise<string> {
  if (opts.control) return opts.control;
  const file = findConfigFile(opts.config);
  if (file) {
    const raw = await loadConfigFile(file);
    if (typeof raw.control === 'string') return raw.control;
  }
  return discoverControlPath();
}

/** Sends one request; a refusal from the master becomes a one-line error (exit 2 for bad input, 5 otherwise). */
async function request(
  opts: GlobalOpts,
  req: ControlRequest,
  onReply: (body: Record<string, unknown>) => void = () => {},
): Promise<Record<string, unknown>[]> {
  const file = await controlPathFor(opts);
  const replies: Record<string, unknown>[] = [];
  await sendRequest(file, req, (body) => {
    if (body.ok === false) {
      const code: ErrorCode = body.code === 'ERR_USAGE' ? 'ERR_USAGE' : 'ERR_CONTROL';
      // The master's message may already name the command (`scale: ...`): say it once.
      const error = String(body.error);
      throw new SuperviseError(code, error.startsWith(`${req.cmd}:`) ? error : `${req.cmd}: ${error}`);
    }
    replies.push(body);
    onReply(body);
  });
  if (replies.length === 0)
    throw new SuperviseError('ERR_CONTROL', `${req.cmd}: the master closed the connection without an answer`);
  return replies;
}

/**
 * With --json, a failure is JSON on stdout too (`{"ok":false,"code":...,"error":...}`, and the exit code): a
 * script that parses the output gets an answer it can read either way.
 */
function withJsonErrors(fn: (cmd: Command) => Promise<void>): (cmd: Command) => Promise<void> {
  return async (cmd) => {
    try {
      await fn(cmd);
    } catch (err) {
      if (!optsOf(cmd).json || !(err instanceof SuperviseError)) throw err;
      writeOut(1, `${JSON.stringify({ ok: false, code: err.code, error: err.message })}\n`);
      process.exitCode = err.exitCode;
    }
  };
}

function optsOf(cmd: Command): GlobalOpts {
  return cmd.optsWithGlobals<GlobalOpts>();
}

async function showStatus(cmd: Command): Promise<void> {
  const opts = optsOf(cmd);
  const [reply] = await request(opts, { cmd: 'status' });
  process.stdout.write(
    opts.json ? `${JSON.stringify(reply, null, 2)}\n` : formatStatus(reply as unknown as StatusReply),
  );
}

interface RolloutReply {
  generation: number;
  outcome: 'done' | 'rolled-back' | 'aborted' | 'invalid-config';
  configError?: string;
  replaced: number;
  durationMs: number;
  /** Old workers still draining when the last slot had a new ready worker. */
  draining: number;
  /** With --wait-drained: when the last of them had exited, from the start of the rollout. */
  drainedMs?: number;
  failure?: { slot: number; pid: number; error: string; cause: string | null; lines: string[] };
}

async function rollout(cmd: Command): Promise<void> {
  const opts = optsOf(cmd) as GlobalOpts & { waitDrained?: boolean };
  const [reply] = await request(opts, { cmd: 'reload', waitDrained: opts.waitDrained === true });
  const r = reply!.rollout as RolloutReply;
  if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  if (r.outcome === 'done') {
    if (!opts.json) {
      const left =
        r.drainedMs !== undefined
          ? `; the old workers drained and exited in ${r.drainedMs} ms`
          : r.draining > 0
            ? `; ${stillDraining(r.draining)} (--wait-drained waits for them)`
            : '';
      process.stdout.write(
        `rollout ${r.generation} done: ${r.replaced} workers replaced in ${r.durationMs} ms${left}\n`,
      );
    }
    return;
  }
  if (r.outcome === 'invalid-config') {
    process.stderr.write(
      `supervise: reload refused, nothing was restarted: ${r.configError ?? 'invalid configuration'}\n`,
    );
    process.exitCode = EXIT.usage;
    return;
  }
  const why =
    r.outcome === 'rolled-back'
      ? `rolled back after ${r.replaced} replaced: ${r.failure ? `worker ${r.failure.pid} (slot ${r.failure.slot}): ${r.failure.error}${r.failure.cause ? `: ${r.failure.cause}` : ''}` : 'a new worker failed'}; the old workers keep serving`
      : 'aborted: the master is stopping';
  process.stderr.write(`supervise: rollout ${r.generation} ${why}\n`);
  process.exitCode = 1;
}

export async function stop(cmd: Command): Promise<void> {
  let pid: unknown;
  let exitCode: unknown;
  await request(optsOf(cmd), { cmd: 'stop' }, (body) => {
    if (body.stopping) pid = body.pid;
    if (body.stopped) exitCode = body.exitCode;
  });
  const code = typeof exitCode === 'number' ? exitCode : null;
  process.stdout.write(`master ${String(pid)} stopped${code === null ? '' : ` with exit code ${code}`}\n`);
  if (code !== null && code !== 0) process.exitCode = 1;
}

export async function scale(spec: string, cmd: Command): Promise<void> {
  if (!/^\s*(?:[+-]?\d+|max)\s*$/.test(spec))
    throw new SuperviseError('ERR_USAGE', `scale: expected n, +n, -n or max, got "${spec}"`);
  const [reply] = await request(optsOf(cmd), { cmd: 'scale', target: spec.trim() });
  process.stdout.write(`scaled from ${String(reply!.from)} to ${String(reply!.to)} workers\n`);
}

export async function logs(cmd: Command): Promise<void> {
  const opts = optsOf(cmd) as GlobalOpts & { lines?: string; follow?: boolean };
  const spec = opts.lines ?? '50';
  if (!/^\d{1,6}$/.test(spec) || Number(spec) > 100_000)
    throw new SuperviseError('ERR_USAGE', `logs: -n expects a count from 0 to 100000, got "${spec}"`);
  const print = (entry: LogEntry) => writeOut(1, `${opts.json ? JSON.stringify(entry) : formatEntry(entry)}\n`);
  await request(opts, { cmd: 'logs', lines: Number(spec), follow: opts.follow === true }, (body) => {
    if (body.entry) print(body.entry as LogEntry);
  });
}

export async function top(cmd: Command): Promise<void> {
  const opts = optsOf(cmd) as GlobalOpts & { interval?: string };
  const interval =
    opts.interval === undefined ? 1000 : parseDuration(opts.interval, '--interval', { allowZero: false });
  const { runTop } = await import('./top.js');
  await runTop(async () => (await request(opts, { cmd: 'status' }))[0] as unknown as StatusReply, interval);
}

/** Asks one master for its status, bounded: a master that hangs must not hang `supervise list`. */
async function statusOf(file: string, timeoutMs = 2000): Promise<StatusReply | null> {
  let reply: StatusReply | null = null;
  const asked = sendRequest(file, { cmd: 'status' }, (body) => {
    if (body.ok === true) reply = body as unknown as StatusReply;
  }).catch(() => {});
  await Promise.race([asked, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  return reply;
}

async function listMasters(cmd: Command): Promise<void> {
  const opts = optsOf(cmd);
  const masters = await Promise.all(liveSockets().map(async (s) => ({ ...s, status: await statusOf(s.file) })));
  if (opts.json) {
    const rows = masters.map((m) => ({
      pid: m.pid,
      control: m.file,
      ...(m.status ? { master: m.status.master } : { error: 'no answer' }),
    }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (masters.length === 0) {
    process.stdout.write('no supervise master is running for this user\n');
    return;
  }
  const rows = [
    ['PID', 'DIRECTORY', 'SCRIPT', 'WORKERS', 'UPTIME', 'STATE'],
    ...masters.map((m) => {
      const s = m.status?.master;
      return s
        ? [
            String(m.pid),
            s.cwd,
            path.relative(s.cwd, s.script) || s.script,
            `${s.ready}/${s.workers}`,
            formatDuration(s.uptimeMs),
            s.phase,
          ]
        : [String(m.pid), '?', '?', '?', '?', 'no answer'];
    }),
  ];
  process.stdout.write(`${formatTable(rows)}\n`);
}

export const status = withJsonErrors(showStatus);
export const reload = withJsonErrors(rollout);
export const list = withJsonErrors(listMasters);
