import type { StatusReply } from '../../control/reply.js';
import type { BakeStatus } from '../../rollout/canary.js';

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatBytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Columns padded to their widest cell, two spaces apart; the columns from `rightFrom` on are right-aligned
 * (numbers). For `supervise status`, `top` and `list`.
 */
export function formatTable(rows: readonly string[][], rightFrom = Infinity): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c >= rightFrom ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** What `supervise status` prints: a line about the master, then one row per worker. */
/** The bake in progress: the canary's figures beside the old generation's, over the same interval. */
function formatBake(b: BakeStatus): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const p99 = (ms: number | null) => (ms === null ? '-' : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`);
  const l = b.limits;
  const rows = [
    ['', 'REQUESTS', 'ERRORS', 'P99'],
    ['canary', String(b.canary.requests), pct(b.canary.errorRate), p99(b.canary.p99Ms)],
    ['old', String(b.old.requests), pct(b.old.errorRate), p99(b.old.p99Ms)],
  ];
  return (
    `canary of generation ${b.generation} (pid ${b.pids.join(', ')}): ${b.stage}, ${formatDuration(b.elapsedMs)} of at most ` +
    `${formatDuration(b.timeMs)}, ${b.canary.requests}/${b.requestsWanted} requests; fails above ` +
    `${pct(l.maxErrorRate)} errors (or ${l.maxErrorRatio}x old) or ${l.maxLatencyRatio}x old p99, needs ${l.minRequests}\n` +
    `${formatTable(rows)}\n`
  );
}

export function formatStatus(s: StatusReply): string {
  const m = s.master;
  const head =
    `master ${m.pid} ${m.phase}${m.rollout ? ' (rollout in progress)' : ''}: ${m.ready}/${m.workers} ready, ` +
    `generation ${m.generation}, up ${formatDuration(m.uptimeMs)}, RSS ${formatBytes(m.rssBytes)}, node ${m.node}\n` +
    `script ${m.script}, connections: ${m.accept}\n` +
    `directory ${m.cwd}${m.release && m.release !== m.cwd ? ` -> ${m.release}` : m.release ? '' : ' (gone)'}\n`;
  const rows = [
    ['SLOT', 'PID', 'STATE', 'GEN', 'NODE', 'UPTIME', 'RESTARTS', 'RSS', 'IN-FLIGHT', 'RELEASE'],
    ...s.workers.map((w) => [
      String(w.slot),
      String(w.pid),
      w.state,
      String(w.generation),
      w.node ?? '-',
      formatDuration(w.uptimeMs),
      String(w.restarts),
      formatBytes(w.rssBytes),
      String(w.inFlight),
      w.release ?? '-',
    ]),
  ];
  return `${head}${s.canary ? formatBake(s.canary) : ''}\n${formatTable(rows)}\n`;
}
