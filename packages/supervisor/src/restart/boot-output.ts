import type { WorkerProcess } from '../worker/worker-process.js';

/**
 * What booting workers print, so that a crash loop shows its stack once and not once per worker. While workers
 * boot side by side, one (the live one) streams its output as it comes; the others' is held: shown once they
 * are ready, or once they fail in another way than a failure already shown, dropped when they fail the same
 * way. After a boot failure, every new worker's output is held until one boots.
 */
export class BootOutput {
  /** The cause of the last boot failure shown, until a worker boots. */
  private lastCause: string | null = null;
  private live: WorkerProcess | null = null;
  /** Workers that failed while the live one still booted: decided once its outcome is known. */
  private waiting: { w: WorkerProcess; cause: string | null }[] = [];

  constructor(private readonly causeOf: (w: WorkerProcess) => string | null) {}

  forked(w: WorkerProcess): void {
    if (this.lastCause !== null || this.live?.state === 'starting') w.holdOutput();
    else this.live = w;
  }

  ready(w: WorkerProcess): void {
    w.releaseOutput();
    this.lastCause = null;
    if (w === this.live) this.settle(null);
  }

  /** A worker failed before it was ready. Returns true when it repeats the last failure shown. */
  failed(w: WorkerProcess, cause: string | null): boolean {
    const repeated = cause !== null && cause === this.lastCause;
    if (this.live && this.live !== w && !repeated) {
      // The live one is still booting (or its own failure is on its way): it may show this very cause.
      this.waiting.push({ w, cause });
      return false;
    }
    this.lastCause = cause;
    if (repeated) w.discardOutput();
    else w.releaseOutput();
    return repeated;
  }

  /** A worker exited; `showHeld`: nothing will decide about its output any more (stopped while booting). */
  exited(w: WorkerProcess, showHeld: boolean): void {
    if (showHeld) w.releaseOutput();
    // The live booting worker is gone: what it printed is what was shown.
    if (w === this.live) this.settle(this.causeOf(w));
  }

  private settle(shown: string | null): void {
    this.live = null;
    for (const { w, cause } of this.waiting.splice(0)) {
      if (cause !== null && cause === shown) w.discardOutput();
      else w.releaseOutput();
    }
  }
}
