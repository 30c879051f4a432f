// The node:cluster floor for the cost section: cluster-primary.cjs (a primary with no code of its own) started
// the way supervise is, for its memory (-w 1, idle) and its start (-w 4, spawn to every worker listening).
import { EXAMPLE_BASIC } from './contenders.mjs';
import { freePort, killTree, now, spawnTracked } from './procs.mjs';

const PRIMARY = new URL('./cluster-primary.cjs', import.meta.url).pathname;

/** Starts the primary with `workers` workers; resolves once it printed ready (bounded), with its pid. */
export async function startClusterFloor(workers, { timeoutMs = 30_000 } = {}) {
  const port = await freePort();
  const t0 = now();
  const child = spawnTracked('cost-cluster-floor', process.execPath, [PRIMARY, EXAMPLE_BASIC, String(workers)], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the node:cluster floor was not ready in ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the node:cluster floor exited ${code} before ready`));
    });
  });
  return { pid: child.pid, readyMs: now() - t0, stop: () => killTree(child.pid, { graceMs: 2000 }) };
}

/** -w 4: spawn to every worker listening. */
export async function clusterFloorStart() {
  const floor = await startClusterFloor(4);
  try {
    return floor.readyMs;
  } finally {
    await floor.stop();
  }
}
