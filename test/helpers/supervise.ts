/**
 * Test harness: starts the real `supervise` binary, reads its JSON log lines, and kills everything it started
 * (master and every worker it ever forked, by PID) when the test ends.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'packages/supervisor/dist/cli.cjs');
export const example = (...p: string[]) => path.join(ROOT, 'examples', ...p);
export const fixture = (...p: string[]) => path.join(ROOT, 'test/fixtures', ...p);

export interface LogLine {
  event?: string;
  msg?: string;
  src?: string;
  level?: number;
  [key: string]: unknown;
}

const started = new Set<Supervised>();

export class Supervised {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];
  exitCode: number | null | undefined = undefined;

  constructor(args: string[], opts: SuperviseOptions = {}) {
    this.child = spawn(opts.node ?? process.execPath, [opts.cli ?? CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, like a shell's foreground job: a signal to the group reaches every worker too.
      detached: opts.processGroup ?? false,
    });
    started.add(this);
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) this.onLine(raw);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      for (const raw of chunk.split('\n')) if (raw.startsWith('{')) this.onLine(raw);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        resolve({ code, signal });
        // Nothing more will be logged: fail the waits now rather than at their timeouts.
        setTimeout(() => {
          for (const w of this.waiters)
            w.reject(new Error(`master exited (code ${code}) before the awaited line:\n${this.tail()}`));
          this.waiters = [];
        }, 50);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private onLine(raw: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      return;
    }
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Waits for a log line (already seen ones count, unless `after` says from which index to look). */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 15_000, after = 0): Promise<LogLine> {
    const seen = this.lines.slice(after).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line; last lines:\n${this.tail()}`));
      }, timeoutMs);
      const done = (l: LogLine) => {
        clearTimeout(timer);
        resolve(l);
      };
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      this.waiters.push({ pred, resolve: done, reject: fail });
    });
  }

  waitEvent(
    event: string,
    extra: (l: LogLine) => boolean = () => true,
    timeoutMs = 15_000,
    after = 0,
  ): Promise<LogLine> {
    return this.waitFor((l) => l.event === event && extra(l), timeoutMs, after);
  }

  /** Resolves when the master logged that all workers are ready. */
  ready(timeoutMs = 20_000): Promise<LogLine> {
    return this.waitEvent('master.ready', undefined, timeoutMs);
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Every worker pid the master ever forked. */
  forkedPids(): number[] {
    return this.events('worker.fork').map((l) => l.pid as number);
  }

  /** Pids of workers that are ready and have not begun to leave, per the log. */
  servingPids(): number[] {
    const serving = new Set<number>();
    for (const l of this.lines) {
      if (l.event === 'worker.state' && l.to === 'ready') serving.add(l.pid as number);
      if (l.event === 'worker.state' && l.to === 'draining') serving.delete(l.pid as number);
      if (l.event === 'worker.exit') serving.delete(l.pid as number);
    }
    return [...serving];
  }

  /**
   * The most workers serving (starting or ready) and draining at once, from the order of the fork, state and
   * exit events in the log, up to the stop (which drains every worker at once by design).
   */
  workerBounds(): { serving: number; draining: number } {
    const state = new Map<number, 'serving' | 'draining'>();
    let serving = 0;
    let draining = 0;
    const count = (s: 'serving' | 'draining') => [...state.values()].filter((v) => v === s).length;
    for (const l of this.lines) {
      if (l.event === 'master.stopping') break;
      const pid = l.pid as number;
      if (l.event === 'worker.fork') state.set(pid, 'serving');
      else if (l.event === 'worker.state' && l.to === 'draining') state.set(pid, 'draining');
      else if (l.event === 'worker.exit') state.delete(pid);
      else continue;
      serving = Math.max(serving, count('serving'));
      draining = Math.max(draining, count('draining'));
    }
    return { serving, draining };
  }

  /** Requests in flight in every worker, from the master's status (heartbeats: start it with a short --heartbeat). */
  async inFlight(): Promise<number> {
    const listening = await this.waitEvent('control.listening', undefined, 5_000);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect(listening.path as string);
      let data = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => (data += d));
      c.on('end', () => resolve(data));
      c.on('error', reject);
      c.write('{"cmd":"status"}\n');
    });
    const body = JSON.parse(reply) as { workers: { inFlight: number }[] };
    return body.workers.reduce((n, w) => n + w.inFlight, 0);
  }

  /** Waits until the workers report at least `n` requests in flight: a request sent is then surely accepted. */
  async waitInFlight(n = 1, timeoutMs = 5_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((await this.inFlight()) < n) {
      if (Date.now() > end) throw new Error(`fewer than ${n} requests in flight after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exitCode === undefined) process.kill(this.pid, sig);
  }

  /** What Ctrl+C in a terminal or `kill -- -PGID` does: the signal reaches the master and every worker at once. */
  signalGroup(sig: NodeJS.Signals): void {
    if (this.exitCode === undefined) process.kill(-this.pid, sig);
  }

  async waitExit(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`master did not exit within ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  tail(n = 25): string {
    return [...this.stdout.split('\n').slice(-n), '--- stderr ---', ...this.stderr.split('\n').slice(-10)].join('\n');
  }

  /** Kills the master and every worker it forked, by PID (never a pid <= 0: kill(-1) reaches every process). */
  kill(): void {
    for (const pid of [this.pid, ...this.forkedPids()].filter(realPid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export interface SuperviseOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Start the master as the leader of a new process group (then `signalGroup` works). */
  processGroup?: boolean;
  /** The node binary that runs the master (and so its workers); default: this one. */
  node?: string;
  /** Another copy of the CLI to run (a release's own node_modules install): default, this checkout's. */
  cli?: string;
}

export function supervise(args: string[], opts: SuperviseOptions = {}): Supervised {
  return new Supervised(['--log-format', 'json', ...args], opts);
}

const otherPids = new Set<number>();
const tempDirs = new Set<string>();

/** A process a test started itself (a client, a master spawned by hand): killAll() kills it too. */
export function trackPid(pid: number | undefined): void {
  if (pid !== undefined && realPid(pid)) otherPids.add(pid);
}

/** A fresh temporary directory that killAll() removes. */
export function tempDir(prefix = 'supervise-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Kills everything every test started and removes its temporary directories; call in afterEach. */
export function killAll(): void {
  for (const s of started) s.kill();
  started.clear();
  for (const pid of otherPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  otherPids.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A pid that names one process: 0 and negative numbers name groups (kill(-1) signals every process). */
export function realPid(pid: unknown): pid is number {
  return Number.isInteger(pid) && (pid as number) > 0;
}

export function isAlive(pid: number): boolean {
  if (!realPid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of these pids is alive. */
export async function waitGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > end) throw new Error(`still alive: ${pids.filter(isAlive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `supervise <args>` (a client command) without blocking this process; `user` runs it as that user. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; user?: string } = {},
): Promise<CliRun> {
  const [file, argv] = opts.user
    ? ['/usr/sbin/runuser', ['-u', opts.user, '--', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}
