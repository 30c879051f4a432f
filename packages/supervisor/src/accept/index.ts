import { roundRobin } from './round-robin.js';
import { shared } from './shared.js';
import type { AcceptName, AcceptStrategy } from './strategy.js';

export type { AcceptName, AcceptStrategy } from './strategy.js';

export const ACCEPT_STRATEGIES: Record<AcceptName, AcceptStrategy> = { shared, 'round-robin': roundRobin };

/** The strategies by name, the default first. */
export const ACCEPT_NAMES = Object.keys(ACCEPT_STRATEGIES) as AcceptName[];

export function acceptStrategy(name: AcceptName): AcceptStrategy {
  return ACCEPT_STRATEGIES[name];
}
