import http from 'node:http';

import { SuperviseError } from '../errors.js';
import type { Supervisor } from '../master/supervisor.js';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  phase: string;
  ready: number;
  workers: number;
  generation: number;
  rollout: boolean;
}

/**
 * Healthy means: running, and every slot has a ready worker. A rollout keeps it healthy (an old worker
 * leaves only after its replacement is ready); a crash, a scale-up in progress, the boot and the stop do not.
 */
export function healthOf(supervisor: Supervisor): HealthReport {
  const ready = supervisor.readyCount;
  const workers = supervisor.options.workers;
  const ok = supervisor.phase === 'running' && ready >= workers;
  return {
    status: ok ? 'ok' : 'unavailable',
    phase: supervisor.phase,
    ready,
    workers,
    generation: supervisor.generation,
    rollout: supervisor.rolloutRunning,
  };
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * GET /health (or /): 200 or 503 with a JSON report, for load balancers and readiness probes.
 * GET /live: 200 while the master answers at all, for liveness probes.
 * GET /metrics: the Prometheus exposition (see metrics.ts).
 */
/** The Prometheus exposition the health port serves at /metrics. */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export async function serveHealth(
  supervisor: Supervisor,
  port: number,
  host = '127.0.0.1',
  metrics: MetricsSource | null = null,
): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/metrics' && metrics) {
      metrics.text().then(
        (text) => {
          res.writeHead(200, {
            'content-type': metrics.contentType,
            'content-length': Buffer.byteLength(text),
            'cache-control': 'no-store',
          });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`);
        },
      );
      return;
    }
    let code: number;
    let body: object;
    if (url === '/health' || url === '/') {
      const report = healthOf(supervisor);
      code = report.status === 'ok' ? 200 : 503;
      body = report;
    } else if (url === '/live') {
      code = 200;
      body = { status: 'ok', phase: supervisor.phase };
    } else {
      code = 404;
      body = { error: `not found: try /health, /live${metrics ? ' or /metrics' : ''}` };
    }
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new SuperviseError('ERR_PORT_IN_USE', `--health-port ${port} is already in use (EADDRINUSE)`)
          : new SuperviseError(
              'ERR_USAGE',
              `--health-host ${host} --health-port ${port}: cannot listen: ${err.code ?? err.message}`,
            ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
