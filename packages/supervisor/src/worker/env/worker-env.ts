import { balancesSharedSocket } from '../../accept/balance.js';
import { acceptStrategy } from '../../accept/index.js';
import type { SupervisorOptions } from '../../config/options.js';
import { requireCjs } from '../../require-cjs.js';

const { ENV, PROTOCOL_VERSION } = requireCjs(
  '@supervise/worker-sdk/protocol',
) as typeof import('@supervise/worker-sdk/protocol');

/**
 * A worker's environment: the accept strategy's, then the .env files' (`fileEnv`), then the user's, then the master's own (--sticky moves PORT
 * to a private port), then what the protocol needs (which wins).
 */
export function workerEnv(
  o: SupervisorOptions,
  slot: number,
  generation: number,
  master: Record<string, string> = {},
  fileEnv: Record<string, string> = {},
): Record<string, string> {
  return {
    ...acceptStrategy(o.accept).workerEnv(),
    // The instance number PM2 apps and the `config` package read (the user's own value wins).
    NODE_APP_INSTANCE: String(slot),
    // The directory as the user named it (`current`), as a shell would leave it for `pwd -L`.
    PWD: o.cwd,
    ...fileEnv,
    ...o.env,
    ...master,
    [ENV.worker]: String(PROTOCOL_VERSION),
    [ENV.slot]: String(slot),
    [ENV.generation]: String(generation),
    [ENV.drainTimeout]: String(o.drainTimeoutMs),
    [ENV.idleGrace]: String(o.idleGrace),
    [ENV.heartbeat]: String(o.heartbeatMs),
    [ENV.autoDrain]: o.autoDrain ? '1' : '0',
    ...(balancesSharedSocket(o) ? { [ENV.balance]: '1' } : {}),
  };
}
