import path from 'node:path';

import type { Command } from 'commander';

import { findConfigFile, loadConfigFile } from '../config/config-file.js';
import { sendRequest } from '../control/client.js';
import { findMaster, foundElsewhere } from '../control/lookup.js';
import { liveSockets } from '../control/paths.js';
import { DEFAULT_LOG_LINES } from '../control/args.js';
import type { ReloadProgress } from '../control/handlers/reload-progress.js';
import {
  CONTROL_API,
  type CliPrints,
  type ControlCommand,
  type OwnActionCommand,
  type ReplyOf,
  type RequestOf,
} from '../control/api.js';
import type { Field, Fields } from '../control/fields.js';
import { requireCjs } from '../require-cjs.js';
import type { StatusReply } from '../control/reply.js';
import { type ErrorCode, EXIT, SuperviseError } from '../errors.js';
import { parseDuration } from '../config/option-parse.js';
import { formatEntry, type LogEntry } from '../observe/log-buffer.js';
import { writeOut } from '../observe/stdio.js';
import { formatDuration, formatTable } from './views/status-table.js';
import { plural, stillDraining } from '../observe/text.js';

const { Option } = requireCjs('commander') as typeof import('commander');

/**
 * What the control commands do (the control API's, cli/api-commands.ts, and `list`, `top` and the request of
 * `config`), loaded only when one of them runs: --version, --help and a master
 * need none of it. The master is found by --control, else by the config file's `control`, else as the one master
 * started from this directory (control/lookup.ts).
 */

export interface GlobalOpts {
  control?: string;
  /** --app: the master of this app, where several were started from one directory. */
  app?: string;
  config?: string;
  json?: boolean;
}

/** The commands that change something: found above this directory, they say which master they act on. */
const CHANGES = new Set(['stop', 'reload', 'scale']);

export async function controlPathFor(opts: GlobalOpts, cmd?: string): Promise<string> {
  if (opts.control) return opts.control;
  const file = findConfigFile(opts.config);
  if (file) {
    const raw = await loadConfigFile(file);
    if (typeof raw.control === 'string') return raw.control;
  }
  const changes = cmd !== undefined && CHANGES.has(cmd);
  const found = await findMaster(opts.app, { named: changes });
  const note = changes ? foundElsewhere(cmd, found) : null;
  if (note) writeOut(2, `supervise: ${note}\n`);
  return found.file;
}

/** Sends one request; a refusal from the master becomes a one-line error (exit 2 for bad input, 5 otherwise). */
export async function request<C extends ControlCommand>(
  opts: GlobalOpts,
  req: RequestOf<C>,
  onReply: (body: ReplyOf<C>) => void = () => {},
): Promise<[ReplyOf<C>, ...ReplyOf<C>[]]> {
  const file = await controlPathFor(opts, req.cmd);
  const replies: ReplyOf<C>[] = [];
  await sendRequest<C>(file, req, (body) => {
    if (body.ok === false) {
      const code: ErrorCode = body.code === 'ERR_USAGE' || body.code === 'ERR_NO_WORKER' ? body.code : 'ERR_CONTROL';
      // The master's message may already name the command (`scale: ...`): say it once.
      const error = String(body.error);
      throw new SuperviseError(code, error.startsWith(`${req.cmd}:`) ? error : `${req.cmd}: ${error}`);
    }
    replies.push(body);
    onReply(body);
  });
  const [first, ...rest] = replies;
  if (first === undefined)
    throw new SuperviseError('ERR_CONTROL', `${req.cmd}: the master closed the connection without an answer`);
  return [first, ...rest];
}

/**
 * With --json, a failure is JSON on stdout too (`{"ok":false,"code":...,"error":...}`, and the exit code): a
 * script that parses the output gets an answer it can read either way.
 */
