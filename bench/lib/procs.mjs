// Process plumbing for the bench: every process the bench starts is registered here and killed by pid at the end,
// even on an error or Ctrl+C. Also: free ports, /proc readers (RSS, open fds, descendants), bounded waits.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => Date.now();

/** Every process we started (pid -> { name, child }) and every pid we learnt of (workers). */
const started = new Map();
const learnt = new Map();

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/**
 * Spawns a process in its own process group (so Ctrl+C on the bench's terminal reaches only the bench, which then
 * stops everything itself, in order) and registers it for the final cleanup.
 */
export function spawnTracked(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  if (child.pid) {
    started.set(child.pid, { name, child });
    child.once('exit', () => started.delete(child.pid));
  }
  return child;
}

/** Remembers a pid that something we started created (a worker), with a marker found in its command line. */
export function learnPid(pid, marker) {
  if (pid > 1 && pid !== process.pid) learnt.set(pid, marker);
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

function statOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** True when the pid exists and is not a zombie. */
export function running(pid) {
  const st = statOf(pid);
  return st !== null && st.state !== 'Z';
}

/** All descendants of pid (children, grandchildren, ...), from /proc. */
export function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = statOf(Number(entry));
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(entry));
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** VmRSS in kB from /proc/<pid>/status (null when the process is gone). */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of pid in clock ticks (1/100 s on Linux), null when gone. */
export function cpuTicks(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of stat (utime, stime) are 11 and 12 after the state field
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

// CPU time of all threads of pid in ns (sum of schedstat over /proc/<pid>/task/<tid>), null when gone.
export function cpuNs(pid) {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {}
    }
    return total;
  } catch {
    return null;
  }
}

/** Number of open file descriptors of pid (null when the process is gone). */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of the pids runs (zombies count as gone), at most ms. Returns the ones still running. */
export async function waitGone(pids, ms) {
  const deadline = now() + ms;
  let left = pids.filter(running);
  while (left.length && now() < deadline) {
    await sleep(50);
    left = left.filter(running);
  }
  return left;
}

/**
 * Stops a process and its whole tree: `sig` to the root, up to graceMs for the tree to leave, then SIGKILL to
 * every pid of the tree (snapshotted before, and again now) that is still there.
 */
export async function killTree(pid, { sig = 'SIGTERM', graceMs = 5000 } = {}) {
  const tree = new Set(descendants(pid));
  signal(pid, sig);
  let left = await waitGone([pid, ...tree], graceMs);
  if (left.length) {
    for (const p of descendants(pid)) tree.add(p);
    left = [pid, ...tree].filter(running);
    for (const p of left) signal(p, 'SIGKILL');
    await waitGone(left, 2000);
  }
  return left;
}

/** Things to undo after every process is gone (temp dirs). */
const afterCleanup = [];
export function onCleanup(fn) {
  afterCleanup.push(fn);
}

/** Kills everything still registered (started or learnt), by pid, then runs the onCleanup functions. */
export async function cleanupAll(reason = 'cleanup') {
  const left = await killAll(reason);
  for (const fn of afterCleanup.splice(0)) {
    try {
      fn();
    } catch {}
  }
  return left;
}

async function killAll(reason) {
  const roots = [...started.keys()].filter(running);
  const extra = new Set();
  for (const pid of roots) for (const d of descendants(pid)) extra.add(d);
  for (const [pid, marker] of learnt) {
    const cl = cmdline(pid);
    if (cl && (!marker || cl.includes(marker)) && running(pid)) {
      extra.add(pid);
      for (const d of descendants(pid)) extra.add(d); // e.g. workers PM2's daemon forked since we last looked
    }
  }
  const all = [...new Set([...roots, ...extra])];
  if (!all.length) return [];
  log(`${reason}: stopping ${all.length} leftover process(es): ${all.join(' ')}`);
  for (const pid of roots) signal(pid, 'SIGTERM');
  let left = await waitGone(all, 3000);
  for (const pid of left) signal(pid, 'SIGKILL');
  left = await waitGone(left, 2000);
  if (left.length) log(`could not kill: ${left.join(' ')}`);
  return left;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Reads a child's stream line by line. */
export function onLines(stream, fn) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
  stream.on('end', () => {
    if (buf) fn(buf);
    buf = '';
  });
}

/** Runs a command to completion (bounded), returning { code, stdout, stderr, ms }. */
export function runCmd(name, cmd, args, { timeoutMs = 60_000, env, cwd } = {}) {
  return new Promise((resolve) => {
    const t0 = now();
    const child = spawnTracked(name, cmd, args, { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[bench] ${name}: timed out after ${timeoutMs} ms, killed`;
      void killTree(child.pid, { sig: 'SIGKILL', graceMs: 0 });
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err), ms: now() - t0 });
    });
    // 'exit', not 'close': a daemon it leaves behind (PM2's) may hold the pipes open.
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      const ms = now() - t0;
      setTimeout(() => resolve({ code: code ?? (sig ? 128 : -1), stdout, stderr, ms }), 50);
    });
  });
}

/** Polls GET http://127.0.0.1:port/ until it answers 200 (bounded). */
export async function waitHttp(port, ms = 20_000) {
  const deadline = now() + ms;
  while (now() < deadline) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setTimeout(1000);
      let data = '';
      sock.on('connect', () => sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data.startsWith('HTTP/1.1 200')));
      sock.on('error', () => resolve(false));
      sock.on('timeout', () => sock.destroy());
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Installs the handlers that guarantee the cleanup: Ctrl+C, SIGTERM, SIGHUP, an uncaught error. `onSignal` runs
 * first (e.g. to print what was measured so far), then everything is killed and the process exits.
 */
export function installCleanup(onSignal = async () => {}) {
  let busy = false;
  const bail = async (why, code) => {
    if (busy) {
      // A second Ctrl+C: kill at once.
      for (const pid of started.keys()) signal(pid, 'SIGKILL');
      process.exit(code);
    }
    busy = true;
    log(`${why}: cleaning up (send it again to kill at once)`);
    try {
      await onSignal(why);
    } catch {}
    await cleanupAll(why);
    process.exit(code);
  };
  process.on('SIGINT', () => void bail('SIGINT', 130));
  process.on('SIGTERM', () => void bail('SIGTERM', 143));
  process.on('SIGHUP', () => void bail('SIGHUP', 129));
  process.on('uncaughtException', (err) => {
    log(`uncaught: ${err?.stack ?? err}`);
    void bail('error', 1);
  });
  process.on('unhandledRejection', (err) => {
    log(`unhandled rejection: ${err?.stack ?? err}`);
    void bail('error', 1);
  });
}
