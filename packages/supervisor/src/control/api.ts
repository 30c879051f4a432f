import { EXIT } from '../errors.js';
import { plural } from '../observe/text.js';
import { formatStatus } from '../cli/views/status-table.js';
import {
  absoluteDir,
  type Field,
  type Fields,
  flag,
  lineCount,
  nodePath,
  optional,
  port,
  required,
  scaleSpec,
  signalName,
  workerRef,
} from './fields.js';
import type {
  ConfigReply,
  DebugFileReply,
  InspectReply,
  LogsReply,
  ReloadReply,
  StatusReply,
  StopReply,
  UpgradeReply,
} from './reply.js';

/**
 * The control API: every command of the control socket, one entry each, with what it asks (its fields, parsed
 * by request.ts on the master's side), what it answers (the type of its reply lines), and how the CLI offers
 * it (cli/api-commands.ts builds `supervise <command>` from it, docs/control-api.md is generated from it). A
 * command also needs its handler (handlers.ts: one per entry, or it does not compile) and its test.
 */

/** A command's reply lines: their type for the compiler (never set at run time), their description for the docs. */
interface Replies<R> {
  doc: string;
  readonly type?: R;
}
const answers = <R>(doc: string): Replies<R> => ({ doc });

/** Flags of the CLI alone, which no request field carries (`reload --timeout`). */
type CliOnly = readonly (readonly [flags: string, help: string])[];

interface CliBase<F extends Fields> {
  /** The fields the user gives as arguments, in order, with their name in the help (`<pid|slot>`). */
  args?: readonly (readonly [field: keyof F & string, name: string])[];
  /** The fields the user gives as flags, with commander's flags (`--port <port>`); the help is the field's doc. */
  flags?: { readonly [K in keyof F]?: string };
  options?: CliOnly;
}

/** The CLI sends the request its arguments make, and prints the answer (or, with --json, the answer as JSON). */
export interface CliPrints<F extends Fields, R> extends CliBase<F> {
  print(reply: R): string;
  /** --json prints the answer indented, over several lines (status), rather than as one line. */
  indentJson?: boolean;
}

/** The CLI's action is the command's own (it streams, waits, or decides the exit code): cli/control-actions.ts. */
interface CliOwnAction<F extends Fields> extends CliBase<F> {
  action: 'own';
}

interface CommandSpec<F extends Fields, R, Cli> {
  /** One line: the CLI's help and the docs'. */
  summary: string;
  fields: F;
  reply: Replies<R>;
  cli: Cli;
}

/** A command whose CLI sends what its arguments say and prints the answer. */
const command = <F extends Fields, R>(spec: CommandSpec<F, R, CliPrints<F, R>>) => spec;
/** A command whose CLI action is its own. */
const withOwnAction = <F extends Fields, R>(spec: CommandSpec<F, R, CliOwnAction<F>>) => spec;
/** A command the CLI registers by hand (cli/commands.ts), for it takes a run's arguments too. */
const registeredByHand = <F extends Fields, R>(spec: CommandSpec<F, R, null>) => spec;

const TARGET_DOC = "the worker's pid, or its slot (0, 1, ...: the serving worker of that slot)";
const DIR_DOC = "where to write it (default: the system's temporary directory)";

