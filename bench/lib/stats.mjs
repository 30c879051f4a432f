// Small statistics helpers shared by the load clients, the bench and the soak run.

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Grace after a reload's end during which requests still count as "during the reload". */
export const RELOAD_GRACE_MS = 500;

/**
 * Turns raw per-request records into the figures the bench prints.
 * rec: { start: number[], lat: number[], status: number[] (0 = failed, no response), errAt: number[] }
 * windows: [[startMs, endMs], ...] of the reloads (epoch ms; errAt is when a request failed); warmupUntil: requests that started before are
 * left out of the steady figures; t0/t1: when the load ran.
 */
export function analyze(rec, { windows = [], warmupUntil = 0, t0, t1 }) {
  const inWindow = (t, end = t) => {
    for (let w = 0; w < windows.length; w++) {
      if (end >= windows[w][0] && t <= windows[w][1] + RELOAD_GRACE_MS) return w;
    }
    return -1;
  };
  const steady = [];
  const reload = [];
  let ok = 0;
  let non2xx = 0;
  let okSteady = 0;
  for (let i = 0; i < rec.start.length; i++) {
    const st = rec.status[i];
    if (st === 0) continue; // failures are counted apart
    if (st >= 200 && st < 300) ok++;
    else non2xx++;
    // A request that overlaps a reload (+ grace) counts as "during the reload".
    const w = inWindow(rec.start[i], rec.start[i] + rec.lat[i]);
    if (w >= 0) reload.push(rec.lat[i]);
    else if (rec.start[i] >= warmupUntil) {
      steady.push(rec.lat[i]);
      if (st >= 200 && st < 300) okSteady++;
    }
  }
  steady.sort((a, b) => a - b);
  reload.sort((a, b) => a - b);

  // Time spent in steady state (after warm-up, outside the reload windows), for a steady throughput.
  let steadyMs = Math.max(0, t1 - Math.max(t0, warmupUntil));
  for (const [a, b] of windows) {
    const lo = Math.max(a, warmupUntil, t0);
    const hi = Math.min(b + RELOAD_GRACE_MS, t1);
    if (hi > lo) steadyMs -= hi - lo;
  }

  // Where the failures fell, relative to each reload's start.
  const perWindow = windows.map(() => ({ n: 0, firstMs: null, lastMs: null }));
  let outside = 0;
  const outsideAt = [];
  for (const t of rec.errAt) {
    const w = inWindow(t);
    if (w < 0) {
      outside++;
      if (outsideAt.length < 20) outsideAt.push(Math.round(t - t0));
      continue;
    }
    const pw = perWindow[w];
    const rel = Math.round(t - windows[w][0]);
    pw.n++;
    pw.firstMs = pw.firstMs === null ? rel : Math.min(pw.firstMs, rel);
    pw.lastMs = pw.lastMs === null ? rel : Math.max(pw.lastMs, rel);
  }

  const durationS = Math.max(0.001, (t1 - t0) / 1000);
  const p99s = percentile(steady, 99);
  const p99r = percentile(reload, 99);
  return {
    durationS: round(durationS, 2),
    ok,
    non2xx,
    rps: Math.round(ok / durationS),
    steadyRps: steadyMs > 0 ? Math.round(okSteady / (steadyMs / 1000)) : null,
    steady: { n: steady.length, p50: round(percentile(steady, 50)), p99: round(p99s) },
    reload: { n: reload.length, p50: round(percentile(reload, 50)), p99: round(p99r) },
    p99Ratio: p99s && p99r !== null ? round(p99r / p99s, 2) : null,
    failuresPerReload: perWindow,
    failuresOutsideReloads: outside,
    failuresOutsideAtMs: outsideAt,
  };
}

export function round(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Renders rows (arrays of strings) as an aligned text table with a header rule. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}
