import { effective, optionsInEffect } from '../../config/effective.js';
import type { Supervisor } from '../../master/supervisor.js';
import type { ConfigReply } from '../reply.js';

/** `config`: the options the master runs with now, each with where it came from (after scales and reloads). */
export function configReply(supervisor: Supervisor): ConfigReply {
  const { config, workers } = effective();
  const scaled = workers?.scaled(supervisor.options.workers) ?? false;
  return {
    ok: true,
    master: { pid: process.pid, cwd: supervisor.options.cwd },
    file: config.file,
    app: config.app,
    ignored: config.ignored,
    options: optionsInEffect(supervisor.options, config, scaled),
  };
}
