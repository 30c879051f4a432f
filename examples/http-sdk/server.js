// The same app with the worker SDK: it says when it is ready, runs a shutdown hook, and answers a
// readiness probe with 503 while draining.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
//   GET /ready     -> 200 while serving, 503 while draining
const http = require('node:http');
const sdk = require('@supervise/worker-sdk');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

// Declared before listen(): the master waits for ready() before it retires an old worker.
sdk.init({ manualReady: true });
const readiness = sdk.readinessHandler();

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/ready') return readiness(req, res);
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms')) || 1000, 120_000);
    setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), ms);
    return;
  }
  res.end(`${process.pid}\n`);
});

sdk.track(server);
sdk.onShutdown(() => {
  console.log(`worker ${process.pid}: shutdown hook ran`);
});

server.listen(port, host, () => sdk.ready());
