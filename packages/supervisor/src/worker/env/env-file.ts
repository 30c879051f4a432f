import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

import { SuperviseError } from '../../errors.js';

/**
 * `--env-file`: dotenv files, parsed by Node's own parser (the syntax of `node --env-file`), read at the start
 * and again before every rollout, so that a deploy that changes a secret needs only a reload. Later files win
 * over earlier ones; `--env` and the config's `env` win over all of them (see workerEnv).
 */
export function readEnvFiles(files: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'is a directory'
              : ((err as Error).message ?? String(err));
      throw new SuperviseError('ERR_CONFIG', `--env-file ${file}: ${why}`);
    }
    Object.assign(env, parseEnv(text));
  }
  return env;
}
