// An HTTP/2 cleartext (h2c) app with no supervise code, as gRPC-style services between backends run.
// Under supervise every session gets GOAWAY when its worker drains: open streams finish, new ones go to a new
// session, on a new worker.
//   GET /           -> this worker's pid
//   GET /slow?ms=N  -> the pid after N ms
const http2 = require('node:http2');

const server = http2.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const ms = url.pathname === '/slow' ? Math.min(Number(url.searchParams.get('ms')) || 1000, 60_000) : 0;
  setTimeout(() => res.end(`${process.pid}\n`), ms);
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
