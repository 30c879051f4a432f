// A Koa app with the worker SDK. Koa's `app.listen()` returns the node:http server: track it, and the drain
// treats it like any other (Connection: close on what is in flight, idle sockets closed by the idle rule).
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
//   GET /ready     -> 200 while serving, 503 while draining
const Koa = require('koa');
const sdk = require('@supervise/worker-sdk');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

sdk.init({ manualReady: true });
const readiness = sdk.readinessHandler();

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/ready') {
    ctx.respond = false; // the SDK's handler writes the node response itself
    readiness(ctx.req, ctx.res);
    return;
  }
  if (ctx.path === '/slow') {
    const ms = Math.min(Number(ctx.query.ms) || 1000, 120_000);
    await new Promise((resolve) => setTimeout(resolve, ms));
    ctx.body = `slow ${ms} ${process.pid}\n`;
    return;
  }
  ctx.body = `${process.pid}\n`;
});

sdk.onShutdown(() => console.log(`koa worker ${process.pid}: shutdown hook ran`));

const server = app.listen(port, host, () => sdk.ready());
sdk.track(server);
