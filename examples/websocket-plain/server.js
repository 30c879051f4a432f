// A `ws` echo app written the way the ws README shows it, with no supervise code at all. Under supervise the
// preloaded drain engine closes every client with 1012 on a restart and 1001 on a stop.
//   GET /  -> this worker's pid
//   WS  /  -> sends this worker's pid, then echoes every message
const http = require('node:http');
const { WebSocketServer } = require('ws');

const server = http.createServer((_req, res) => res.end(`${process.pid}\n`));
const wss = new WebSocketServer({ server, perMessageDeflate: process.env.WS_DEFLATE === '1' });

wss.on('connection', (ws) => {
  ws.on('error', console.error);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.send(String(process.pid));
});

server.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
