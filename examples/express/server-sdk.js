// The same Express app with the worker SDK: readiness gated on warm-up, a probe that answers 503 while
// draining, and a shutdown hook that runs once every connection is gone.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
//   GET /ready     -> 200 while serving, 503 while draining
const express = require('express');
const sdk = require('@supervise/worker-sdk');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

sdk.init({ manualReady: true });

const app = express();
app.get('/ready', sdk.readinessHandler());
app.get('/', (_req, res) => res.send(`${process.pid}\n`));
app.get('/slow', (req, res) => {
  const ms = Math.min(Number(req.query.ms) || 1000, 120_000);
  console.log(`slow request: ${ms} ms`);
  setTimeout(() => res.send(`slow ${ms} ${process.pid}\n`), ms);
});

sdk.onShutdown(() => console.log(`express worker ${process.pid}: shutdown hook ran`));

const server = app.listen(port, host, () => sdk.ready());
sdk.track(server);
