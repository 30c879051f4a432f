// The app of the long-lived bench, with no supervise code: plain HTTP, a `ws` echo server and server-sent
// events on one port, as a dashboard or chat backend serves them.
//   GET /        -> this worker's pid
//   GET /events  -> text/event-stream, an event every 200 ms, resumes from Last-Event-ID
//   WS  /        -> sends this worker's pid, then echoes
// With PM2=1 it also follows PM2's docs for `pm2 reload --wait-ready`: 'ready' after listen, and on SIGINT
// server.close() and exit when it completes (PM2 SIGKILLs it at --kill-timeout otherwise).
const http = require('node:http');
const { WebSocketServer } = require('ws');

const server = http.createServer((req, res) => {
  if (req.url !== '/events') return res.end(`${process.pid}\n`);
  let n = Number(req.headers['last-event-id']) || 0;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.write(`data: hello ${process.pid}\n\n`);
  const timer = setInterval(() => res.write(`id: ${++n}\ndata: ${n}\n\n`), 200);
  req.on('close', () => clearInterval(timer));
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => ws.send(data));
  ws.send(String(process.pid));
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1', () => {
  if (process.env.PM2 === '1') {
    console.log(JSON.stringify({ event: 'app.ready', pid: process.pid, bootMs: Math.round(process.uptime() * 1000) }));
    if (process.send) process.send('ready');
  }
});

if (process.env.PM2 === '1') process.on('SIGINT', () => server.close(() => process.exit(0)));
