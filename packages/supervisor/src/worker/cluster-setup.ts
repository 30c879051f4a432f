import cluster from 'node:cluster';
import { createRequire } from 'node:module';

import { acceptStrategy } from '../accept/index.js';
import type { SupervisorOptions } from '../config/options.js';

/**
 * node:cluster's primary, set up once per process before the first fork: the accept strategy's scheduler
 * (node reads it at the first setupPrimary()/fork()), the app as every worker's script, the drain engine
 * preloaded ahead of the app's own code, and the workers' output piped to the master.
 */
export function setupCluster(o: SupervisorOptions): void {
  cluster.schedulingPolicy = acceptStrategy(o.accept).scheduler === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  cluster.setupPrimary({
    exec: o.script,
    args: o.args,
    execArgv: [...o.nodeArgs, '--require', createRequire(import.meta.url).resolve('@supervise/worker-sdk/preload')],
    silent: true,
    cwd: o.cwd,
    serialization: o.ipcSerialization,
  });
}
