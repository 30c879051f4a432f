import cluster from 'node:cluster';

import { acceptStrategy } from '../accept/index.js';
import type { SupervisorOptions } from '../config/options.js';
import { preloadPath } from './preload-copy.js';

/**
 * node:cluster's primary, set up once per process before the first fork: the accept strategy's scheduler
 * (node reads it at the first setupPrimary()/fork()), the app as every worker's script, the drain engine
 * preloaded ahead of the app's own code, and the workers' output piped to the master. The script and the
 * directory stay logical (`current/app.js`): node:cluster hands them to every fork, where the kernel and node's
 * loader resolve them again, so a fork after a deploy's symlink switch runs the new release.
 */
export function setupCluster(o: SupervisorOptions): void {
  cluster.schedulingPolicy = acceptStrategy(o.accept).scheduler === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  cluster.setupPrimary({
    exec: o.script,
    args: o.args,
    execArgv: [...o.nodeArgs, '--require', preloadPath()],
    silent: true,
    cwd: o.cwd,
    serialization: o.ipcSerialization,
  });
}
