// An ES module app with the SDK (a CommonJS package, imported by name).
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
import http from 'node:http';

import { onShutdown, ready, track } from '@supervise/worker-sdk';

const port = Number(process.env.PORT || 3000);

const server = http.createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'));
  if (ms) console.log(`slow request: ${ms} ms`);
  if (ms) setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), Math.min(ms, 120_000));
  else res.end(`${process.pid}\n`);
});
track(server);
onShutdown(() => console.log(`esm worker ${process.pid}: shutdown hook ran`));
server.listen(port, process.env.HOST || '127.0.0.1', () => ready());
