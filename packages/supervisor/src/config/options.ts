import path from 'node:path';

import { logicalCwd } from './logical-cwd.js';
import { FOLDED, flagName, OPTION_KEYS, OPTIONS } from './option-table.js';
import type { OptionKey, OptionValues, RawOptions, ResolveContext, SupervisorOptions } from './option-types.js';

export type { LogFormat, LogLevel, OptionKey, RawOptions, SupervisorOptions } from './option-types.js';
export {
  DEFAULT_ACCEPT,
  LOG_LEVELS,
  MAX_WORKERS,
  parseAccept,
  parseCount,
  parseDuration,
  parseEnv,
  parseIdleGrace,
  parseWorkers,
  splitArgs,
} from './option-parse.js';

/**
 * Validates everything once, with one-line messages that name the option: each key through its entry's parser
 * (option-table.ts), given the user's value or the entry's default. An option that depends on another (the drain
 * deadline on the kill timeout) asks the context for it, which resolves it first.
 */
export function resolveOptions(raw: RawOptions, base: { cwd?: string } = {}): SupervisorOptions {
  const values: Partial<OptionValues> = {};
  const resolving = new Set<OptionKey>();
  const ctx: ResolveContext = {
    // Logical (`current`, not the release it points to): the kernel resolves it again at each fork.
    baseDir: base.cwd ?? logicalCwd(),
    get: <K extends OptionKey>(key: K): OptionValues[K] => {
      if (Object.hasOwn(values, key)) return values[key] as OptionValues[K];
      // A bug in the table, not the user's input: two parsers that ask for each other.
      if (resolving.has(key)) throw new Error(`option table: ${key} depends on itself`);
      resolving.add(key);
      const entry = OPTIONS[key];
      const given = raw[key];
      const value = entry.parse(
        entry.default !== undefined ? (given ?? entry.default) : given,
        flagName(key),
        ctx,
      ) as OptionValues[K];
      resolving.delete(key);
      values[key] = value;
      return value;
    },
    path: (p) => path.resolve(ctx.get('cwd'), p),
  };
  const options: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const value = ctx.get(key);
    if (!Object.hasOwn(FOLDED, key)) options[key] = value;
  }
  return options as unknown as SupervisorOptions;
}
