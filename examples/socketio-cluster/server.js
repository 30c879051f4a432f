// A socket.io 4 app that broadcasts across a cluster with @socket.io/cluster-adapter, written the way the
// adapter's docs show a worker (the primary's setupPrimary() is supervise's job). No supervise code.
//   event 'whoami'        -> acks with this worker's pid
//   event 'shout' (text)  -> every client of every worker gets 'news' { text, from: pid }
//   event 'shout-binary'  -> every client gets 'news-binary' with the text as bytes (a Buffer: across workers
//                            it needs supervise --ipc-serialization advanced, as the adapter's docs say)
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/cluster-adapter');

const httpServer = createServer((_req, res) => res.end(`${process.pid}\n`));
const io = new Server(httpServer);
io.adapter(createAdapter());

io.on('connection', (socket) => {
  socket.on('whoami', (ack) => ack(process.pid));
  socket.on('shout', (text) => io.emit('news', { text, from: process.pid }));
  socket.on('shout-binary', (text) => io.emit('news-binary', Buffer.from(String(text))));
});

httpServer.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
