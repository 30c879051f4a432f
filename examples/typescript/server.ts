// A TypeScript app with the SDK, run without a build step: supervise server.ts --node-args "--import tsx"
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
import http, { type IncomingMessage, type ServerResponse } from 'node:http';

import { init, onShutdown, ready, track } from '@supervise/worker-sdk';

const port = Number(process.env.PORT ?? 3000);

function handle(req: IncomingMessage, res: ServerResponse): void {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms'));
  if (ms) console.log(`slow request: ${ms} ms`);
  if (ms) setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), Math.min(ms, 120_000));
  else res.end(`${process.pid}\n`);
}

init({ manualReady: true });
const server = track(http.createServer(handle));
onShutdown(() => console.log(`typescript worker ${process.pid}: shutdown hook ran`));
server.listen(port, process.env.HOST ?? '127.0.0.1', () => ready());
