import { SuperviseError } from '../errors.js';
import { CONTROL_API, CONTROL_COMMANDS, type ControlCommand, type ControlRequest } from './api.js';
import type { Fields } from './fields.js';

/**
 * What a control client may ask, one JSON object per line, checked against the command's fields in the API
 * (api.ts). A line that does not fit is answered with an error line, never thrown at the master.
 */

function bad(message: string): never {
  throw new SuperviseError('ERR_USAGE', `bad request: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isCommand(cmd: unknown): cmd is ControlCommand {
  return typeof cmd === 'string' && Object.hasOwn(CONTROL_API, cmd);
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
  const shape: Fields = CONTROL_API[cmd].fields;
  const request: Record<string, unknown> = { cmd };
  // Own keys only, and every one declared: "__proto__", "constructor" and friends are unknown fields like any other.
  for (const key of Object.keys(value)) {
    if (key === 'cmd') continue;
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) bad(`${cmd}: unknown field ${JSON.stringify(key.slice(0, 40))}`);
    const parsed = field.parse(value[key]);
    if (parsed === null) bad(`${cmd}: ${key} must be ${field.usage}`);
    request[key] = parsed;
  }
  for (const [key, field] of Object.entries(shape)) {
    if (field.required && !Object.hasOwn(value, key)) bad(`${cmd}: ${key} is required`);
  }
  // Every field went through its parser above: the object is the command's request.
  return request as ControlRequest;
}
