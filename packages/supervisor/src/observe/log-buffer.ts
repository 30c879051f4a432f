/**
 * The last lines the master has seen, its own log and the workers' output, for `supervise logs`: a bounded ring
 * (what a migrant from `pm2 logs` expects to find, wherever stdout goes: a terminal, journald, /dev/null).
 */
export interface LogEntry {
  /** Epoch ms. */
  time: number;
  src: 'master' | 'worker';
  pid: number;
  /** The worker's slot; absent for the master. */
  slot?: number;
  stream: 'stdout' | 'stderr';
  /** The master's log level (info, warn, ...); absent for a worker's line. */
  level?: string;
  msg: string;
}

export const LOG_BUFFER_LINES = 1_000;
/** A line longer than this is cut: one runaway line must not hold the buffer's memory. */
const MAX_MSG = 8 * 1024;

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export class LogBuffer {
  private readonly ring: (LogEntry | undefined)[];
  private next = 0;
  private size = 0;
  private readonly followers = new Set<(entry: LogEntry) => void>();

  constructor(readonly capacity = LOG_BUFFER_LINES) {
    this.ring = new Array<LogEntry | undefined>(capacity);
  }

  push(entry: LogEntry): void {
    if (entry.msg.length > MAX_MSG) entry.msg = `${entry.msg.slice(0, MAX_MSG)}...`;
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    for (const follow of this.followers) follow(entry);
  }

  /** The last `n` entries, oldest first. */
  tail(n: number): LogEntry[] {
    const count = Math.max(0, Math.min(n, this.size));
    const out: LogEntry[] = [];
    for (let i = this.size - count; i < this.size; i++) {
      const entry = this.ring[(this.next - this.size + i + this.capacity) % this.capacity];
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Calls `fn` for every entry from now on; returns the unsubscribe. */
  follow(fn: (entry: LogEntry) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}

/** One per master process: the logger and the workers' output feed it, the control socket reads it. */
export const logBuffer = new LogBuffer();

/** A line of the master's own JSON log (pino), as an entry; null for anything else. */
export function masterEntry(line: string, stream: 'stdout' | 'stderr'): LogEntry | null {
  let obj: { time?: unknown; level?: unknown; msg?: unknown; pid?: unknown };
  try {
    obj = JSON.parse(line) as typeof obj;
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null || typeof obj.msg !== 'string') return null;
  const time =
    typeof obj.time === 'number' ? obj.time : typeof obj.time === 'string' ? Date.parse(obj.time) : Date.now();
  return {
    time: Number.isFinite(time) ? time : Date.now(),
    src: 'master',
    pid: typeof obj.pid === 'number' ? obj.pid : process.pid,
    stream,
    level: typeof obj.level === 'number' ? (LEVELS[obj.level] ?? String(obj.level)) : undefined,
    msg: obj.msg,
  };
}

/** How `supervise logs` prints an entry: `12:00:01.250 master info: ...`, `12:00:01.260 [2:4711] ...`. */
export function formatEntry(e: LogEntry): string {
  const d = new Date(e.time);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  if (e.src === 'master') return `${clock} master ${e.level ?? 'info'}: ${e.msg}`;
  return `${clock} [${e.slot ?? '?'}:${e.pid}]${e.stream === 'stderr' ? ' (stderr)' : ''} ${e.msg}`;
}
