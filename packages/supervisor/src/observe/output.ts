import type { LogFormat } from '../config/options.js';
import { writeOut } from './stdio.js';
import type { Supervisor } from '../master/supervisor.js';

/**
 * Passes the workers' stdout and stderr through, each line tagged with its worker, to the master's own
 * stdout and stderr: a JSON object per line for log shippers, `[slot pid] line` for a terminal. Independent
 * of --log-level: it is the app's output, not the master's.
 */
export function attachOutput(supervisor: Supervisor, format: LogFormat): void {
  supervisor.on('worker:output', ({ slot, pid }, stream, line) => {
    const fd = stream === 'stdout' ? 1 : 2;
    if (format === 'json') {
      writeOut(
        fd,
        `${JSON.stringify({ time: new Date().toISOString(), src: 'worker', slot, pid, stream, msg: line })}\n`,
      );
    } else {
      writeOut(fd, `[${slot}:${pid}] ${line}\n`);
    }
  });
}
