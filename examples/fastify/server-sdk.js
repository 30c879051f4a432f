// Fastify with the worker SDK.
//
// The SDK drains fastify's server (it tracks it when it listens), and fastify.close() runs as a shutdown
// hook, once every connection is gone, so that fastify's own onClose hooks (database pools, plugins) run.
// Calling fastify.close() when the drain starts instead would answer every request that still arrives on
// a busy keep-alive connection with 503, and leave idle sockets to keepAliveTimeout.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
//   GET /ready     -> 200 while serving, 503 while draining
const sdk = require('@supervise/worker-sdk');
const fastify = require('fastify')();

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

sdk.init({ manualReady: true });
const readiness = sdk.readinessHandler();

fastify.get('/ready', (req, reply) => {
  reply.hijack();
  readiness(req.raw, reply.raw);
});
fastify.get('/', async () => `${process.pid}\n`);
fastify.get('/slow', async (req) => {
  const ms = Math.min(Number(req.query.ms) || 1000, 120_000);
  console.log(`slow request: ${ms} ms`);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `slow ${ms} ${process.pid}\n`;
});
fastify.addHook('onClose', async () => console.log(`fastify worker ${process.pid}: onClose hook ran`));

sdk.onShutdown(() => fastify.close());

fastify.listen({ port, host }).then(
  () => sdk.ready(),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
