import { resolvedNow } from '../config/logical-cwd.js';
import type { SupervisorOptions } from '../config/options.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { readEnvFiles } from '../worker/env/env-file.js';
import { checkNode, checkSerialization, withExecPath } from '../worker/node-binary.js';

/**
 * What new workers are started with that lives outside the options and is read again before every rollout:
 * the .env files' variables, and the node binary (--node: checked, its version asked, again each time: the
 * file may have been replaced by a new Node since). A reload reads them for the options it is about to apply (vet), and they take
 * effect only once the whole reload is accepted (commit); a refusal leaves the running ones untouched, so
 * crash restarts keep starting workers like the ones serving.
 */
export class WorkerInputs {
  /** The .env files' variables, as last read successfully. */
  env: Record<string, string> = {};
  /** --node: the binary new workers run on (null: the master's own) and its version. */
  node: string | null = null;
  nodeVersion: string = process.version;
  private pending: { env: Record<string, string>; node: string | null; nodeVersion: string } | null = null;

  /** At the start: a missing file is an error before any worker starts. */
  async load(o: SupervisorOptions): Promise<void> {
    await this.vet(o);
    this.commit();
  }

  /** Reads everything for `next`; throws a one-line SuperviseError when something cannot be read. */
  async vet(next: SupervisorOptions): Promise<void> {
    const env = readEnvFiles(next.envFile);
    let nodeVersion = process.version;
    if (next.node !== null) {
      nodeVersion = await checkNode(next.node);
      checkSerialization(next.node, nodeVersion, next.ipcSerialization);
    }
    this.pending = { env, node: next.node, nodeVersion };
  }

  commit(): void {
    if (!this.pending) return;
    ({ env: this.env, node: this.node, nodeVersion: this.nodeVersion } = this.pending);
    this.pending = null;
  }

  discard(): void {
    this.pending = null;
  }

  /**
   * Runs `fork` on the workers' node, and stamps the worker with what it was started with: the release the
   * logical cwd leads to now (the kernel resolves it in a moment) and the node's version. Its hello replaces
   * both with its own answers.
   */
  async fork(cwd: string, fork: () => Promise<WorkerProcess>): Promise<WorkerProcess> {
    const release = resolvedNow(cwd);
    const w = await withExecPath(this.node, fork);
    w.release = release;
    w.nodeVersion = this.nodeVersion;
    return w;
  }
}
