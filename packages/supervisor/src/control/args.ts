import os from 'node:os';

import { SuperviseError } from '../errors.js';
import { checkScaleTarget } from '../config/option-parse.js';

/**
 * The control commands' arguments, one parser each: the CLI checks what the user typed with it before it sends,
 * the master checks the request field with it, and the handler reads the value it gives.
 */

/** `supervise scale`'s argument: a count, a change of the current one, or one per core. */
export type ScaleSpec = { kind: 'max' } | { kind: 'set' | 'add' | 'remove'; n: number };

/** `n`, `+n`, `-n` or `max` (a string), or a whole number (the API's): null when it is none of them. */
export function parseScaleSpec(value: unknown): ScaleSpec | null {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value;
  if (typeof text !== 'string') return null;
  if (text.trim() === 'max') return { kind: 'max' };
  const m = /^\s*([+-]?)(\d+)\s*$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[2]))) return null;
  const n = Number(m[2]);
  return m[1] === '+' ? { kind: 'add', n } : m[1] === '-' ? { kind: 'remove', n } : { kind: 'set', n };
}

function usage(message: string): never {
  throw new SuperviseError('ERR_USAGE', message);
}

export const SCALE_SPEC_USAGE = 'n, +n, -n or max';

/** The worker count a scale spec asks for, from the current one; a count that no master runs is refused. */
export function scaleTarget(spec: string, current: number): number {
  const parsed = parseScaleSpec(spec);
  if (!parsed) usage(`scale: expected ${SCALE_SPEC_USAGE}, got "${spec}"`);
  if (parsed.kind === 'max') return os.availableParallelism();
  const { n } = parsed;
  const target = parsed.kind === 'add' ? current + n : parsed.kind === 'remove' ? current - n : n;
  if (target < 1) usage(`scale: ${spec} would leave ${target} workers; at least 1 must run`);
  checkScaleTarget(target);
  return target;
}

/** The master keeps this many log lines; `logs -n` asks for at most as many. */
export const MAX_LOG_LINES = 100_000;
/** What `supervise logs` prints without -n. */
export const DEFAULT_LOG_LINES = 50;

/** A count of log lines: a whole number (JSON's) or its digits (a flag's), from 0 to MAX_LOG_LINES; else null. */
export function parseLineCount(value: unknown): number | null {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_LOG_LINES ? n : null;
}

/** A signal's name, with or without SIG, any case ("usr2", "SIGUSR2"), as the workers hear it; null if none. */
export function parseSignalName(value: unknown): NodeJS.Signals | null {
  const name = typeof value === 'string' ? value.trim().toUpperCase() : '';
  const full = name.startsWith('SIG') ? name : `SIG${name}`;
  return Object.hasOwn(os.constants.signals, full) ? (full as NodeJS.Signals) : null;
}

export const SIGNAL_NAME_USAGE = 'a signal name, such as USR2 or SIGUSR2';
