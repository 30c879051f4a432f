import path from 'node:path';

import type { Command } from 'commander';

import { SuperviseError } from '../errors.js';

/**
 * `supervise inspect|heap-snapshot|report <pid|slot>`: debugging one worker of a running master, over the control
 * socket, without a restart (control/debug-worker.ts on the master's side, the SDK's debug.ts in the worker).
 * The control client (control-actions.ts) loads when one of them runs, as for the other control commands.
 */
const client = () => import('./control-actions.js');

/** A pid or a slot: digits only; anything else is a usage error here, before the master is asked. */
function workerRef(cmd: string, text: string): number {
  if (!/^\d{1,10}$/.test(text.trim()))
    throw new SuperviseError('ERR_USAGE', `${cmd}: expected a worker's pid or slot, got "${text}"`);
  return Number(text.trim());
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535))
    throw new SuperviseError('ERR_USAGE', `inspect: --port expects 0 to 65535, got "${text}"`);
  return n;
}

async function inspect(target: string, cmd: Command): Promise<void> {
  const { optsOf, request } = await client();
  const opts = optsOf<{ port?: string; close?: boolean }>(cmd);
  const [reply] = await request(opts, {
    cmd: 'inspect',
    target: workerRef('inspect', target),
    ...(opts.close ? { close: true } : { port: portOf(opts.port) ?? 0 }),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(reply)}\n`);
  else if (reply.url === null) process.stdout.write(`worker ${reply.pid} (slot ${reply.slot}): inspector closed\n`);
  else
    process.stdout.write(
      `worker ${reply.pid} (slot ${reply.slot}): inspector on ${reply.url}\n` +
        `connect with: node inspect ${reply.url}  (or chrome://inspect, port ${new URL(reply.url).port}); close with: supervise inspect ${reply.pid} --close\n`,
    );
}

async function debugFile(kind: 'heap-snapshot' | 'report', target: string, cmd: Command): Promise<void> {
  const { optsOf, request } = await client();
  const opts = optsOf<{ dir?: string }>(cmd);
  const dir = opts.dir === undefined ? undefined : path.resolve(opts.dir);
  const [reply] = await request(opts, { cmd: kind, target: workerRef(kind, target), ...(dir ? { dir } : {}) });
  process.stdout.write(opts.json ? `${JSON.stringify(reply)}\n` : `${reply.path}\n`);
}

export function addDebugCommands(program: Command): void {
  const socketHelp = 'control socket of the master (default: the one started from this directory)';
  const target = ['<pid|slot>', "the worker's pid, or its slot (0, 1, ...: the serving worker of that slot)"] as const;
  program
    .command('inspect')
    .description('open the inspector of one worker on 127.0.0.1 and print its URL; --close closes it')
    .argument(...target)
    .option('--port <port>', 'the port to listen on (default 0: a free one)')
    .option('--close', 'close the inspector instead')
    .option('--control <path>', socketHelp)
    .option('--json', 'print the answer as JSON')
    .action(async (ref: string, _opts: unknown, cmd: Command) =>
      (await client()).withJsonErrors((c) => inspect(ref, c))(cmd),
    );
  for (const [kind, what] of [
    ['heap-snapshot', 'write a heap snapshot of one worker (for Chrome DevTools) and print its path'],
    ['report', "write Node's diagnostic report of one worker (JSON) and print its path"],
  ] as const) {
    program
      .command(kind)
      .description(what)
      .argument(...target)
      .option('--dir <path>', "where to write it (default: the system's temporary directory)")
      .option('--control <path>', socketHelp)
      .option('--json', 'print the answer as JSON')
      .action(async (ref: string, _opts: unknown, cmd: Command) =>
        (await client()).withJsonErrors((c) => debugFile(kind, ref, c))(cmd),
      );
  }
}
