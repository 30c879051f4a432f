import type { StatusReply } from '../../control/reply.js';
import { formatBytes, formatDuration, formatTable } from './status-table.js';

/** One screen of `supervise top`: the master, a rollout's progress, then a row per worker. Pure: tested alone. */
export function formatTop(s: StatusReply, now = new Date()): string {
  const m = s.master;
  const clock = now.toTimeString().slice(0, 8);
  const lines = [
    `supervise top  ${clock}   master ${m.pid} ${m.phase}, up ${formatDuration(m.uptimeMs)}, RSS ${formatBytes(m.rssBytes)}, node ${m.node}`,
    `${m.ready}/${m.workers} ready, generation ${m.generation}, connections: ${m.accept}   ${m.script}`,
  ];
  if (m.rollout) {
    const renewed = s.workers.filter((w) => w.generation === m.generation && w.state === 'ready').length;
    const draining = s.workers.filter((w) => w.state === 'draining').length;
    lines.push(
      `rollout to generation ${m.generation}: ${renewed} of ${m.workers} slots renewed${draining ? `, ${draining} draining` : ''}`,
    );
  } else {
    const draining = s.workers.filter((w) => w.state === 'draining').length;
    lines.push(draining ? `${draining} old worker${draining === 1 ? '' : 's'} draining` : '');
  }
  const rows = [
    ['SLOT', 'PID', 'STATE', 'GEN', 'UPTIME', 'CPU%', 'RSS', 'HEAP', 'REQ/S', 'IN-FLIGHT', 'LOOP', 'LAG'],
    ...s.workers.map((w) => {
      const load = w.load;
      return [
        String(w.slot),
        String(w.pid),
        w.state,
        String(w.generation),
        formatDuration(w.uptimeMs),
        load ? load.cpuPercent.toFixed(1) : '-',
        formatBytes(w.rssBytes ?? load?.rssBytes ?? null),
        formatBytes(load?.heapUsedBytes ?? null),
        load ? formatRate(load.requestsPerSecond) : '-',
        String(w.inFlight),
        load ? `${Math.round(load.elu * 100)}%` : '-',
        load ? `${Math.round(load.lagMs)} ms` : '-',
      ];
    }),
  ];
  // The figures, from CPU% on, are right-aligned.
  return [...lines, '', formatTable(rows, 5), '', 'q: quit'].join('\n');
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}
