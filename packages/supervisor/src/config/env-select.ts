import { SuperviseError } from '../errors.js';
import { parseEnv } from './option-parse.js';

/**
 * `--env` takes two kinds of word, as PM2 users type them: `KEY=VALUE` adds a variable on top of the config
 * file's `env`, and a bare word (`--env production`) picks the PM2 file's `env_production` block.
 */

export interface EnvFlag {
  /** The KEY=VALUE words, or undefined when there were none (the file's env is then left as it is). */
  pairs: string[] | undefined;
  /** The environment a bare word named, or null. */
  name: string | null;
}

export function splitEnvFlag(value: unknown): EnvFlag {
  if (!Array.isArray(value)) return { pairs: undefined, name: null };
  const words = value.map(String);
  const names = words.filter((w) => !w.includes('='));
  if (names.length > 1)
    throw new SuperviseError(
      'ERR_USAGE',
      `--env: one environment at a time (got ${names.map((n) => `"${n}"`).join(' and ')}); the others as KEY=VALUE`,
    );
  const name = names[0] ?? null;
  if (name !== null && !/^[\w-]+$/.test(name))
    throw new SuperviseError(
      'ERR_USAGE',
      `--env expects KEY=VALUE or an environment name such as production, got "${name}"`,
    );
  const pairs = words.filter((w) => w.includes('='));
  return { pairs: pairs.length > 0 ? pairs : undefined, name };
}

/** The flags' variables over the file's: a key given on the command line wins, the file's others stay. */
export function mergeEnv(file: unknown, flags: unknown): Record<string, string> {
  return { ...parseEnv(file), ...parseEnv(flags) };
}

/** What a bare `--env NAME` means when the file cannot supply env_NAME. */
export function noEnvBlock(name: string, where: string): SuperviseError {
  return new SuperviseError(
    'ERR_CONFIG',
    `--env ${name} selects the env_${name} block of a PM2 ecosystem file, and ${where}; set variables with --env KEY=VALUE`,
  );
}
