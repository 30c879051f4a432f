import type { LogFormat } from './options.js';
import type { Supervisor } from './supervisor.js';

/**
 * Passes the workers' stdout and stderr through, each line tagged with its worker, to the master's own
 * stdout and stderr: a JSON object per line for log shippers, `[slot pid] line` for a terminal. Independent
 * of --log-level: it is the app's output, not the master's.
 */
export function attachOutput(supervisor: Supervisor, format: LogFormat): void {
  supervisor.on('worker:output', ({ slot, pid }, stream, line) => {
    const out = stream === 'stdout' ? process.stdout : process.stderr;
    if (format === 'json') {
      out.write(`${JSON.stringify({ time: new Date().toISOString(), src: 'worker', slot, pid, stream, msg: line })}\n`);
    } else {
      out.write(`[${slot}:${pid}] ${line}\n`);
    }
  });
}
