// A plain http server for bench:scale's memory part, with the drain engine enabled (ENGINE=1) or not: on each
// 'measure' message from the parent it forces a GC and answers its heap and RSS.
const http = require('node:http');
const path = require('node:path');

if (process.env.ENGINE === '1') {
  const { DrainEngine } = require(path.join(__dirname, '../../packages/worker-sdk/dist/drain/engine.js'));
  new DrainEngine().enable();
}
const server = http.createServer((_req, res) => res.end('ok\n'));
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send('listening'));
process.on('message', () => {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  process.send({ heapUsed: m.heapUsed, rss: m.rss });
});
process.on('disconnect', () => process.exit(0));
