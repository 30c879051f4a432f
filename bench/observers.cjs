// The drain engine's cost per request in isolation, without a network or a client: publish what node publishes
// for one keep-alive request (http.server.request.start, http.server.response.finish) on a tracked connection,
// with the engine subscribed and without. Deterministic enough to quote on a noisy machine, unlike req/s.
//   node bench/observers.cjs [iterations]
const dc = require('node:diagnostics_channel');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const N = Number(process.argv[2]) || 3_000_000;
const start = dc.channel('http.server.request.start');
const finish = dc.channel('http.server.response.finish');

let engine = null;

function run() {
  const server = http.createServer();
  if (engine) engine.track(server);
  const socket = new net.Socket();
  socket.server = server;
  dc.channel('net.server.socket').publish({ socket });
  const request = {};
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    // node allocates the message objects only when there are subscribers, as here
    const response = { headersSent: true };
    if (start.hasSubscribers) start.publish({ request, response, socket, server });
    if (finish.hasSubscribers) finish.publish({ request, response, socket, server });
  }
  return ((performance.now() - t0) * 1e6) / N;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = Array.from({ length: 5 }, run);
engine = require(path.join(__dirname, '../packages/worker-sdk/dist/runtime.js')).getRuntime().engine;
engine.enable();
const on = Array.from({ length: 5 }, run);

const cost = median(on) - median(off);
console.log(`engine observers: ${median(on).toFixed(0)} ns per request with the engine, ${median(off).toFixed(0)} ns without (median of 5 x ${N})`);
console.log(`cost per request: ${cost.toFixed(0)} ns = ${((cost / 40_000) * 100).toFixed(2)}% of a 40 us request, ${((cost / 65_000) * 100).toFixed(2)}% of a 65 us one`);
