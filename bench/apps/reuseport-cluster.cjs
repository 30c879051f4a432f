// A bare node:cluster whose workers each bind their own SO_REUSEPORT socket (node >= 22.12): the kernel hashes
// each new connection to one of them, and the primary takes no part. What `--accept reuseport` would measure if
// supervise offered it (it does not: see docs/connections.md).
//   node reuseport-cluster.cjs -w N   (PORT, HOST)   GET / -> the worker's pid; prints "ready" once all listen
const cluster = require('node:cluster');
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

if (cluster.isPrimary) {
  const n = Number(process.argv[process.argv.indexOf('-w') + 1]) || 2;
  let listening = 0;
  for (let i = 0; i < n; i++) {
    cluster.fork().on('message', (msg) => {
      if (msg === 'listening' && ++listening === n) console.log('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  });
} else {
  http
    .createServer((req, res) => res.end(`${process.pid}\n`))
    .listen({ port, host, reusePort: true }, () => process.send('listening'));
}
