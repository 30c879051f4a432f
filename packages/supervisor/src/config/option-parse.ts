import os from 'node:os';

import { ACCEPT_NAMES, type AcceptName } from '../accept/index.js';
import { SuperviseError } from '../errors.js';
import type { LogLevel } from './option-types.js';

/** The parsers of loose option values (flags are strings, a config file's are JSON): one-line errors naming the option. */

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The most workers a master runs, however they are asked for (-w, a config file, scale, the API). */
export const MAX_WORKERS = 1024;

/** A worker count to scale to, from the API or from a scale spec (control/args.ts reads `+2` against the current count). */
export function checkScaleTarget(target: number): void {
  if (!Number.isInteger(target) || target < 1)
    throw new SuperviseError('ERR_USAGE', 'scale: the target must be at least 1');
  if (target > MAX_WORKERS)
    throw new SuperviseError('ERR_USAGE', `scale: at most ${MAX_WORKERS} workers, got ${target}`);
}

/** A value as the user wrote it: a string in quotes, a number or anything else as JSON (0, not "0"). */
export function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

export function usage(message: string): never {
  throw new SuperviseError('ERR_USAGE', message);
}

/** `n` or `max`: a positive integer, never 0. */
export function parseWorkers(value: unknown, flag = '--workers'): number {
  if (value === 'max') return os.availableParallelism();
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (typeof value === 'string' && !/^\d+$/.test(value.trim())) {
    usage(`${flag} must be a positive integer or "max", got "${value}"`);
  }
  if (!Number.isInteger(n) || n < 1) usage(`${flag} must be a positive integer or "max", got ${shown(value)}`);
  if (n > MAX_WORKERS) usage(`${flag} must be at most ${MAX_WORKERS}, got ${n}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds as a number, or a string with a unit: `500`, `500ms`, `30s`, `5m`, `2h`, `1d`. */
export function parseDuration(value: unknown, flag: string, { allowZero = true } = {}): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && (allowZero || value > 0)) {
    return Math.round(value);
  }
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value) : null;
  if (!m) usage(`${flag} must be a duration such as 500, 500ms, 30s or 5m, got ${shown(value)}`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  if (!allowZero && ms === 0) usage(`${flag} must be greater than 0`);
  return ms;
}

/**
 * A shared socket by default: with one request per connection it runs well above PM2 and close to a bare
 * shared-socket cluster (the limit), where round-robin's one-core hop holds supervise well below that limit;
 * with keep-alive it is PM2's equal (figures: bench/RESULTS.md#accept). Its weakness, keep-alive connections
 * piling up on the worker the kernel woke after a burst, is the balancer's to mend (accept/balance.ts keeps
 * them within 25 %).
 */
export const DEFAULT_ACCEPT: AcceptName = 'shared';

export function parseAccept(value: unknown, flag = '--accept'): AcceptName {
  if (value === undefined) return DEFAULT_ACCEPT;
  if ((ACCEPT_NAMES as readonly unknown[]).includes(value)) return value as AcceptName;
  return usage(`${flag} must be ${ACCEPT_NAMES.join(' or ')}, got ${shown(value)}`);
}

/** `keep-alive`, or a duration: the drain's idle rule. */
export function parseIdleGrace(value: unknown, flag = '--idle-grace'): 'keep-alive' | number {
  if (value === undefined || value === 'keep-alive') return 'keep-alive';
  return parseDuration(value, flag);
}

export function parseCount(value: unknown, flag: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    usage(
      `${flag} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${shown(value)}`,
    );
  }
  return n;
}

/** `KEY=VAL` pairs (repeatable flag) or an object (config file). */
export function parseEnv(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    const env: Record<string, string> = {};
    for (const pair of value) {
      const s = String(pair);
      const eq = s.indexOf('=');
      if (eq <= 0) usage(`--env expects KEY=VALUE, got "${s}"`);
      env[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return env;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  }
  return usage(`env must be KEY=VALUE pairs or an object`);
}

/**
 * Splits `--node-args "--import tsx --max-old-space-size=512"` the way a shell splits words: whitespace
 * separates them, and quotes (single or double, anywhere in a word) group, so `--title="my app"` is one word,
 * `--title=my app`. A backslash outside single quotes keeps the next character.
 */
export function splitArgs(value: unknown): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value);
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) usage(`--node-args: unmatched ${quote} in ${JSON.stringify(text)}`);
  if (inWord) out.push(word);
  return out;
}

export function parseBool(value: unknown, flag: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return usage(`${flag} must be true or false, got ${shown(value)}`);
}

export function stringList(value: unknown, flag: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return usage(`${flag} must be a string or a list of strings`);
}
