import { SuperviseError } from '../errors.js';
import { parseLineCount, parseScaleSpec, parseSignalName, SCALE_SPEC_USAGE, SIGNAL_NAME_USAGE } from './args.js';
import type { ControlCommand, ReplyOf } from './reply.js';

/**
 * What a control client may ask, one JSON object per line. Each command declares its fields once, here, as
 * parsers; the request types follow from them. A line that does not fit is answered with an error line, never
 * thrown at the master.
 */

/** Why a field's value was refused ("must be true or false"). */
class Refused {
  constructor(readonly why: string) {}
}

interface Field<T, Required extends boolean> {
  required: Required;
  /** The value the request carries, or why it cannot. */
  parse(value: unknown): T | Refused;
}

const optional = <T>(parse: (value: unknown) => T | Refused): Field<T, false> => ({ required: false, parse });
const required = <T>(parse: (value: unknown) => T | Refused): Field<T, true> => ({ required: true, parse });

const boolean = (v: unknown): boolean | Refused => (typeof v === 'boolean' ? v : new Refused('must be true or false'));

/** What `supervise scale` sends: its text, or the API's whole number, as text. */
const scaleSpec = (v: unknown): string | Refused =>
  parseScaleSpec(v) ? String(v).trim() : new Refused(`must be ${SCALE_SPEC_USAGE}`);

/** An absolute path to a node binary (the master checks that it runs). */
const nodePath = (v: unknown): string | Refused =>
  typeof v === 'string' && v.startsWith('/') && v.length <= 4096 && !v.includes('\0')
    ? v
    : new Refused('must be an absolute path to a node binary');

/** On the wire a JSON number only (the CLI checks -n's digits with the same parser). */
const lineCount = (v: unknown): number | Refused =>
  (typeof v === 'number' ? parseLineCount(v) : null) ?? new Refused('must be a whole number from 0 to 100000');

/** A worker: its pid, or its slot (0, 1, ...); a JSON number or its digits. */
const workerRef = (v: unknown): number | Refused => {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : new Refused('must be a pid or a slot');
};

const port = (v: unknown): number | Refused =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535
    ? v
    : new Refused('must be a port from 0 to 65535');

/** An absolute directory: the master resolves nothing against its own working directory. */
const absoluteDir = (v: unknown): string | Refused =>
  typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? v : new Refused('must be an absolute path');

/** A signal's name, with or without SIG, any case ("usr2", "SIGUSR2"); the workers hear it as SIGUSR2. */
const signalName = (v: unknown): NodeJS.Signals | Refused =>
  parseSignalName(v) ?? new Refused(`must be ${SIGNAL_NAME_USAGE}`);

type Fields = Record<string, Field<unknown, boolean>>;

/** Every command and its fields: a command without an entry, or an entry without a command, does not compile. */
const REQUESTS = {
  status: {},
  /** progress: a `{ok, progress}` line per replaced worker before the final answer (reload-progress.ts). */
  /** canary: bake a canary for this rollout (true) or not (false), whatever --canary says. */
  reload: { waitDrained: optional(boolean), progress: optional(boolean), canary: optional(boolean) },
  stop: {},
  scale: { target: required(scaleSpec) },
  /**
   * The last `lines` lines the master has seen; with `follow`, every later one too, until the client closes.
   * With `reopen`, none: the --log-file is reopened at its path instead (as SIGUSR1 does).
   */
  logs: { lines: optional(lineCount), follow: optional(boolean), reopen: optional(boolean) },
  /** The options in effect and where each came from. */
  config: {},
  /** Opens the inspector of one worker on 127.0.0.1:port (0 or none: a free port); with close, closes it. */
  inspect: { target: required(workerRef), port: optional(port), close: optional(boolean) },
  /** A heap snapshot of one worker, written into dir (default: the master's choice, os.tmpdir()). */
  'heap-snapshot': { target: required(workerRef), dir: optional(absoluteDir) },
  /** Node's diagnostic report of one worker (JSON), written into dir. */
  report: { target: required(workerRef), dir: optional(absoluteDir) },
  /** A new master takes over the listening sockets (master/upgrade/); `node`: the binary it runs on. */
  upgrade: { node: optional(nodePath) },
  /** Relayed to every worker over IPC, as the SDK's onSignal() event (no process signal is sent). */
  signal: { name: required(signalName) },
} satisfies Record<ControlCommand, Fields>;

type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type RequiredKeys<F> = { [K in keyof F]: F[K] extends Field<unknown, true> ? K : never }[keyof F];
type OptionalKeys<F> = Exclude<keyof F, RequiredKeys<F>>;
type Flat<T> = { [K in keyof T]: T[K] };
type FieldValues<F> = { [K in RequiredKeys<F>]: ValueOf<F[K]> } & { [K in OptionalKeys<F>]?: ValueOf<F[K]> };

/** The request of one command: `{ cmd: 'scale', target: '+2' }`. */
export type RequestOf<C extends ControlCommand> = Flat<{ cmd: C } & FieldValues<(typeof REQUESTS)[C]>>;

/** Every command's request, by name. */
export type ControlRequests = { [C in ControlCommand]: RequestOf<C> };

export type ControlRequest = ControlRequests[ControlCommand];

/** The control API: each command's request, and the reply lines it answers. */
export type ControlApi = { [C in ControlCommand]: { request: RequestOf<C>; reply: ReplyOf<C> } };

export const CONTROL_COMMANDS = Object.keys(REQUESTS) as ControlCommand[];

function bad(message: string): never {
  throw new SuperviseError('ERR_USAGE', `bad request: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isCommand(cmd: unknown): cmd is ControlCommand {
  return typeof cmd === 'string' && Object.hasOwn(REQUESTS, cmd);
}

/** Parses and checks one request line; throws a SuperviseError (ERR_USAGE) that says what is wrong. */
export function parseControlRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    bad('not JSON');
  }
  if (!isPlainObject(value)) bad('expected a JSON object such as {"cmd":"status"}');
  const { cmd } = value;
  if (!isCommand(cmd)) {
    bad(
      `unknown command ${typeof cmd === 'string' ? JSON.stringify(cmd.slice(0, 40)) : `(cmd is ${cmd === null ? 'null' : typeof cmd})`}; known: ${CONTROL_COMMANDS.join(', ')}`,
    );
  }
  const shape: Fields = REQUESTS[cmd];
  const request: Record<string, unknown> = { cmd };
  // Own keys only, and every one declared: "__proto__", "constructor" and friends are unknown fields like any other.
  for (const key of Object.keys(value)) {
    if (key === 'cmd') continue;
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) bad(`${cmd}: unknown field ${JSON.stringify(key.slice(0, 40))}`);
    const parsed = field.parse(value[key]);
    if (parsed instanceof Refused) bad(`${cmd}: ${key} ${parsed.why}`);
    request[key] = parsed;
  }
  for (const [key, field] of Object.entries(shape)) {
    if (field.required && !Object.hasOwn(value, key)) bad(`${cmd}: ${key} is required`);
  }
  // Every field went through its parser above: the object is the command's request.
  return request as ControlRequest;
}
