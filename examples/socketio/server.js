// A socket.io 4 app written the way socket.io's docs show it, with no supervise code.
//   GET /          -> this worker's pid
//   event 'whoami' -> acks with this worker's pid
//   on connect     -> emits 'hello' with this worker's pid
const { createServer } = require('node:http');
const { Server } = require('socket.io');

// socket.io answers its own path (/socket.io/) before this handler runs.
const httpServer = createServer((_req, res) => res.end(`${process.pid}\n`));
const io = new Server(httpServer);

io.on('connection', (socket) => {
  socket.emit('hello', process.pid);
  socket.on('whoami', (ack) => ack(process.pid));
});

httpServer.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
