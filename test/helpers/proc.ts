/**
 * The process table, as a user would check it: the children of the master, sampled at a short interval, so
 * that a test can assert a bound ("never more than N + surge workers") over the whole of a storm.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Live children of `pid` (Linux: /proc/<pid>/task/<pid>/children; the master forks from its main thread). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface ChildSampler {
  /** The most children seen at once. */
  readonly max: number;
  readonly samples: number;
  /** Every child pid ever seen. */
  readonly seen: Set<number>;
  stop(): void;
}

/** Samples the children of `pid` every `everyMs` until stop(). */
export function sampleChildren(pid: number, everyMs = 10): ChildSampler {
  const state = { max: 0, samples: 0, seen: new Set<number>() };
  const take = () => {
    const pids = childPids(pid);
    state.samples++;
    state.max = Math.max(state.max, pids.length);
    for (const p of pids) state.seen.add(p);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    get max() {
      return state.max;
    },
    get samples() {
      return state.samples;
    },
    seen: state.seen,
    stop: () => clearInterval(timer),
  };
}

/** A little helper for spacing signals evenly: `times` calls of fn, `everyMs` apart. */
export async function repeat(times: number, everyMs: number, fn: (i: number) => void): Promise<void> {
  for (let i = 0; i < times; i++) {
    fn(i);
    if (i < times - 1) await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Running (not a zombie): an orphan's exit is reaped by init whenever init gets to it, not when it exits. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until none of these pids is running; resolves with the time it took. */
export async function waitExited(pids: number[], timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (pids.some(isRunning)) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`still running after ${timeoutMs} ms: ${pids.filter(isRunning).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

/**
 * Established TCP connections on local `port` held by any of `pids` (Linux /proc): a connection the primary
 * has handed to a worker shows here, whether or not the app logs anything.
 */
export function establishedOn(pids: number[], port: number): number {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = parseInt(f[1]!.split(':')[1]!, 16);
      if (local === port && f[3] === '01' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}
