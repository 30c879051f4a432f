// The plain example app (examples/http-basic/server.js) as PM2's docs ask an app to be written for
// `pm2 start -i N --wait-ready` and `pm2 reload`: it sends 'ready' after listen(), and on SIGINT it closes its
// server and exits once close() completes (PM2 SIGKILLs it at --kill-timeout otherwise).
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

server.listen(port, host, () => {
  // Read by the bench from PM2's log: the app's boot time (process start to listening).
  console.log(JSON.stringify({ event: 'app.ready', pid: process.pid, bootMs: Math.round(process.uptime() * 1000) }));
  if (process.send) process.send('ready');
});

process.on('SIGINT', () => {
  server.close((err) => process.exit(err ? 1 : 0));
});