export const CONTROL_API = {
  status: command({
    summary: 'show the workers of a running master',
    fields: {},
    reply: answers<StatusReply>(
      '`{ ok, master, workers }`, and `canary` during a bake: what `supervise status --json` prints',
    ),
    cli: { print: formatStatus, indentJson: true },
  }),
  reload: withOwnAction({
    summary: 'rolling restart; returns once every slot has a new ready worker, exits 1 if it rolled back',
    fields: {
      waitDrained: optional(flag, 'also wait until every old worker has finished its drain and exited'),
      progress: optional(flag, 'a `{ ok, progress }` line per replaced worker before the summary'),
      canary: optional(
        flag,
        `bake a canary first (or not: false), whatever the master's --canary says; exit ${EXIT.canary} when it does worse`,
      ),
    },
    reply: answers<ReloadReply>(
      '`{ ok, rollout }`: generation, outcome (`done`, `rolled-back`, `aborted`, `invalid-config`), replaced, ' +
        'durationMs, draining, trigger, `canary` when one baked, and `failure` (slot, pid, error, cause, lines) or ' +
        '`configError` when it failed, `drainedMs` with `waitDrained`, `workers` when done; with `progress`, ' +
        '`{ ok, progress }` lines first',
    ),
    cli: {
      flags: { waitDrained: '--wait-drained', canary: '--canary' },
      options: [
        ['--no-canary', 'no canary for this rollout'],
        ['--timeout <duration>', `give up waiting after this long, exit ${EXIT.timeout} (the rollout goes on)`],
      ],
      action: 'own',
    },
  }),
  stop: withOwnAction({
    summary: 'graceful stop; waits until the master has exited',
    fields: {},
    reply: answers<StopReply>(
      '`{ ok, stopping: true, pid }`, then, as the master exits, `{ ok, stopped: true, exitCode }`',
    ),
    cli: { action: 'own' },
  }),
  scale: command({
    summary: 'set the number of workers: n, +n, -n or max',
    fields: { target: required(scaleSpec, 'a count, +n / -n relative to the current one, or max (one per core)') },
    reply: answers<{ ok: true; from: number; to: number }>('`{ ok, from, to }`'),
    cli: { args: [['target', '<n>']], print: (r) => `scaled from ${r.from} to ${r.to} workers` },
  }),
  logs: withOwnAction({
    summary: "print the last lines the master has seen (its log and the workers' output); -f follows",
    fields: {
      lines: optional(lineCount, 'how many lines (default 50)'),
      follow: optional(flag, 'keep sending new lines until the client closes (Ctrl+C) or the master stops'),
      reopen: optional(flag, 'reopen the --log-file at its path instead (after logrotate moved it), as SIGUSR1 does'),
    },
    reply: answers<LogsReply>(
      'one `{ ok, entry }` per line, then `{ ok, lines }`, or with `follow` `{ ok, following: true }` and then ' +
        'every new entry; with `reopen`, only `{ ok, reopened: [paths] }`',
    ),
    cli: { flags: { lines: '-n, --lines <n>', follow: '-f, --follow', reopen: '--reopen' }, action: 'own' },
  }),
  config: registeredByHand({
    summary:
      'the options in effect and where each came from (command line, config file, default, supervise scale); ' +
      'with a script or options, what a run with them would use, without starting it',
    fields: {},
    reply: answers<ConfigReply>(
      "`{ ok, master, file, app, ignored, options }`: each option's `key`, `flag`, `value` and `origin` " +
        '(`flag`, `file`, `flag+file`, `default`, `scale`)',
    ),
    cli: null,
  }),
  inspect: command({
    summary: 'open the inspector of one worker on 127.0.0.1 and print its URL; --close closes it',
    fields: {
      target: required(workerRef, TARGET_DOC),
      port: optional(port, 'the port to listen on (default 0: a free one)'),
      close: optional(flag, 'close the inspector instead'),
    },
    reply: answers<InspectReply>('`{ ok, pid, slot, url }` (`url` null once closed)'),
    cli: {
      args: [['target', '<pid|slot>']],
      flags: { port: '--port <port>', close: '--close' },
      print: (r) =>
        r.url === null
          ? `worker ${r.pid} (slot ${r.slot}): inspector closed`
          : `worker ${r.pid} (slot ${r.slot}): inspector on ${r.url}\n` +
            `connect with: node inspect ${r.url}  (or chrome://inspect, port ${new URL(r.url).port}); close with: supervise inspect ${r.pid} --close`,
    },
  }),
  'heap-snapshot': command({
    summary: 'write a heap snapshot of one worker (for Chrome DevTools) and print its path',
    fields: { target: required(workerRef, TARGET_DOC), dir: optional(absoluteDir, DIR_DOC) },
    reply: answers<DebugFileReply>('`{ ok, pid, slot, path }`'),
    cli: { args: [['target', '<pid|slot>']], flags: { dir: '--dir <path>' }, print: (r) => r.path },
  }),
  report: command({
    summary: "write Node's diagnostic report of one worker (JSON) and print its path",
    fields: { target: required(workerRef, TARGET_DOC), dir: optional(absoluteDir, DIR_DOC) },
    reply: answers<DebugFileReply>('`{ ok, pid, slot, path }`'),
    cli: { args: [['target', '<pid|slot>']], flags: { dir: '--dir <path>' }, print: (r) => r.path },
  }),
  upgrade: withOwnAction({
    summary: 'replace the master itself (a new supervise or node) without closing the port; exits 1 if it failed',
    fields: { node: optional(nodePath, 'the node binary the new master runs on (default: node on PATH)') },
    reply: answers<UpgradeReply>(
      '`{ ok, upgrade }`: outcome `done` with from, to (the pids), node, draining; or `failed` with from and error',
    ),
    cli: { flags: { node: '--node <path>' }, action: 'own' },
  }),
  signal: command({
    summary: "relay a signal to every worker, for the SDK's onSignal() (as pm2 sendSignal); no process is killed",
    fields: { name: required(signalName, 'the signal, such as USR2 or SIGUSR2') },
    reply: answers<{ ok: true; signal: NodeJS.Signals; workers: number }>(
      "`{ ok, signal, workers }`: the signal relayed, and to how many workers (those that run the SDK's engine)",
    ),
    cli: {
      args: [['name', '<name>']],
      print: (r) => `relayed ${r.signal} to ${plural(r.workers, 'worker')} (the SDK's onSignal())`,
    },
  }),
};

type Api = typeof CONTROL_API;

export type ControlCommand = keyof Api;

export const CONTROL_COMMANDS = Object.keys(CONTROL_API) as ControlCommand[];

/** The lines one command answers. */
export type ReplyOf<C extends ControlCommand> = NonNullable<Api[C]['reply']['type']>;

/** Every command, by name, with the lines it answers. */
export type ControlReplies = { [C in ControlCommand]: ReplyOf<C> };

type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type RequiredKeys<F> = { [K in keyof F]: F[K] extends Field<unknown, true> ? K : never }[keyof F];
type OptionalKeys<F> = Exclude<keyof F, RequiredKeys<F>>;
type Flat<T> = { [K in keyof T]: T[K] };
type FieldValues<F> = { [K in RequiredKeys<F>]: ValueOf<F[K]> } & { [K in OptionalKeys<F>]?: ValueOf<F[K]> };

/** The request of one command: `{ cmd: 'scale', target: '+2' }`. */
export type RequestOf<C extends ControlCommand> = Flat<{ cmd: C } & FieldValues<Api[C]['fields']>>;

/** Every command's request, by name. */
export type ControlRequests = { [C in ControlCommand]: RequestOf<C> };

export type ControlRequest = ControlRequests[ControlCommand];

/** The control API as types: each command's request, and the reply lines it answers. */
export type ControlApi = { [C in ControlCommand]: { request: RequestOf<C>; reply: ReplyOf<C> } };

/** The commands whose CLI action is their own (cli/control-actions.ts has one for each, or it does not compile). */
export type OwnActionCommand = {
  [C in ControlCommand]: Api[C]['cli'] extends { action: 'own' } ? C : never;
}[ControlCommand];