export function withJsonErrors(fn: (cmd: Command) => Promise<void>): (cmd: Command) => Promise<void> {
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

export function optsOf<T extends object = object>(cmd: Command): GlobalOpts & T {
  return cmd.optsWithGlobals<GlobalOpts & T>();
}

/** What the user typed for a field, as the request carries it; one usage line when it cannot. */
function fromUser<T>(cmd: ControlCommand, field: Field<T, boolean>, value: unknown, flag: string | null): T {
  const wire = typeof value === 'string' && field.fromText ? field.fromText(value) : value;
  const parsed = field.parse(wire);
  if (parsed !== null) return parsed;
  const got = typeof value === 'string' ? `, got "${value}"` : '';
  throw new SuperviseError(
    'ERR_USAGE',
    flag === null ? `${cmd}: expected ${field.usage}${got}` : `${cmd}: ${flag} expects ${field.usage}${got}`,
  );
}

/**
 * The action of a command whose entry has `print` (control/api.ts): the request its arguments and flags make,
 * each checked with its field's parser, and the answer as the entry prints it (or as JSON).
 */
async function sendAndPrintNow<C extends ControlCommand>(name: C, positional: string[], cmd: Command): Promise<void> {
  const entry = CONTROL_API[name];
  const cli = entry.cli as CliPrints<Fields, ReplyOf<C>>;
  const fields: Fields = entry.fields;
  const opts = optsOf<Record<string, unknown>>(cmd);
  const req: Record<string, unknown> = { cmd: name };
  (cli.args ?? []).forEach(([field, _shown], i) => {
    req[field] = fromUser(name, fields[field] as Field<unknown, boolean>, positional[i], null);
  });
  const flags: Record<string, string | undefined> = cli.flags ?? {};
  for (const [field, text] of Object.entries(flags)) {
    if (text === undefined) continue;
    // The flag's value as commander parsed it, under commander's name for it (--wait-drained: waitDrained).
    const option = new Option(text);
    const given = opts[option.attributeName()];
    const shown = option.short ?? option.long ?? field;
    if (given !== undefined) req[field] = fromUser(name, fields[field] as Field<unknown, boolean>, given, shown);
  }
  // Every field went through its parser: the object is the command's request.
  const [reply] = await request(opts, req as RequestOf<C>);
  const text = opts.json ? JSON.stringify(reply, null, cli.indentJson ? 2 : undefined) : cli.print(reply);
  writeOut(1, text.endsWith('\n') ? text : `${text}\n`);
}

/** One line per replaced worker while `reload` waits (stderr with --json, which keeps stdout one object). */
function printProgress(p: ReloadProgress, json: boolean): void {
  const line =
    p.event === 'ready'
      ? `slot ${p.slot}: worker ${p.pid} ready (generation ${p.generation}${p.node ? `, node ${p.node}` : ''}${p.release ? `, ${p.release}` : ''})`
      : `slot ${p.slot}: old worker ${p.pid} ${p.killed ? 'killed at the kill timeout' : 'drained and exited'}`;
  writeOut(json ? 2 : 1, `${line}\n`);
}

async function reloadNow(cmd: Command): Promise<void> {
  const opts = optsOf<{ waitDrained?: boolean; timeout?: string; canary?: boolean }>(cmd);
  const timeoutMs = opts.timeout === undefined ? null : parseDuration(opts.timeout, '--timeout', { allowZero: false });
  const timer =
    timeoutMs === null
      ? null
      : setTimeout(() => {
          writeOut(
            2,
            `supervise: reload: no result within ${opts.timeout} (the rollout goes on in the master; \`supervise status\` shows it)\n`,
          );
          process.exit(EXIT.timeout);
        }, timeoutMs);
  const replies = await request(
    opts,
    {
      cmd: 'reload',
      waitDrained: opts.waitDrained === true,
      progress: true,
      ...(opts.canary === undefined ? {} : { canary: opts.canary }),
    },
    (body) => {
      if ('progress' in body) printProgress(body.progress, opts.json === true);
    },
  ).finally(() => timer && clearTimeout(timer));
  const reply = replies.find((body) => 'rollout' in body);
  if (!reply || !('rollout' in reply))
    throw new SuperviseError('ERR_CONTROL', 'reload: the master closed the connection without a result');
  const r = reply.rollout;
  if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  if (r.canary && r.outcome === 'rolled-back' && r.canary.result === 'fail') {
    process.stderr.write(
      `supervise: rollout ${r.generation} rolled back: ${r.canary.line}; the old workers keep serving\n`,
    );
    process.exitCode = EXIT.canary;
    return;
  }
  if (r.canary && !opts.json && r.outcome === 'done')
    writeOut(r.canary.result === 'pass' ? 1 : 2, `${r.canary.line}\n`);
  if (r.outcome === 'done') {
    if (!opts.json) {
      const left =
        r.drainedMs !== undefined
          ? `; the old workers drained and exited in ${r.drainedMs} ms`
          : r.draining > 0
            ? `; ${stillDraining(r.draining)} (--wait-drained waits for them)`
            : '';
      const releases = [...new Set((r.workers ?? []).map((w) => w.release).filter((d) => d !== null))];
      process.stdout.write(
        `rollout ${r.generation} done: ${r.replaced} workers replaced in ${r.durationMs} ms${left}\n` +
          (releases.length ? `serving from ${releases.join(', ')}\n` : ''),
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
      ? `rolled back after ${r.replaced} replaced: ${r.failure ? `${r.failure.pid === null ? `slot ${r.failure.slot}` : `worker ${r.failure.pid} (slot ${r.failure.slot})`}: ${r.failure.error}${r.failure.cause ? `: ${r.failure.cause}` : ''}` : 'a new worker failed'}; the old workers keep serving`
      : 'aborted: the master is stopping';
  process.stderr.write(`supervise: rollout ${r.generation} ${why}\n`);
  process.exitCode = 1;
}

/** `supervise upgrade`: exits 0 once the new master serves, 1 when it failed (the old one goes on serving). */
async function upgradeNow(cmd: Command): Promise<void> {
  const opts = optsOf<{ node?: string }>(cmd);
  const node = opts.node === undefined ? undefined : path.resolve(opts.node);
  const [reply] = await request(opts, { cmd: 'upgrade', ...(node === undefined ? {} : { node }) });
  const u = reply.upgrade;
  if (opts.json) process.stdout.write(`${JSON.stringify(u)}\n`);
  if (u.outcome === 'done') {
    if (!opts.json)
      process.stdout.write(
        `upgraded: master ${u.to} (node ${u.node}) serves now; master ${u.from} drains ${plural(u.draining, 'worker')} and exits\n`,
      );
    return;
  }
  process.stderr.write(`supervise: upgrade failed: ${u.error}; master ${u.from} keeps serving\n`);
  process.exitCode = 1;
}

async function stopNow(cmd: Command): Promise<void> {
  const opts = optsOf(cmd);
  let pid: number | undefined;
  let code: number | null = null;
  await request(opts, { cmd: 'stop' }, (body) => {
    if ('stopping' in body) pid = body.pid;
    else code = body.exitCode;
  });
  // exitCode null: the master was gone before it could say how it ended (its last line is best effort).
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, stopped: true, pid, exitCode: code })}\n`);
  else process.stdout.write(`master ${String(pid)} stopped${code === null ? '' : ` with exit code ${code}`}\n`);
  if (code !== null && code !== 0) process.exitCode = 1;
}

async function logs(cmd: Command): Promise<void> {
  const opts = optsOf<{ lines?: string; follow?: boolean; reopen?: boolean }>(cmd);
  if (opts.reopen) {
    const [reply] = await request(opts, { cmd: 'logs', reopen: true });
    const paths = 'reopened' in reply ? reply.reopened : [];
    process.stdout.write(paths.length ? `reopened ${paths.join(', ')}\n` : 'the master writes no --log-file\n');
    return;
  }
  const lines =
    opts.lines === undefined ? DEFAULT_LOG_LINES : fromUser('logs', CONTROL_API.logs.fields.lines, opts.lines, '-n');
  const print = (entry: LogEntry) => writeOut(1, `${opts.json ? JSON.stringify(entry) : formatEntry(entry)}\n`);
  await request(opts, { cmd: 'logs', lines, follow: opts.follow === true }, (body) => {
    if ('entry' in body) print(body.entry);
  });
}

export async function top(cmd: Command): Promise<void> {
  const opts = optsOf<{ interval?: string }>(cmd);
  const interval =
    opts.interval === undefined ? 1000 : parseDuration(opts.interval, '--interval', { allowZero: false });
  const { runTop } = await import('./views/top.js');
  await runTop(async () => (await request(opts, { cmd: 'status' }))[0], interval);
}

/** Asks one master for its status, bounded: a master that hangs must not hang `supervise list`. */
async function statusOf(file: string, timeoutMs = 2000): Promise<StatusReply | null> {
  let reply: StatusReply | null = null;
  const asked = sendRequest(file, { cmd: 'status' }, (body) => {
    if (body.ok === true) reply = body;
  }).catch(() => {});
  await Promise.race([asked, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  return reply;
}

async function listNow(cmd: Command): Promise<void> {
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

/** With --json, these print a failure as JSON on stdout too. */
export const sendAndPrint = <C extends ControlCommand>(name: C, positional: string[], cmd: Command) =>
  withJsonErrors((c) => sendAndPrintNow(name, positional, c))(cmd);
export const list = withJsonErrors(listNow);

/** The actions of the commands whose entry says their action is their own (control/api.ts). */
export const OWN_ACTIONS: { [C in OwnActionCommand]: (cmd: Command) => Promise<void> } = {
  reload: withJsonErrors(reloadNow),
  upgrade: withJsonErrors(upgradeNow),
  stop: withJsonErrors(stopNow),
  logs,
};
