import { SuperviseError } from '../errors.js';
import { parseBool, parseCount, parseDuration, shown, stringList } from './option-parse.js';
import type { Check, OptionEntry } from './option-types.js';

/**
 * The kinds of option value, each one parser: a kind gives an entry both its config-file check and its parse, so
 * that a value means the same from a flag, a config file and the API. An entry spreads its kind and adds the rest.
 */

export type Kind<T> = Pick<OptionEntry<T>, 'check' | 'parse' | 'value'>;

export function bad(key: string, what: string, value: unknown): never {
  throw new SuperviseError('ERR_CONFIG', `${key} must be ${what}, got ${shown(value)}`);
}

export const textCheck: Check = (v, k) => {
  if (typeof v !== 'string' || v === '') bad(k, 'a non-empty string', v);
};

export const textListCheck: Check = (v, k) => {
  if (!(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))))
    bad(k, 'a string or a list of strings', v);
};

export const oneOfCheck =
  (allowed: readonly string[]): Check =>
  (v, k) => {
    if (typeof v !== 'string' || !allowed.includes(v)) bad(k, `one of ${allowed.join(', ')}`, v);
  };

/** Milliseconds, or a string with a unit: 500, 500ms, 30s, 5m, 2h, 1d. */
export function duration({ allowZero = true } = {}): Kind<number> {
  return {
    value: `a duration: 500, 500ms, 30s, 5m, 2h${allowZero ? '' : ' (not 0)'}`,
    check: (v, k) => void parseDuration(v, k, { allowZero }),
    parse: (v, name) => parseDuration(v, name, { allowZero }),
  };
}

/** A whole number within bounds. */
export function count(min = 0, max?: number): Kind<number> {
  const bounds = max === undefined ? { min } : { min, max };
  return {
    value: max === undefined ? `an integer, at least ${min}` : `an integer from ${min} to ${max}`,
    check: (v, k) => void parseCount(v, k, bounds),
    parse: (v, name) => parseCount(v, name, bounds),
  };
}

/** A switch: true or false (a config file's must be JSON's true or false; a flag's may be the words). */
export const bool: Kind<boolean> = {
  value: 'true or false',
  check: (v, k) => {
    if (typeof v !== 'boolean') bad(k, 'true or false', v);
  },
  parse: (v, name) => parseBool(v, name),
};

/** A path, resolved against the working directory; null (or nothing): none. */
export function pathOrNull(): Kind<string | null> {
  return {
    value: 'a path, relative to --cwd',
    check: (v, k) => {
      if (v !== null) textCheck(v, k);
    },
    parse: (v, _name, ctx) => (v === undefined || v === null ? null : ctx.path(String(v))),
  };
}

/** Strings, given one at a time (a repeatable flag) or as a list; one string is a list of one. */
export const textList: Kind<string[]> = {
  value: 'a string or a list of strings',
  check: textListCheck,
  parse: (v, name) => stringList(v, name),
};
