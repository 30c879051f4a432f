// A plain node:http app that knows nothing about supervise. Under `supervise` it still drains losslessly:
// the master preloads the drain engine into every worker.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms')) || 1000, 120_000);
    setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), ms);
    return;
  }
  res.end(`${process.pid}\n`);
});

server.listen(port, host);
