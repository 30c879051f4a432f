// A server-sent events app with no supervise code: every stream writes an event every 100 ms, forever.
// Under supervise the drain ends each stream cleanly, and the client's EventSource reconnects to a new worker
// with Last-Event-ID, which this app answers in its first event.
//   GET /        -> this worker's pid
//   GET /events  -> text/event-stream: "hello <pid> <last-event-id>", then "tick <pid> <n>" with id: n
const http = require('node:http');

const server = http.createServer((req, res) => {
  if (req.url !== '/events') return res.end(`${process.pid}\n`);
  const last = req.headers['last-event-id'] || '-';
  let n = Number(req.headers['last-event-id']) || 0;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.write(`data: hello ${process.pid} ${last}\n\n`);
  const timer = setInterval(() => res.write(`id: ${++n}\ndata: tick ${process.pid} ${n}\n\n`), 100);
  req.on('close', () => clearInterval(timer));
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
