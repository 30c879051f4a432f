// A `ws` WebSocket app with the worker SDK. On a drain the SDK closes every client with 1001 "going away"
// (closeWebSockets), so a browser reconnects at once and lands on a new worker; plain HTTP requests on the
// same server drain as usual.
//   GET /          -> this worker's pid
//   WS  /          -> sends this worker's pid, then echoes
const http = require('node:http');
const { WebSocketServer } = require('ws');
const sdk = require('@supervise/worker-sdk');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((_req, res) => res.end(`${process.pid}\n`));
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => {
  ws.send(String(process.pid));
  ws.on('message', (data) => ws.send(data));
});

sdk.track(server);
sdk.closeWebSockets(wss);

server.listen(port, host);
