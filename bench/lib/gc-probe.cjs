// Diagnostic probe for the soak run (SOAK_GC_PROBE=1): loaded into the supervise master only, with
// `node --expose-gc --require gc-probe.cjs cli.cjs ...` (the master gives its workers their own execArgv, so they do
// not get it). Every SUPERVISE_BENCH_GC_EVERY ms it forces a full GC and appends { t, rssKb, heapUsedKb } to the
// file SUPERVISE_BENCH_GC_PROBE: the heap after a GC tells a leak from garbage V8 has not collected yet.
const { appendFileSync } = require('node:fs');

const file = process.env.SUPERVISE_BENCH_GC_PROBE;
const every = Number(process.env.SUPERVISE_BENCH_GC_EVERY) || 2000;
if (file && typeof globalThis.gc === 'function') {
  setInterval(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), rssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024) })}\n`);
  }, every).unref();
}
