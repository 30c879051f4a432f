import type { LogFormat } from '../config/options.js';
import { logOut } from './log-route.js';
import { isoTime } from './iso-time.js';
import type { Supervisor } from '../master/supervisor.js';

/**
 * Passes the workers' stdout and stderr through, each line tagged with its worker, to the master's own
 * stdout and stderr (or the --log-file): a JSON object per line for log shippers, `[slot pid] line` for a terminal. Independent
 * of --log-level: it is the app's output, not the master's.
 */
export function attachOutput(supervisor: Supervisor, format: LogFormat): void {
  supervisor.on('worker:output', ({ slot, pid }, stream, line) => {
    const fd = stream === 'stdout' ? 1 : 2;
    if (format === 'json') {
      logOut(fd, `${JSON.stringify({ time: isoTime(), src: 'worker', slot, pid, stream, msg: line })}\n`);
    } else {
      logOut(fd, `[${slot}:${pid}] ${line}\n`);
    }
  });
}
