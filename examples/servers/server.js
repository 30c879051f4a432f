// Several servers in one process, every kind the SDK drains, each on its own port (unset = not started):
//   PORT        http           GET / -> pid, GET /slow?ms=N, GET /ready (503 while draining)
//   HTTPS_PORT  https          same routes
//   H2_PORT     http2 over TLS same routes; on a drain its sessions get GOAWAY and open streams finish
//   H2C_PORT    http2 cleartext (h2c), same
//   NET_PORT    net            a line protocol: "hello <pid>" on connect, echoes lines, "bye" on a drain
// The certificate in certs/ is a self-signed one for localhost, for tests and demos only: pass your own with
// TLS_KEY and TLS_CERT.
const fs = require('node:fs');
const http = require('node:http');
const http2 = require('node:http2');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const sdk = require('@supervise/worker-sdk');

const host = process.env.HOST || '127.0.0.1';
const tls = () => ({
  key: fs.readFileSync(process.env.TLS_KEY || path.join(__dirname, 'certs/localhost-key.pem')),
  cert: fs.readFileSync(process.env.TLS_CERT || path.join(__dirname, 'certs/localhost-cert.pem')),
});

sdk.init({ manualReady: true });
const readiness = sdk.readinessHandler();

function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/ready') return readiness(req, res);
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms')) || 1000, 120_000);
    console.log(`slow ${ms} started (HTTP/${req.httpVersion})`);
    setTimeout(() => res.end(`slow ${ms} ${process.pid}\n`), ms);
    return;
  }
  res.end(`${process.pid}\n`);
}

const lineClients = new Set();
function lineProtocol(socket) {
  lineClients.add(socket);
  socket.on('close', () => lineClients.delete(socket));
  socket.on('error', () => {});
  socket.setEncoding('utf8');
  socket.write(`hello ${process.pid}\n`);
  socket.on('data', (chunk) => socket.write(chunk));
}
// Only the app knows how to end its own protocol cleanly: say goodbye, then close.
sdk.onDrain(() => {
  for (const socket of lineClients) socket.end('bye\n');
});

const servers = [];
const start = (envName, create) => {
  const port = process.env[envName];
  if (!port) return;
  const server = sdk.track(create());
  servers.push(new Promise((resolve) => server.listen(Number(port), host, resolve)));
};
start('PORT', () => http.createServer(handle));
start('HTTPS_PORT', () => https.createServer(tls(), handle));
start('H2_PORT', () => http2.createSecureServer(tls(), handle));
start('H2C_PORT', () => http2.createServer(handle));
start('NET_PORT', () => net.createServer(lineProtocol));

Promise.all(servers).then(() => {
  sdk.ready();
  console.log(`servers ready (${servers.length})`);
});
