import type { SupervisorOptions } from '../config/options.js';
import type { ReadyRule } from './readiness.js';

/**
 * The ports a new worker of `slot` must listen on to be ready (see readiness.ts for the order and why):
 * --ready-on, else where the slot's previous worker listened, else PORT (not with --sticky), else none.
 */
export function readyRule(
  o: Pick<SupervisorOptions, 'readyOn' | 'sticky'>,
  slot: number,
  previous: readonly string[],
  port: string | undefined,
): ReadyRule | null {
  if (o.readyOn !== null) return { ports: [o.readyOn], urls: [], why: '--ready-on' };
  if (previous.length > 0)
    return { ports: [], urls: [...previous], why: `where slot ${slot}'s previous worker listened` };
  const n = Number(port);
  if (!o.sticky && port && Number.isInteger(n) && n > 0 && n < 65536) return { ports: [n], urls: [], why: 'PORT' };
  return null;
}
