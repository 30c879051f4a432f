// A Fastify app that knows nothing about supervise: the master's preloaded drain engine drains it.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
const fastify = require('fastify')();

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

fastify.get('/', async () => `${process.pid}\n`);
fastify.get('/slow', async (req) => {
  const ms = Math.min(Number(req.query.ms) || 1000, 120_000);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `slow ${ms} ${process.pid}\n`;
});

fastify.listen({ port, host }).catch((err) => {
  console.error(err);
  process.exit(1);
});
