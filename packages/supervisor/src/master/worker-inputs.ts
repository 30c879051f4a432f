import type { SupervisorOptions } from '../config/options.js';
import { readEnvFiles } from '../worker/env-file.js';

/**
 * What new workers are started with that lives outside the options and is read again before every rollout:
 * the .env files' variables. A reload reads them for the options it is about to apply (vet), and they take
 * effect only once the whole reload is accepted (commit); a refusal leaves the running ones untouched, so
 * crash restarts keep starting workers like the ones serving.
 */
export class WorkerInputs {
  /** The .env files' variables, as last read successfully. */
  env: Record<string, string> = {};
  private pending: { env: Record<string, string> } | null = null;

  /** At the start: a missing file is an error before any worker starts. */
  async load(o: SupervisorOptions): Promise<void> {
    await this.vet(o);
    this.commit();
  }

  /** Reads everything for `next`; throws a one-line SuperviseError when something cannot be read. */
  async vet(next: SupervisorOptions): Promise<void> {
    this.pending = { env: readEnvFiles(next.envFile) };
  }

  commit(): void {
    if (!this.pending) return;
    this.env = this.pending.env;
    this.pending = null;
  }

  discard(): void {
    this.pending = null;
  }
}
