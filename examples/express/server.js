// An Express app that knows nothing about supervise: `supervise server.js -w 4` drains it losslessly anyway,
// through the drain engine the master preloads.
//   GET /          -> this worker's pid
//   GET /slow?ms=N -> answers after N ms
const express = require('express');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const app = express();
app.get('/', (_req, res) => res.send(`${process.pid}\n`));
app.get('/slow', (req, res) => {
  const ms = Math.min(Number(req.query.ms) || 1000, 120_000);
  setTimeout(() => res.send(`slow ${ms} ${process.pid}\n`), ms);
});

app.listen(port, host);
