import { EXIT } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { ExitInfo } from '../worker/worker-process.js';

/**
 * What a stop did to the workers, for its exit code and its `stopped` line: how many that had served were
 * forced (killed, or connections cut at the deadline), and which died on their own during their drain.
 */
export class StopReport {
  private forced = 0;
  private readonly died: number[] = [];

  /** A worker's exit while the master stops. */
  exit(w: { pid: number; readyAt: number | null }, info: ExitInfo): void {
    const stats = info.stats;
    // A worker that never served (killed while booting) lost nothing: it does not make the stop "forced".
    if ((info.killed || (stats !== null && stats.forced > 0)) && w.readyAt !== null) this.forced++;
    if (info.died) this.died.push(w.pid);
  }

  /** 1 when anything was forced (not counting a stop during the boot) or died; a fatal error's code wins. */
  code(fatal: number | null, wasStarting: boolean): number {
    const unclean = (this.forced > 0 && !wasStarting) || this.died.length > 0;
    return fatal ?? (unclean ? EXIT.forced : EXIT.ok);
  }

  /** The master's last line: every exit goes through it, with its real code. */
  logStopped(log: Logger, code: number, durationMs: number): void {
    const died = this.died;
    const why = died.length ? `: ${died.map((pid) => `worker ${pid}`).join(', ')} died during its drain` : '';
    log[died.length ? 'warn' : 'info'](
      { event: 'master.stopped', exitCode: code, durationMs, ...(died.length ? { died } : {}) },
      `stopped in ${durationMs} ms, exit code ${code}${why}`,
    );
  }
}
