// An ES module app without the SDK: the master's preload (loaded with --require, before the ESM loader)
// still drains it.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
import http from 'node:http';

const port = Number(process.env.PORT || 3000);

http
  .createServer((req, res) => {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms'));
    if (ms) setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), Math.min(ms, 120_000));
    else res.end(`${process.pid}\n`);
  })
  .listen(port, process.env.HOST || '127.0.0.1');
