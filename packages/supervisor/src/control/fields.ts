import path from 'node:path';

import {
  MAX_LOG_LINES,
  parseLineCount,
  parseScaleSpec,
  parseSignalName,
  SCALE_SPEC_USAGE,
  SIGNAL_NAME_USAGE,
} from './args.js';

/**
 * The kinds of value a control request carries, one parser each. The master checks a request's field with it,
 * and the CLI checks what the user typed with the same parser (after `fromText`) before it sends: one parser
 * and one wording per argument, whichever side refuses it.
 */
export interface ValueKind<T> {
  /** What a valid value looks like, for the refusal: "must be <usage>", "expected <usage>". */
  usage: string;
  /** The value a request field carries (a JSON value), or null when it cannot carry it. */
  parse(value: unknown): T | null;
  /** What the CLI sends for what the user typed (a relative path made absolute, digits made a number). */
  fromText?(text: string): unknown;
}

/** One field of a request: its kind, whether a request must carry it, and what it means (help and docs). */
export interface Field<T, Required extends boolean> extends ValueKind<T> {
  required: Required;
  doc: string;
}

export const optional = <T>(kind: ValueKind<T>, doc: string): Field<T, false> => ({ ...kind, required: false, doc });
export const required = <T>(kind: ValueKind<T>, doc: string): Field<T, true> => ({ ...kind, required: true, doc });

export type Fields = Record<string, Field<unknown, boolean>>;

const digits = (text: string): unknown => (/^\s*\d{1,10}\s*$/.test(text) ? Number(text) : text);

export const flag: ValueKind<boolean> = {
  usage: 'true or false',
  parse: (v) => (typeof v === 'boolean' ? v : null),
};

/** `supervise scale`'s argument as text; the API's whole number is taken too (as its digits). */
export const scaleSpec: ValueKind<string> = {
  usage: SCALE_SPEC_USAGE,
  parse: (v) => (parseScaleSpec(v) ? String(v).trim() : null),
};

/** An absolute path to a node binary (the master checks that it runs). */
export const nodePath: ValueKind<string> = {
  usage: 'an absolute path to a node binary',
  parse: (v) => (typeof v === 'string' && v.startsWith('/') && v.length <= 4096 && !v.includes('\0') ? v : null),
  fromText: (text) => path.resolve(text),
};

/** On the wire a JSON number only; the CLI's -n gives its digits. */
export const lineCount: ValueKind<number> = {
  usage: `a count from 0 to ${MAX_LOG_LINES}`,
  parse: (v) => (typeof v === 'number' ? parseLineCount(v) : null),
  fromText: digits,
};

/** A worker: its pid, or its slot (0, 1, ...); a JSON number or its digits. */
export const workerRef: ValueKind<number> = {
  usage: "a worker's pid or slot",
  parse: (v) => {
    const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
  },
  fromText: digits,
};

export const port: ValueKind<number> = {
  usage: 'a port from 0 to 65535',
  parse: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : null),
  fromText: digits,
};

/** An absolute directory: the master resolves nothing against its own working directory. */
export const absoluteDir: ValueKind<string> = {
  usage: 'an absolute path',
  parse: (v) => (typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? v : null),
  fromText: (text) => path.resolve(text),
};

/** A signal's name, with or without SIG, any case ("usr2", "SIGUSR2"); the workers hear it as SIGUSR2. */
export const signalName: ValueKind<NodeJS.Signals> = {
  usage: SIGNAL_NAME_USAGE,
  parse: parseSignalName,
};
