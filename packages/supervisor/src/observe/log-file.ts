import { closeSync, fstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';

/**
 * One log file the master writes, line by line: synchronously, as the master writes its stdout (stdio.ts), so
 * that a line is never half-written, lines keep the order they were written in, and the last ones before
 * process.exit() are on disk. The master is the only writer (the workers' lines reach it through pipes), so no
 * two lines interleave.
 *
 * Rotation, as logrotate names the files: the current file is renamed `path.1`, `path.1` becomes `path.2`, ...,
 * and the oldest past `keep` is deleted; then `path` starts afresh. It happens before a line that would take the
 * file past `maxBytes`, or once the file is older than `maxAgeMs` (both optional). reopen() is for an external
 * logrotate that renamed the file itself: new lines go to a new file at the path.
 */
export interface RotationRule {
  /** Rotate before the file grows past this; 0: never by size. */
  maxBytes: number;
  /** Rotate a file older than this at its next line; 0: never by age. */
  maxAgeMs: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

export class LogFile {
  private fd: number;
  private size = 0;
  private openedAt = 0;
  /** The error that makes lines drop right now, said once on stderr until a write goes through again. */
  private failing: string | null = null;

  /** Opens (appends to) `path`; throws the open's error (a missing directory, a permission). */
  constructor(
    readonly path: string,
    private readonly rule: RotationRule,
    private readonly warn: (message: string) => void,
  ) {
    this.fd = this.open();
  }

  /** Writes `text` (whole lines) whole, rotating first when the rule says so. Never throws. */
  write(text: string): void {
    const buf = Buffer.from(text);
    try {
      if (this.fd < 0) this.fd = this.open();
      if (this.due(buf.length)) this.rotate();
      let rest = buf;
      while (rest.length > 0) rest = rest.subarray(writeSync(this.fd, rest));
      this.size += buf.length;
      this.failing = null;
    } catch (err) {
      this.fail(err);
    }
  }

  /** Closes and opens the path again: after an external logrotate moved the file away. */
  reopen(): void {
    this.close();
    try {
      this.fd = this.open();
      this.failing = null;
    } catch (err) {
      this.fail(err);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = -1;
  }

  private open(): number {
    const fd = openSync(this.path, 'a', 0o640);
    const st = fstatSync(fd);
    this.size = st.size;
    // An existing file's age counts from its creation (its last rotation), not from this master's start.
    this.openedAt = st.size > 0 && st.birthtimeMs > 0 ? st.birthtimeMs : Date.now();
    return fd;
  }

  private due(next: number): boolean {
    if (this.size === 0) return false;
    if (this.rule.maxBytes > 0 && this.size + next > this.rule.maxBytes) return true;
    return this.rule.maxAgeMs > 0 && Date.now() - this.openedAt >= this.rule.maxAgeMs;
  }

  private rotate(): void {
    this.close();
    const { keep } = this.rule;
    const name = (n: number) => `${this.path}.${n}`;
    if (keep === 0) {
      tryUnlink(this.path);
    } else {
      tryUnlink(name(keep));
      for (let n = keep - 1; n >= 1; n--) if (exists(name(n))) renameSync(name(n), name(n + 1));
      renameSync(this.path, name(1));
    }
    this.fd = this.open();
  }

  private fail(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (this.failing === code) return;
    this.failing = code;
    this.warn(`supervise: log file ${this.path}: ${code}; lines are dropped until it can be written again\n`);
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // not there
  }
}
