import { SuperviseError } from '../errors.js';

/**
 * What a control client may ask, one JSON object per line. Each command declares its fields once, here; a line
 * that does not fit is answered with an error line, never thrown at the master.
 */
export type ControlRequest =
  | { cmd: 'status' }
  /** progress: a `{ok, progress}` line per replaced worker before the final answer (reload-progress.ts). */
  | { cmd: 'reload'; waitDrained?: boolean; progress?: boolean }
  | { cmd: 'stop' }
  | { cmd: 'scale'; target: string }
  /** The last `lines` lines the master has seen; with `follow`, every later one too, until the client closes. */
  | { cmd: 'logs'; lines?: number; follow?: boolean };

type FieldCheck = (value: unknown) => string | null;

const optionalBoolean: FieldCheck = (v) => (v === undefined || typeof v === 'boolean' ? null : 'must be true or false');

/** `n`, `+n` or `-n` as a string, or a whole number: what `supervise scale` sends. */
const scaleSpec: FieldCheck = (v) => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return null;
  if (typeof v === 'string' && /^\s*(?:[+-]?\d{1,6}|max)\s*$/.test(v)) return null;
  return 'must be n, +n, -n or max';
};

const optionalCount: FieldCheck = (v) =>
  v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 100_000)
    ? null
    : 'must be a whole number from 0 to 100000';

const SHAPES: Record<ControlRequest['cmd'], Record<string, { check: FieldCheck; required: boolean }>> = {
  status: {},
  reload: {
    waitDrained: { check: optionalBoolean, required: false },
    progress: { check: optionalBoolean, required: false },
  },
  stop: {},
  scale: { target: { check: scaleSpec, required: true } },
  logs: { lines: { check: optionalCount, required: false }, follow: { check: optionalBoolean, required: false } },
};

function bad(message: string): never {
  throw new SuperviseError('ERR_USAGE', `bad request: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
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
  if (typeof cmd !== 'string' || !Object.hasOwn(SHAPES, cmd)) {
    bad(
      `unknown command ${typeof cmd === 'string' ? JSON.stringify(cmd.slice(0, 40)) : `(cmd is ${cmd === null ? 'null' : typeof cmd})`}; known: ${Object.keys(SHAPES).join(', ')}`,
    );
  }
  const shape = SHAPES[cmd as ControlRequest['cmd']];
  // Own keys only, and every one declared: "__proto__", "constructor" and friends are unknown fields like any other.
  for (const key of Object.keys(value)) {
    if (key === 'cmd') continue;
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) bad(`${cmd}: unknown field ${JSON.stringify(key.slice(0, 40))}`);
    const why = field.check(value[key]);
    if (why) bad(`${cmd}: ${key} ${why}`);
  }
  for (const [key, field] of Object.entries(shape)) {
    if (field.required && !Object.hasOwn(value, key)) bad(`${cmd}: ${key} is required`);
  }
  if (cmd === 'scale') return { cmd, target: String(value.target).trim() };
  return value as ControlRequest;
}
