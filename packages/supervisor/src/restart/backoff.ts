/**
 * Restart pacing for crashing workers: exponential backoff with jitter per slot (so that N slots crashing
 * together do not restart in lockstep), and a breaker for crash loops at boot.
 */

/** "Equal jitter": half the exponential delay is fixed, half random. attempt 0 -> [base/2, base]. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  if (baseMs <= 0) return 0;
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Trips when `limit` workers fail before becoming ready within `windowMs`: restarting them further only
 * burns CPU, while exiting lets systemd or Kubernetes act (and tell someone).
 */
export class BootBreaker {
  private failures: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records a boot failure; true when the breaker trips. */
  record(now = Date.now()): boolean {
    this.failures = this.failures.filter((t) => now - t < this.windowMs);
    this.failures.push(now);
    return this.failures.length >= this.limit;
  }

  /** A worker became ready: the code boots, whatever failed before. */
  reset(): void {
    this.failures = [];
  }

  get count(): number {
    return this.failures.length;
  }
}
