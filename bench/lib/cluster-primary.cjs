// The floor of any node:cluster supervisor: a primary with no code of its own. It forks argv[3] workers of the
// app argv[2] and prints "ready" once every one listens; SIGTERM stops them and exits. bench/cost.mjs measures
// its memory and start beside supervise's, so that what supervise adds is told apart from what node:cluster costs.
const cluster = require('node:cluster');

cluster.setupPrimary({ exec: process.argv[2] });
const count = Number(process.argv[3] ?? 1);
let listening = 0;
for (let i = 0; i < count; i++) {
  cluster.fork().once('listening', () => {
    if (++listening === count) process.stdout.write('ready\n');
  });
}
process.once('SIGTERM', () => {
  for (const w of Object.values(cluster.workers)) w?.process.kill('SIGTERM');
  process.exit(0);
});
