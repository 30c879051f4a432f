// An app that keeps its own prom-client metrics in the default registry and serves them itself, as
// prom-client's docs show it. No supervise code: the master's /metrics sums them over the workers.
//   GET /         -> this worker's pid (counted in app_requests_total)
//   GET /metrics  -> this one worker's metrics (the app's own endpoint)
const http = require('node:http');
const client = require('prom-client');

client.collectDefaultMetrics();
const requests = new client.Counter({ name: 'app_requests_total', help: 'Requests this app answered.', labelNames: ['route'] });

http
  .createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', client.register.contentType);
      res.end(await client.register.metrics());
      return;
    }
    requests.inc({ route: '/' });
    res.end(`${process.pid}\n`);
  })
  .listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
