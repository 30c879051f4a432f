// A naive node:cluster master, the baseline of the bench: on SIGHUP it kills every worker and forks new ones at
// once (no drain, no overlap); on SIGTERM/SIGINT it kills the workers and exits. Logs JSON lines with an `event`
// field on stdout, like supervise: master.ready, worker.fork, worker.ready (listening), reload.start, reload.end
// (durationMs), worker.exit.
//   node naive-master.mjs <app.js> [-w N]
import cluster from 'node:cluster';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const script = args[0];
const wi = args.findIndex((a) => a === '-w' || a === '--workers');
const n = wi >= 0 ? Number(args[wi + 1]) : 4;
if (!script || !(n > 0)) {
  process.stderr.write('usage: naive-master.mjs <app.js> [-w N]\n');
  process.exit(2);
}

const log = (fields) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...fields })}\n`);

cluster.setupPrimary({ exec: resolve(script) });

let current = new Set();
let stopping = false;
let reloading = null;

function fork() {
  const w = cluster.fork();
  current.add(w);
  log({ event: 'worker.fork', worker: w.id, wpid: w.process.pid });
  w.on('listening', () => {
    log({ event: 'worker.ready', worker: w.id, wpid: w.process.pid });
    reloading?.check();
  });
  w.on('exit', (code, signal) => {
    log({ event: 'worker.exit', worker: w.id, wpid: w.process.pid, code, signal });
    const wasCurrent = current.delete(w);
    // A crash of a serving worker: replace it (a killed old worker is no longer in `current`).
    if (wasCurrent && !stopping) fork();
  });
  return w;
}

function allListening(set) {
  return set.size === n && [...set].every((w) => w.state === 'listening');
}

function reload() {
  if (stopping || reloading) return;
  const t0 = Date.now();
  log({ event: 'reload.start' });
  const old = current;
  current = new Set();
  for (const w of old) w.process.kill('SIGTERM');
  for (let i = 0; i < n; i++) fork();
  reloading = {
    check() {
      if (allListening(current)) {
        reloading = null;
        log({ event: 'reload.end', outcome: 'done', durationMs: Date.now() - t0 });
      }
    },
  };
}

function stop() {
  if (stopping) return;
  stopping = true;
  log({ event: 'master.stopping' });
  const all = Object.values(cluster.workers);
  for (const w of all) w.process.kill('SIGTERM');
  const done = () => {
    if (Object.keys(cluster.workers).length === 0) {
      log({ event: 'master.stopped' });
      process.exit(0);
    }
  };
  cluster.on('exit', done);
  done();
  setTimeout(() => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
    setTimeout(() => process.exit(1), 500);
  }, 5000).unref();
}

process.on('SIGHUP', reload);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const t0 = Date.now();
for (let i = 0; i < n; i++) fork();
const startup = setInterval(() => {
  if (allListening(current)) {
    clearInterval(startup);
    log({ event: 'master.ready', workers: n, durationMs: Date.now() - t0 });
  }
}, 10);
